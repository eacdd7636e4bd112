// Bootstrap: a configured container the target lacks is created from the source's inspect, with the
// target's overrides (config `create:`), when promote --create or `create:` allows it. Reads only here:
// what the target has (networks, volumes, its env file's names) and the source's networks; the pure
// planning is core/bootstrap.ts, the steps the run target's.
import type { DaemonContext } from '../adapters/inspect.ts';
import { parseJsonArray } from '../adapters/inspect.ts';
import type { SshHost } from '../adapters/ssh.ts';
import { type NetworkLike, planBootstrapSpec } from '../core/bootstrap.ts';
import { buildBootstrapObserveScript, buildMissingFilesScript, parseBootstrapObserveOutput } from '../core/bootstrap-observe.ts';
import { composeFileEntry } from '../core/compose.ts';
import type { ContainerConfig } from '../core/config.ts';
import { overridesFor } from '../core/config-create.ts';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import type { BootstrapInput, ImageLike, InspectLike } from '../core/plan.ts';
import type { Ports } from './ports.ts';
import { bootstrapContainer } from './rebuild.ts';
import { registerSecrets } from './secrets.ts';

/** The configured containers a release would create: missing on the target, present on the source, and allowed (--create or create:). */
export function toCreate(containers: readonly ContainerConfig[], src: Map<string, InspectLike | undefined>, dst: Map<string, InspectLike | undefined>, create: boolean): ContainerConfig[] {
  return containers.filter((c) => !dst.get(c.name) && src.get(c.name) && (create || c.createAllowed));
}

/** A compose-labelled source container: the target needs the project's files, and releaseflow does not create compose containers itself. */
async function refuseCompose(to: SshHost, from: string, c: ContainerConfig, source: InspectLike): Promise<void> {
  const l = source.Config.Labels ?? {};
  const project = l['com.docker.compose.project'];
  if (!project) return;
  const dir = l['com.docker.compose.project.working_dir'] ?? '';
  const files = (l['com.docker.compose.project.config_files'] ?? '').split(',').filter(Boolean).map((f) => (f.startsWith('/') || !dir ? f : `${dir}/${composeFileEntry(f, dir)}`));
  const missing = files.length ? (await to.run({ script: buildMissingFilesScript(files) })).stdout.split('\n').filter(Boolean) : [];
  const service = l['com.docker.compose.service'] ?? c.name;
  if (missing.length || files.length === 0) {
    throw new ReleaseflowError(`cannot create ${c.name} on ${to.name}: on ${from} it runs in compose project ${project}, and creating it needs the project's files on ${to.name}: ${missing.length ? `missing ${missing.join(', ')}` : 'the labels name none'}`, {
      host: to.name,
      fix: `copy the project's compose files (and its .env) to ${dir || 'the same folder'} on ${to.name}, start it there once (docker compose -p ${project} up -d ${service}); releaseflow does not create the files. Then releaseflow promote releases it`,
    }, ExitCode.usage);
  }
  throw new ReleaseflowError(`cannot create ${c.name} on ${to.name}: on ${from} it runs in compose project ${project}; the project's files are on ${to.name}, and compose, not releaseflow, creates its containers`, {
    host: to.name,
    fix: `on ${to.name}: cd ${dir || '<project folder>'} && docker compose -p ${project} up -d ${service}; then releaseflow promote releases it through the project`,
  }, ExitCode.usage);
}

/** The source's networks of these containers, by name (absent ones missing from the map). */
async function sourceNetworks(from: SshHost, sources: readonly InspectLike[]): Promise<Map<string, NetworkLike>> {
  const names = [...new Set(sources.flatMap((s) => Object.keys((s as unknown as { NetworkSettings?: { Networks?: object } }).NetworkSettings?.Networks ?? {})))];
  if (names.length === 0) return new Map();
  const r = await from.run({ argv: ['docker', 'network', 'inspect', ...names] });
  return new Map((parseJsonArray(r.stdout) as NetworkLike[]).map((n) => [n.Name, n]));
}

/**
 * How each container the target lacks is created (reads only). Throws (exit 2) before anything changes
 * when one cannot be: a compose project's container, an env file missing on the target, a secret without
 * a value for the target.
 */
export async function planBootstraps(ports: Ports, fromName: string, toName: string, need: readonly ContainerConfig[], src: Map<string, InspectLike | undefined>, srcImages: Map<string, ImageLike | undefined>, releaseId: string, daemon: DaemonContext): Promise<Map<string, BootstrapInput>> {
  const out = new Map<string, BootstrapInput>();
  if (need.length === 0) return out;
  const from = ports.hosts.get(fromName)!;
  const to = ports.hosts.get(toName)!;
  for (const c of need) await refuseCompose(to, fromName, c, src.get(c.name)!);
  const envFiles = [...new Set(need.map((c) => overridesFor(c.create, toName).envFile).filter((f): f is string => Boolean(f)))];
  const [seen, nets] = await Promise.all([to.run({ script: buildBootstrapObserveScript(envFiles) }).then((r) => parseBootstrapObserveOutput(r.stdout)), sourceNetworks(from, need.map((c) => src.get(c.name)!))]);
  for (const c of need) {
    const overrides = overridesFor(c.create, toName);
    const file = overrides.envFile;
    const names = file ? seen.envFiles.get(file) : undefined;
    if (file && !names) {
      throw new ReleaseflowError(`cannot create ${c.name} on ${toName}: its env file ${file} (create.envFile) does not exist on ${toName} or the SSH user cannot read it`, { host: toName, fix: `write ${file} on ${toName} (NAME=value lines, mode 0600, owned by the SSH user), or correct create.envFile` }, ExitCode.usage);
    }
    // the target's secret values from the config are masked like the containers' own
    registerSecrets(ports.bus, ports.config, [{ Config: { Env: Object.entries(overrides.env).map(([k, v]) => `${k}=${v}`) } }], [fromName, toName]);
    const source = src.get(c.name)!;
    const image = source.Config.Image;
    const b = planBootstrapSpec({ name: c.name, source, sourceImage: srcImages.get(source.Image)! }, overrides, { targetNetworks: seen.networks, targetVolumes: seen.volumes, sourceNetworks: nets, envFileNames: names }, { image, releaseId, host: toName, secrets: ports.config.secrets });
    const notes = [
      ...(file ? [`env file on ${toName}: ${file} (${names!.length} name(s); read for its names only, its values win)`] : []),
      ...b.secrets.map((s) => `env ${s.name}: secret; ${fromName}'s value is not copied, ${toName}'s comes from ${s.from === 'create.env' ? 'create.env in the config' : `the env file ${file}`}`),
    ];
    out.set(c.name, {
      networks: b.networks,
      volumes: b.volumes,
      notes,
      rebuild: (envFile) => {
        const rb = bootstrapContainer(c.name, b.spec, image, envFile, ports.config.secrets, daemon, file);
        return { ...rb, warnings: [...b.warnings, ...rb.warnings] };
      },
    });
  }
  return out;
}

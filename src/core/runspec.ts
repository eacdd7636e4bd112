// toRunSpec: the operator-set configuration of a container, with the OLD image's defaults taken out.
import type { ContainerFacts, HealthConfig, ImageFacts } from './inspect.ts';
import { shJoin } from './quote.ts';
import { hostFlags } from './runspec-host.ts';
import { mountSpec } from './runspec-mounts.ts';
import { networkSpec } from './runspec-network.ts';
import type { HealthSpec, RunSpec, ToRunSpecOptions } from './runspec-types.ts';
import { envKey, isEmpty, sameJson } from './runspec-util.ts';

export type { Flag, HealthSpec, NetworkEndpoint, PortSpec, RunSpec, ToRunSpecOptions } from './runspec-types.ts';
export { cidfileRemoval, fitsEnvFile, networkConnectArgv, renderEnvFile, renderRunCommand, runSpecToArgv } from './runspec-argv.ts';
export type { ArgvOptions, ExtraNetwork, RunSpecArgv } from './runspec-argv.ts';

// Config fields handled below or deliberately ignored (runtime, image-only, or attach flags of `docker create`)
const CONFIG_KNOWN = new Set([
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin',
  'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'MacAddress',
  'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell', 'NetworkDisabled',
]);

/** The env entries the operator set: the daemon appends the image's entries (keys not set) after them, in image order. */
export function userEnv(env: readonly string[], imageEnv: readonly string[]): string[] {
  for (let k = 0; k <= env.length; k++) {
    const keys = new Set(env.slice(0, k).map(envKey));
    const inherited = imageEnv.filter((e) => !keys.has(envKey(e)));
    if (sameJson(env.slice(k), inherited)) return env.slice(0, k);
  }
  return [...env];
}

/** Labels the operator set: those the image does not carry with the same value. */
export function userLabels(labels: Record<string, string>, imageLabels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => imageLabels[k] !== v));
}

function commandSpec(facts: ContainerFacts, img: ImageFacts['Config'], spec: RunSpec, w: string[]): void {
  const ce = facts.Config.Entrypoint ?? [];
  const cc = facts.Config.Cmd ?? [];
  const ie = img.Entrypoint ?? [];
  const ic = img.Cmd ?? [];
  if (sameJson(ce, ie)) {
    if (sameJson(cc, ic)) return; // both inherited (or re-typed identically): the new image's apply
    // args without an entrypoint: empty args would inherit the image CMD, so the entrypoint must be explicit
    if (cc.length === 0) spec.entrypoint = [...ce];
    spec.cmd = [...cc];
    return;
  }
  spec.entrypoint = [...ce];
  spec.cmd = [...cc];
  if (ce.length > 1) {
    w.push(`Config.Entrypoint has ${ce.length} elements; the CLI takes one, so the rest go before the arguments (same process, Entrypoint/Cmd split differs)`);
  }
}

function healthSpec(hc: HealthConfig | null | undefined, ih: HealthConfig | null | undefined, w: string[]): HealthSpec | undefined {
  if (!hc) return undefined;
  const test = hc.Test ?? [];
  if (test[0] === 'NONE') return ih?.Test?.[0] === 'NONE' ? undefined : { disable: true };
  const out: HealthSpec = {};
  if (test.length > 0 && !sameJson(test, ih?.Test)) {
    if (test[0] === 'CMD-SHELL') out.cmd = test.slice(1).join(' ');
    else if (test[0] === 'CMD') {
      out.cmd = shJoin(test.slice(1));
      w.push(`Config.Healthcheck.Test is exec form (CMD); --health-cmd runs it through /bin/sh -c: ${out.cmd}`);
    } else w.push(`Config.Healthcheck.Test ${JSON.stringify(test)} is not understood; the image's test applies`);
  }
  const fields = [
    ['Interval', 'interval'],
    ['Timeout', 'timeout'],
    ['StartPeriod', 'startPeriod'],
    ['StartInterval', 'startInterval'],
    ['Retries', 'retries'],
  ] as const;
  for (const [k, key] of fields) {
    const v = hc[k];
    if (v && v !== (ih?.[k] ?? 0)) out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Build the runspec from a container's inspect and its OLD image's inspect; warnings name what is not carried over exactly. */
export function toRunSpec(facts: ContainerFacts, oldImage: ImageFacts, opts: ToRunSpecOptions = {}): { spec: RunSpec; warnings: string[] } {
  const w: string[] = [];
  const c = facts.Config;
  const img = oldImage.Config;
  const h = facts.HostConfig;
  const netMode = h.NetworkMode ?? '';
  const containerNet = netMode.startsWith('container:');
  const spec: RunSpec = {
    env: userEnv(c.Env ?? [], img.Env ?? []),
    labels: userLabels(c.Labels ?? {}, img.Labels ?? {}),
    publish: [],
    publishAll: false,
    expose: [],
    networks: [],
    links: [],
    binds: [],
    mounts: [],
    tmpfs: {},
    volumesFrom: [],
    logOpts: {},
    flags: [],
  };
  if (opts.image) spec.image = opts.image;
  commandSpec(facts, img, spec, w);
  for (const e of spec.env) {
    if (!e.includes('=')) w.push(`Config.Env entry "${e}" has no value: docker fills it from the environment of the docker CLI that creates the container, if set there`);
  }
  const shortId = facts.Id.slice(0, 12);
  const hostnameIsDefault =
    !c.Hostname || c.Hostname === shortId || containerNet || h.UTSMode === 'host' || (netMode === 'host' && c.Hostname === opts.daemon?.Name);
  if (!hostnameIsDefault) spec.hostname = c.Hostname;
  if (c.Domainname && !containerNet) spec.domainname = c.Domainname;
  if (c.User && c.User !== (img.User ?? '')) spec.user = c.User;
  if (c.WorkingDir && c.WorkingDir !== (img.WorkingDir ?? '')) spec.workdir = c.WorkingDir;
  if (c.StopSignal && c.StopSignal !== (img.StopSignal ?? '')) spec.stopSignal = c.StopSignal;
  if (typeof c.StopTimeout === 'number') spec.stopTimeout = c.StopTimeout;
  const hs = healthSpec(c.Healthcheck, img.Healthcheck, w);
  if (hs) spec.healthcheck = hs;
  if (c.MacAddress && !containerNet) macSpec(facts, c.MacAddress, spec, w);
  const bound = new Set(Object.keys(h.PortBindings ?? {}));
  const imageExposed = img.ExposedPorts ?? {};
  spec.expose = Object.keys(c.ExposedPorts ?? {}).filter((p) => !(p in imageExposed) && !bound.has(p));
  if (containerNet && spec.expose.length > 0) {
    w.push(`Config.ExposedPorts ${spec.expose.join(' ')}: --expose is rejected with --network container:…; dropped`);
    spec.expose = [];
  }
  if (Object.keys(spec.labels).some((k) => k.startsWith('com.docker.compose.'))) {
    w.push('Config.Labels com.docker.compose.*: kept, so docker compose still sees the container as its own (with a stale config-hash)');
  }
  if (c.NetworkDisabled) w.push('Config.NetworkDisabled=true has no docker run flag (API only); dropped');
  for (const [k, v] of Object.entries(c)) {
    if (!CONFIG_KNOWN.has(k) && !isEmpty(v)) w.push(`Config.${k}=${JSON.stringify(v)} is not understood by releaseflow; dropped`);
  }
  if (c.Tty) spec.flags.push(['--tty']);
  if (c.OpenStdin) spec.flags.push(['--interactive']);
  networkSpec(facts, opts, spec, w);
  mountSpec(facts, oldImage, opts, spec, w);
  hostFlags(facts, opts, spec, w);
  return { spec, warnings: w };
}

// A MAC the operator asked for is kept; the daemon-generated form 02:42:<IPv4 bytes> is never pinned.
function macSpec(facts: ContainerFacts, mac: string, spec: RunSpec, w: string[]): void {
  const generated = Object.values(facts.NetworkSettings.Networks).some((ep) => {
    const ip = ep.IPAddress?.split('.').map((n) => Number(n).toString(16).padStart(2, '0'));
    return ip?.length === 4 && mac.toLowerCase() === `02:42:${ip.join(':')}`;
  });
  if (generated) w.push(`Config.MacAddress ${mac} looks generated by the daemon (02:42 + IP); not pinned`);
  else spec.macAddress = mac;
}

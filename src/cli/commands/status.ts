// `releaseflow status [HOST...] [--all] [--json]`: per host, reachability, docker, and each app container.
import { ExitCode } from '../../core/errors.ts';
import { type HostFacts, observeAppHost, shortId, statusOf } from '../../workflows/observe.ts';
import { type ReleaseState, readReleaseState } from '../../adapters/state/release-state.ts';
import { describeReleaseState, describeRunning } from '../../workflows/release-state.ts';
import { withHosts } from '../../workflows/hosts.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

function when(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+/, '') : '-';
}

function table(rows: string[][], indent: string): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** The readable status of the hosts: one block per host, one row per configured container. */
export function renderStatus(facts: HostFacts[]): string {
  const out: string[] = [];
  for (const f of facts) {
    if (!f.reachable) {
      out.push(`${f.host} (${f.address}): UNREACHABLE: ${f.problem?.message ?? 'no answer'}`);
      if (f.problem?.fix) out.push(`  fix: ${f.problem.fix}`);
      out.push('');
      continue;
    }
    const docker = f.docker.version ? `docker ${f.docker.version} (API ${f.docker.apiVersion})${f.docker.access === 'sudo' ? ' via sudo' : ''}` : 'docker NOT USABLE';
    out.push(`${f.host} (${f.address}): reachable, ${docker}`);
    if (f.docker.store === 'containerd') out.push('  image store: containerd (image IDs are manifest digests: the same image has another ID on a classic host)');
    if (f.problem) out.push(`  problem: ${f.problem.message}`, ...(f.problem.fix ? [`  fix: ${f.problem.fix}`] : []));
    const rows = [['CONTAINER', 'MODE', 'STATE', 'IMAGE', 'IMAGE ID', 'CREATED', 'HEALTH']];
    const notes: string[] = [];
    for (const c of f.containers) {
      const v = c.present ? undefined : f.views?.find((x) => x.container === c.name);
      if (v) {
        // a name a release target stands for on this host (a swarm service), not a missing container
        rows.push([c.name, v.mode, `${v.what}: ${v.state}`, v.imageRef?.startsWith('sha256:') ? shortId(v.imageRef) : (v.imageRef ?? '-'), shortId(v.imageId), '-', '-']);
        notes.push(...v.notes.map((n) => `  ${c.name}: ${n}`), ...v.problems.map((p) => `  ${c.name}: PROBLEM ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`));
        continue;
      }
      rows.push([c.name, c.mode?.mode ?? '-', c.state ?? 'missing', c.imageRef ?? '-', shortId(c.imageId), when(c.created), c.present ? (c.health ?? '-') : '-']);
      const m = c.mode;
      if (m?.mode === 'compose') notes.push(`  ${c.name}: compose project=${m.project} service=${m.service} config_files=${m.configFiles.join(',')} working_dir=${m.workingDir}`);
    }
    out.push(...table(rows, '  '), ...notes, '');
  }
  return out.join('\n');
}

/** The target's interrupted releases, a release in progress, and the lock, for the readable status. */
export function renderReleaseState(host: string, st: ReleaseState): string {
  const out: string[] = [];
  for (const r of st.running) out.push(`${host}: ${describeRunning(r)}`);
  const d = describeReleaseState(st);
  for (const p of d.problems) out.push(`${host}: ${/interrupted/.test(p) ? 'INTERRUPTED ' : ''}${p}`);
  if (d.fix) out.push(`  fix: ${d.fix}`);
  return out.length ? `${out.join('\n')}\n\n` : '';
}

export const registerStatus: Register = (program, holder) => {
  program
    .command('status')
    .description('show each host: reachable, docker version, and the app containers (mode, state, image, health)')
    .argument('[hosts...]', 'hosts to show (default: the from and to hosts)')
    .option('--all', 'show every host in the config')
    .option('--json', 'print machine-readable JSON')
    .action(async (names, opts, cmd) => {
      await act(holder, cmd, async (config) => {
        const chosen = opts.all ? Object.keys(config.hosts) : names.length ? names : [config.from, ...config.fleet];
        return await withHosts(config, chosen, async (hosts) => {
          const facts = await Promise.all([...hosts.values()].map((h) => observeAppHost(h, config)));
          // the target's release journal: an interrupted release or a lock left behind (src/adapters/state/release-state.ts)
          const target = hosts.get(config.to);
          const release = target && facts.find((f) => f.host === config.to)?.reachable ? await readReleaseState(target, config).catch(() => undefined) : undefined;
          if (opts.json) process.stdout.write(`${JSON.stringify({ app: config.app, hosts: facts.map(statusOf), ...(release ? { release: { host: config.to, ...release, ...describeReleaseState(release) } } : {}) }, null, 2)}\n`);
          else process.stdout.write(renderStatus(facts) + (release ? renderReleaseState(config.to, release) : ''));
          return facts.every((f) => f.reachable) ? ExitCode.ok : ExitCode.failed;
        });
      });
    });
};

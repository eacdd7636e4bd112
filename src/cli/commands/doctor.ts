// `releaseflow doctor [HOST...] [--json]`: the troubleshooting checklist; exit 0 only when nothing FAILs.
import type { Config } from '../../core/config.ts';
import { ExitCode } from '../../core/errors.ts';
import { type DoctorReport, runDoctor } from '../../workflows/doctor.ts';
import { withHosts } from '../../workflows/hosts.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** The checklist for humans: checks grouped by host, then logs of failing containers, then a summary line. */
export function renderDoctor(config: Config, report: DoctorReport): string {
  const out: string[] = [`releaseflow doctor: app ${config.app}, ${config.from} → ${config.fleet.join(', ')} (${config.file})`, ''];
  for (const f of report.facts) {
    const role = f.host === config.from ? 'from' : config.fleet.includes(f.host) ? 'to' : 'other';
    out.push(`${f.host} (${f.address}, ${role})`);
    for (const c of report.checks.filter((x) => x.host === f.host)) {
      out.push(`  ${c.status}  ${c.message}`);
      if (c.fix && c.status !== 'PASS') out.push(`        fix: ${c.fix}`);
    }
    out.push('');
  }
  for (const x of report.failing) {
    out.push(`── ${x.container} on ${x.host}: ${x.reason}`);
    if (x.logs !== undefined) out.push(`   docker logs --tail 200 ${x.container}:`, indent(x.logs || '(no output)', '   | '));
    if (x.ps !== undefined && !out.includes(`   docker ps -a on ${x.host}:`)) out.push(`   docker ps -a on ${x.host}:`, indent(x.ps, '   | '));
    out.push('');
  }
  const n = (s: string) => report.checks.filter((c) => c.status === s).length;
  out.push(`${n('PASS')} passed, ${n('FAIL')} failed, ${n('WARN')} warnings: ${report.ok ? 'OK' : 'NOT OK'}${n('INFO') ? ` (${n('INFO')} drift notes: settings a release keeps from the target)` : ''}`);
  return `${out.join('\n')}\n`;
}

export const registerDoctor: Register = (program, holder) => {
  program
    .command('doctor')
    .description('check hosts, docker, containers, compose files, networks, disk and health; print the fix for each failure')
    .argument('[hosts...]', 'hosts to check (default: the from and to hosts)')
    .option('--json', 'print machine-readable JSON')
    .action(async (names, opts, cmd) => {
      await act(holder, cmd, async (config) => {
        return await withHosts(config, names.length ? names : [config.from, ...config.fleet], async (hosts) => {
          const report = await runDoctor(config, hosts);
          if (opts.json) {
            const { facts, ...rest } = report;
            process.stdout.write(`${JSON.stringify({ app: config.app, ...rest, hosts: facts.map((f) => ({ host: f.host, address: f.address, reachable: f.reachable })) }, null, 2)}\n`);
          } else process.stdout.write(renderDoctor(config, report));
          return report.ok ? ExitCode.ok : ExitCode.failed;
        });
      });
    });
};

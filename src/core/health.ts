// Health probing from the target host: one small script per poll, and its parsed answer.
import { shJoin, shQuote } from './quote.ts';

export interface HealthProbe {
  state: string;
  health: 'none' | 'starting' | 'healthy' | 'unhealthy' | string;
  restarts: number;
  http: 'ok' | 'fail' | 'no-client' | 'skipped';
  detail: string;
}

/** A POSIX sh script printing the container's state and the URL's answer (curl, else wget, else busybox wget). */
export function buildHealthProbeScript(container: string, url?: string): string {
  const inspect = shJoin(['docker', 'inspect', '-f', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}', container]);
  return [`echo "state=$(${inspect} 2>&1)"`, ...(url ? buildHttpProbeLines(url) : ['echo http=skipped'])].join('\n');
}

/** sh lines printing `http=ok`, `http=fail <why>` or `http=no-client` for one GET of the URL (curl, else wget, else busybox wget). */
export function buildHttpProbeLines(url: string): string[] {
  const u = shQuote(url);
  return [
    `if command -v curl >/dev/null 2>&1; then out=$(curl -fsS -o /dev/null -m 3 ${u} 2>&1) && echo http=ok || echo "http=fail $out";`,
    `elif command -v wget >/dev/null 2>&1; then out=$(wget -q -O /dev/null -T 3 ${u} 2>&1) && echo http=ok || echo "http=fail $out";`,
    `elif command -v busybox >/dev/null 2>&1; then out=$(busybox wget -q -O /dev/null -T 3 ${u} 2>&1) && echo http=ok || echo "http=fail $out";`,
    'else echo http=no-client; fi',
  ];
}

/** Parse the probe script's output. */
export function parseHealthProbe(stdout: string): HealthProbe {
  // the probe prints last: a banner of the remote shell (even one with such lines) comes before it
  const state = [...stdout.matchAll(/^state=(\S+)(?: (\S+))?(?: (\d+))?/gm)].at(-1);
  const http = [...stdout.matchAll(/^http=(\S+)(.*)$/gm)].at(-1);
  return {
    state: state?.[1] ?? 'unknown',
    health: state?.[2] ?? 'none',
    restarts: Number(state?.[3] ?? 0),
    http: (http?.[1] as HealthProbe['http']) ?? 'fail',
    detail: (http?.[2] ?? '').trim() || (state ? '' : stdout.trim()),
  };
}

export type HealthVerdict = 'healthy' | 'waiting' | 'failed';

/** Decide from one probe: healthy, keep waiting, or failed for good (the container died). */
export function judgeHealth(p: HealthProbe, wantDockerHealth: boolean): { verdict: HealthVerdict; reason: string } {
  if (p.state === 'exited' || p.state === 'dead' || p.state === 'unknown') {
    return { verdict: 'failed', reason: `container is ${p.state}${p.detail ? `: ${p.detail}` : ''}` };
  }
  if (p.state !== 'running') return { verdict: 'waiting', reason: `container is ${p.state}` };
  if (p.http === 'no-client') return { verdict: 'failed', reason: 'no curl, wget or busybox on the target host to request the health URL' };
  if (wantDockerHealth && p.health !== 'healthy' && p.health !== 'none') return { verdict: 'waiting', reason: `docker health is ${p.health}` };
  if (p.http === 'fail') return { verdict: 'waiting', reason: `health URL not answering${p.detail ? `: ${p.detail}` : ''}` };
  return { verdict: 'healthy', reason: p.http === 'ok' ? 'health URL answered' : 'container running' };
}

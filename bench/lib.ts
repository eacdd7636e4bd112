// Shared by the benchmarks: their own lab (up, down, link cap), counters, docker on the hosts, tables.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = new URL('..', import.meta.url).pathname;

/** The bench lab's settings: its own dir, prefix and subnet, so it never touches another lab. */
export const LAB_ENV = {
  LAB_DIR: process.env.LAB_DIR ?? '/tmp/rfl-bench',
  LAB_PREFIX: process.env.LAB_PREFIX ?? 'rfx',
  LAB_NET: process.env.LAB_NET ?? '10.213.12',
};

export interface BenchLab {
  dir: string;
  prefix: string;
  config: string;
  sshConfig: string;
  hosts: Record<string, { address: string; dockerSock: string; netns: string }>;
}

/** Run lab/lab.sh with the bench lab's settings; throws with its output on failure. */
export function labSh(args: string[]): string {
  const r = spawnSync('bash', [join(REPO, 'lab/lab.sh'), ...args], { encoding: 'utf8', env: { ...process.env, ...LAB_ENV }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`lab.sh ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Bring the bench lab up (`up` or `demo-up`) and read its facts. */
export function labUp(cmd: 'up' | 'demo-up'): BenchLab {
  log(`lab: ${cmd} in ${LAB_ENV.LAB_DIR} (prefix ${LAB_ENV.LAB_PREFIX}, net ${LAB_ENV.LAB_NET}.0/24)`);
  labSh([cmd]);
  return JSON.parse(readFileSync(join(LAB_ENV.LAB_DIR, 'lab.json'), 'utf8')) as BenchLab;
}

/** Take the bench lab down (only this lab: lab.sh acts on what its LAB_DIR names). */
export function labDown(): void {
  log(`lab: down ${LAB_ENV.LAB_DIR}`);
  labSh(['down']);
}

/**
 * Cap the operator's link to the lab: egress of the root-namespace veth end (operator → hosts)
 * and of its peer `uplink` in the switch namespace (hosts → operator). Host-to-host traffic
 * through the bridge is not capped, but every method here relays through the operator.
 */
export function capLink(lab: BenchLab, mbit: number): void {
  uncapLink(lab);
  const q = ['root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '256kb', 'latency', '100ms'];
  execFileSync('tc', ['qdisc', 'add', 'dev', `${lab.prefix}0`, ...q]);
  execFileSync('ip', ['netns', 'exec', `${lab.prefix}-sw`, 'tc', 'qdisc', 'add', 'dev', 'uplink', ...q]);
}

/** Remove the cap (no error when there is none). */
export function uncapLink(lab: BenchLab): void {
  spawnSync('tc', ['qdisc', 'del', 'dev', `${lab.prefix}0`, 'root']);
  spawnSync('ip', ['netns', 'exec', `${lab.prefix}-sw`, 'tc', 'qdisc', 'del', 'dev', 'uplink', 'root']);
}

/** Cap every named host's own link (its eth0's sending side), as a server's NIC: a datacenter where the hosts talk to each other. */
export function capHosts(lab: BenchLab, mbit: number, hosts: readonly string[]): void {
  uncapHosts(lab, hosts);
  for (const h of hosts) execFileSync('ip', ['netns', 'exec', lab.hosts[h]!.netns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '256kb', 'latency', '100ms']);
}

export function uncapHosts(lab: BenchLab, hosts: readonly string[]): void {
  for (const h of hosts) spawnSync('ip', ['netns', 'exec', lab.hosts[h]!.netns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
}

/** Bytes sent on a host's eth0, from its own network namespace's counters. */
export function txBytes(lab: BenchLab, host: string): number {
  return Number(execFileSync('ip', ['netns', 'exec', lab.hosts[host]!.netns, 'cat', '/sys/class/net/eth0/statistics/tx_bytes'], { encoding: 'utf8' }).trim());
}

/** Bytes received on a host's eth0, from its own network namespace's counters. */
export function rxBytes(lab: BenchLab, host: string): number {
  return Number(execFileSync('ip', ['netns', 'exec', lab.hosts[host]!.netns, 'cat', '/sys/class/net/eth0/statistics/rx_bytes'], { encoding: 'utf8' }).trim());
}

/** docker on a lab host through its admin socket (set-up and checks, never the measured path). */
export function dockerIn(lab: BenchLab, host: string, args: string[], input?: string | Buffer): string {
  return execFileSync('docker', ['-H', lab.hosts[host]!.dockerSock, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  }).trim();
}

/** The image ID of a ref on a host, or undefined. */
export function imageIdOn(lab: BenchLab, host: string, ref: string): string | undefined {
  try {
    return dockerIn(lab, host, ['image', 'inspect', '-f', '{{.Id}}', ref]);
  } catch {
    return undefined;
  }
}

/** Run a shell command line (the baselines are what an operator would type); throws on failure. */
export function shell(cmd: string): { ms: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout + r.stderr };
}

/** The same without blocking the event loop (a probe must keep running meanwhile). */
export function shellAsync(cmd: string): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t0, out }) : reject(new Error(`failed (${code}): ${cmd}\n${out}`)))),
  );
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const fmtS = (ms: number) => (ms / 1000).toFixed(2);
export const fmtB = (n: number) => n.toLocaleString('en-US');

/** A GitHub-style markdown table. */
export function mdTable(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** A short description of the machine, for the results file. */
export function machine(): string {
  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  return `${cpus} CPUs, load average ${load}, kernel ${kernel}, node ${process.version}`;
}

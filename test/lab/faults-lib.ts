// Helpers of the fault-injection suite: PROD snapshots and their comparison, a releaseflow run we can
// kill at a chosen moment, the lab's ssh processes of a run, and per-host shell set-ups (banner, hangs).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALIVE_FN } from '../../src/core/journal.ts';
import { CLI, LAB_DIR, labDocker, labInfo, labInspect, labScript } from './lab.ts';

export const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];

/** null and [] / {} mean the same to the daemon (CLI versions differ in what they send). */
export function norm(v: any): any {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(norm);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    return keys.length === 0 ? null : Object.fromEntries(keys.map((k) => [k, norm(v[k])]));
  }
  return v;
}

export interface ProdSnapshot {
  containers: Record<string, { Id: string; Image: string; HostConfig: any; Config: any; Running: boolean }>;
  /** image ID → its tags */
  images: Map<string, string[]>;
  /** file → content, in the app's volume */
  volume: Map<string, string>;
}

/** Everything a fault must not lose on PROD. */
export function snapshotProd(): ProdSnapshot {
  const containers: ProdSnapshot['containers'] = {};
  for (const n of APP) {
    const c = labInspect('prod', n);
    containers[n] = { Id: c.Id, Image: c.Image, HostConfig: c.HostConfig, Config: c.Config, Running: c.State.Running };
  }
  const images = new Map<string, string[]>();
  for (const line of labDocker('prod', ['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']).trim().split('\n')) {
    const [id = '', tag = ''] = line.split(' ');
    images.set(id, [...(images.get(id) ?? []), ...(tag.includes('<none>') ? [] : [tag])]);
  }
  // the volume's files, read where dockerd keeps them (its data-root is in the lab's folder)
  const dir = JSON.parse(labDocker('prod', ['volume', 'inspect', 'ragflowauth-data']))[0].Mountpoint as string;
  const volume = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const));
  return { containers, images, volume };
}

/** PROD is as before the release: same containers (Id, Image, HostConfig, Config, running), no image or volume byte lost. */
export function assertProdAsBefore(pre: ProdSnapshot, post: ProdSnapshot, what: string): void {
  for (const n of APP) {
    const a = pre.containers[n]!;
    const b = post.containers[n]!;
    assert.equal(b.Id, a.Id, `${what}: ${n} is the same container`);
    assert.equal(b.Image, a.Image, `${what}: ${n} image`);
    assert.deepEqual(norm(b.HostConfig), norm(a.HostConfig), `${what}: ${n} HostConfig`);
    assert.deepEqual(norm(b.Config), norm(a.Config), `${what}: ${n} Config`);
    assert.equal(b.Running, a.Running, `${what}: ${n} running`);
  }
  assertNothingLost(pre, post, what);
}

/** No image, tag or volume byte lost (a volume file may only have grown: boot.log gets a line per start). */
export function assertNothingLost(pre: ProdSnapshot, post: ProdSnapshot, what: string): void {
  for (const [id, tags] of pre.images) {
    assert.ok(post.images.has(id), `${what}: image ${id.slice(7, 19)} (${tags.join(', ')}) still on prod`);
    for (const t of tags) assert.ok(post.images.get(id)!.includes(t), `${what}: tag ${t} still points to ${id.slice(7, 19)}`);
  }
  for (const [file, content] of pre.volume) {
    const now = post.volume.get(file);
    assert.ok(now !== undefined, `${what}: volume file ${file} still there`);
    assert.ok(now.startsWith(content), `${what}: volume file ${file} kept its ${content.length} bytes`);
  }
}

/** PROD serves: backend /health is ok, frontend / answers and Docker reports it healthy (polled). */
export async function assertProdServing(what: string, backendVersion?: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const health = labDocker('prod', ['exec', 'ragflowauth-backend', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8001/health']).trim();
      const version = labDocker('prod', ['exec', 'ragflowauth-backend', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8001/version']).trim();
      labDocker('prod', ['exec', 'ragflowauth-frontend', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/']);
      const fh = labInspect('prod', 'ragflowauth-frontend').State.Health?.Status;
      if (health === 'ok' && fh === 'healthy' && (!backendVersion || version === backendVersion)) return;
      last = `backend /health=${health} version=${version}, frontend docker health=${fh}`;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    }
    if (Date.now() > deadline) assert.fail(`${what}: prod is not serving${backendVersion ? ` ${backendVersion}` : ''}: ${last}`);
    await sleep(250);
  }
}

/** A releaseflow run in the background, in its own process group (as on a terminal), output collected. */
export interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  /** Resolve when the output matches (throws after `ms`). */
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
}

export function startReleaseflow(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, RELEASEFLOW_CONFIG: env.RELEASEFLOW_CONFIG ?? labInfo()!.config, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!re.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`waited for ${re} (exit ${child.exitCode}):\n${out}`);
      await sleep(10);
    }
  };
  return { child, out: () => out, exited, waitFor };
}

function procStat(pid: number): { ppid: number; cmd: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') };
  } catch {
    return undefined;
  }
}

/** The ssh processes of a releaseflow run: its children, and the ControlMasters of its control dirs. */
export function sshProcessesOf(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .map((p) => ({ pid: p, ...procStat(p) }))
    .filter((p) => p.cmd !== undefined);
  const children = all.filter((p) => p.ppid === pid && /^ssh /.test(p.cmd!));
  const dirs = new Set(children.flatMap((c) => /ControlPath=(\/\S+)\/%C/.exec(c.cmd!)?.[1] ?? []));
  const masters = all.filter((p) => /^ssh /.test(p.cmd!) && [...dirs].some((d) => p.cmd!.includes(`ControlPath=${d}/%C`)) && /ControlMaster=auto/.test(p.cmd!));
  return [...new Set([...children, ...masters].map((p) => p.pid))];
}

/** Cut the run's SSH connections: kill its ssh processes (the clients and the shared masters). */
export function cutSsh(pid: number): number {
  const pids = sshProcessesOf(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids.length;
}

/** A copy of the lab config with extra YAML appended (and text replaced); returns its path. */
export function configCopy(extra: string, replace: [RegExp | string, string][] = []): string {
  let text = readFileSync(labInfo()!.config, 'utf8');
  for (const [a, b] of replace) text = text.replace(a, b);
  const dir = mkdtempSync(join(tmpdir(), 'rf-faultcfg-'));
  const file = join(dir, 'releaseflow.yml');
  writeFileSync(file, `${text}${extra}`);
  return file;
}

/** The lab host's own /root (bind-mounted as the host's /root): where its .bashrc goes. */
export function hostRoot(host: string): string {
  return join(LAB_DIR, 'hosts', host, 'root');
}

/** Give a host a login-shell set-up (.bashrc); remove it with clearBashrc. */
export function setBashrc(host: string, text: string): void {
  writeFileSync(join(hostRoot(host), '.bashrc'), text);
}

export function clearBashrc(host: string): void {
  rmSync(join(hostRoot(host), '.bashrc'), { force: true });
  rmSync(join(hostRoot(host), 'rf-fault'), { recursive: true, force: true });
}

/** Run a shell command inside a lab host's namespaces (as root, no ssh). */
export function labExec(host: string, script: string): string {
  return labScript(['exec', host, 'sh', '-c', script]);
}

/** The release state on PROD read from its files (no ssh): each release's state word. */
export function prodReleaseStates(): Record<string, string> {
  const out = labExec('prod', 'for d in /var/lib/releaseflow/ragflowauth/releases/*; do [ -f "$d/state" ] && printf "%s %s\\n" "$(basename "$d")" "$(cat "$d/state")"; done; true');
  return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

/** Wait until no guard of PROD's releases runs any more (it restored, or was ended). */
export async function waitGuardsIdle(ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  const script = `${ALIVE_FN}
for d in /var/lib/releaseflow/ragflowauth/releases/*; do [ -f "$d/guard.pid" ] && rf_alive "$(cat "$d/guard.pid")" "$d" && echo alive; done; true`;
  while (labExec('prod', script).includes('alive')) {
    if (Date.now() > deadline) throw new Error('a crash guard on prod is still running');
    await sleep(200);
  }
}

/** Between fault runs: PROD back to v1 only (TEST's images removed, our tags removed), state kept. */
export function dropReleasedImages(): void {
  const tags = labDocker('prod', ['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n');
  const drop = tags.filter((t) => /^releaseflow-prev\//.test(t) || /^ragflowauth-(backend|frontend):v[23]$/.test(t));
  const prev = labDocker('prod', ['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').filter((n) => /-rf-(prev|failed)-/.test(n));
  if (prev.length) labDocker('prod', ['rm', '-f', ...prev]);
  if (drop.length) labDocker('prod', ['rmi', ...drop]);
  labDocker('prod', ['image', 'prune', '-f']);
}

/** Steps of the release as `releaseflow plan --json` lists them. */
export function planSteps(config?: string): { name: string; kind: string }[] {
  const r = spawnSync(process.execPath, [CLI, 'plan', '--json'], { encoding: 'utf8', env: { ...process.env, RELEASEFLOW_CONFIG: config ?? labInfo()!.config } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).plan.steps;
}

// Access to the running lab for lab tests: its facts, its config, and root-namespace docker access.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabInfo {
  dir: string;
  prefix: string;
  hosts: Record<string, { address: string; dockerSock: string }>;
  sshKey: string;
  knownHosts: string;
  sshConfig: string;
  config: string;
}

export const LAB_DIR = process.env.LAB_DIR ?? '/tmp/releaseflow-lab';
export const REPO = new URL('../..', import.meta.url).pathname;

/** The lab's facts (the lab in `dir`, default LAB_DIR), or undefined when no lab is up. Under CI=true a missing lab is an error, never a skip. */
export function labInfo(dir: string = LAB_DIR): LabInfo | undefined {
  const f = join(dir, 'lab.json');
  if (!existsSync(f)) {
    if (process.env.CI === 'true') throw new Error(`the lab is not up (${f} missing) and CI=true: lab tests must not skip; run: bash lab/lab.sh demo-up`);
    return undefined;
  }
  return JSON.parse(readFileSync(f, 'utf8')) as LabInfo;
}

/** node:test options: skip (outside CI only) when there is no lab. */
export function labSkip(): { skip: string | false } {
  return { skip: labInfo() ? false : 'no lab up (bash lab/lab.sh demo-up)' };
}

/** docker on a lab host through its admin socket (no ssh): for checking real state in tests. `dir`: another lab than LAB_DIR. */
export function labDocker(host: string, args: string[], input?: string, dir: string = LAB_DIR): string {
  const info = labInfo(dir)!;
  return execFileSync('docker', ['-H', info.hosts[host]!.dockerSock, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `docker inspect` of one object on a lab host, parsed. */
export function labInspect(host: string, name: string): Record<string, any> {
  return JSON.parse(labDocker(host, ['inspect', name]))[0];
}

/** Run lab/lab.sh with args (e.g. ['seed']); throws with its output on failure. `opts.dir`: another lab than LAB_DIR. */
export function labScript(args: string[], opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = { ...process.env, ...opts.env, LAB_DIR: opts.dir ?? LAB_DIR };
  const r = spawnSync('bash', [join(REPO, 'lab/lab.sh'), ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`lab.sh ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The releaseflow entry the lab files run: the sources compiled once by the test runner (RF_TEST_CLI), else bin/releaseflow.js (tsx). */
export const CLI = process.env.RF_TEST_CLI || join(REPO, 'bin/releaseflow.js');

/** Run the releaseflow CLI against the lab's config (`opts.labDir`: another lab than LAB_DIR); returns exit code and output. */
export function releaseflow(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; labDir?: string } = {}) {
  const info = labInfo(opts.labDir)!;
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, RELEASEFLOW_CONFIG: info.config, ...opts.env },
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

/**
 * What identifies an image on any engine: its layers and creation time. The ID does not: on the
 * containerd image store it is a manifest digest, so the same image has another ID there.
 */
export function imageKey(host: string, ref: string, dir: string = LAB_DIR): string {
  return labDocker(host, ['image', 'inspect', '-f', '{{json .RootFS.Layers}} {{.Created}}', ref], undefined, dir).trim();
}

/** The engine a lab host runs, as lab.json records it ('20.10' when the lab predates the field). */
export function labEngine(host: string, dir: string = LAB_DIR): string {
  return (labInfo(dir)?.hosts[host] as { engine?: string } | undefined)?.engine ?? '20.10';
}

/** A host on Docker 25 or later: compose v1 (1.29) cannot recreate containers there (docker/compose#11742). */
export const composeV1Refused = (host: string, dir: string = LAB_DIR): boolean => Number(labEngine(host, dir).split('.')[0]) >= 25;

/**
 * node:test skip for a compose v1 test on a lab whose PROD runs Docker 25+: releaseflow refuses v1 there and
 * releases in run mode instead (tested by engines.test.ts). Said as a skip with its reason, never passed silently.
 */
export function composeV1Skip(dir: string = LAB_DIR): string | false {
  const e = labInfo(dir) ? labEngine('prod', dir) : '20.10';
  return composeV1Refused('prod', dir) ? `compose v1 1.29 cannot recreate containers on Docker ${e} (KeyError 'ContainerConfig', docker/compose#11742); releaseflow releases such a project in run mode there (engines.test.ts)` : false;
}

/** A lab host on the containerd image store (its engine name ends in -containerd). */
export const onContainerdStore = (host: string, dir: string = LAB_DIR): boolean => labInfo(dir) !== undefined && labEngine(host, dir).endsWith('-containerd');

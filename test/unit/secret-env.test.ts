// Env values docker's --env-file cannot hold (PEM keys, JSON credentials) reach docker create through its
// environment, never argv: the swap's commands run here as the SSH adapter runs them, with a docker stand-in.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ENV_LOADER, envLoaderEntry, isLoadableEnvName, withEnvLoader } from '../../src/core/env-loader.ts';
import type { SshHost } from '../../src/adapters/ssh.ts';
import type { ContainerInput } from '../../src/core/plan.ts';
import { planPromotion } from './plan-helpers.ts';
import { shJoin } from '../../src/core/quote.ts';
import { renderPlan } from '../../src/core/render-plan.ts';
import { renderEnvFile } from '../../src/core/runspec.ts';
import type { StepCommand } from '../../src/core/step.ts';
import { EventBus } from '../../src/events/bus.ts';
import { executePlan } from '../../src/workflows/execute.ts';
import type { DaemonContext } from '../../src/adapters/inspect.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\r\nab\r\n  k3y/+=\\n $(touch pwned) `id`\r\n-----END PRIVATE KEY-----\r\n';
const JSON_CRED = JSON.stringify({ type: 'service_account', private_key: 'line1\nline2', note: "it's" }, null, 2);
const SECRET_ENV = [`TLS_PRIVATE_KEY=${PEM}`, `GCP_CREDENTIALS=${JSON_CRED}`, "BANNER=it's\nmulti-line banner text\n", 'CR_ONLY=ends-with-cr\r'];
/** Every line of the values distinctive enough to look for (5 characters and more). */
const linesOf = (env: string[]) => env.flatMap((e) => e.slice(e.indexOf('=') + 1).split(/\r?\n/)).map((l) => l.trim()).filter((l) => l.length >= 5);
const valueLines = linesOf(SECRET_ENV);
/** Those of the two secret names (BANNER and CR_ONLY are not secret: the readable docker run shows them). */
const secretLines = linesOf(SECRET_ENV.slice(0, 2));

const tmp = mkdtempSync(join(tmpdir(), 'rf-secret-env-'));

/** A docker stand-in: records its argv and its environment (NUL-separated, byte for byte). */
const stub = join(tmp, 'bin');
mkdirSync(stub);
writeFileSync(join(stub, 'docker'), '#!/bin/sh\nfor a; do printf "%s\\0" "$a"; done >"$RF_OUT/argv"\nenv -0 >"$RF_OUT/env"\n');
chmodSync(join(stub, 'docker'), 0o755);

function plan(env: string[], ctx?: DaemonContext) {
  const target = structuredClone(fixture('prod-backend-v1.inspect.json'));
  target.Config.Env = [...target.Config.Env, ...env];
  const c: ContainerInput = {
    name: 'ragflowauth-backend', healthTimeoutMs: 1000, targetMode: 'run', targetHasSourceImage: true,
    source: fixture('test-backend-v2.inspect.json'), sourceImage: fixture('image-backend-v2.inspect.json'), target, targetImage: fixture('image-backend-v1.inspect.json'),
  };
  const stateDir = mkdtempSync(join(tmp, 'state-'));
  const p = planPromotion({
    app: 'ragflowauth', releaseId: 'R1', stateDir, from: { name: 'test', address: 't' }, to: { name: 'prod', address: 'p' }, containers: [c], intervalMs: 1000,
    rebuild: (ci, image, envFile) => rebuildContainer(ci, image, envFile, [], ctx),
  });
  const swap = p.steps.find((s) => s.name === 'swap ragflowauth-backend');
  assert.ok(swap?.kind === 'exec');
  return { plan: p, swap, env: target.Config.Env as string[] };
}

/** What the docker CLI makes of argv and its environment: --env-file lines (docker's rules), then each -e (a bare NAME from the environment). */
function dockerEnv(argv: string[], environ: Map<string, string>): string[] {
  const out: string[] = [];
  const at = argv.indexOf('create');
  for (let i = at; i < argv.length; i++) {
    if (argv[i] === '--env-file') {
      for (const raw of readFileSync(argv[++i]!, 'utf8').split('\n')) {
        const line = raw.replace(/\r$/, '').trimStart();
        if (line === '' || line.startsWith('#')) continue;
        assert.ok(line.includes('=') && !/\s/.test(line.slice(0, line.indexOf('='))), `docker reads ${JSON.stringify(line)} as NAME=value`);
        out.push(line);
      }
    }
    if (argv[i] === '-e') {
      const e = argv[++i]!;
      out.push(e.includes('=') ? e : `${e}=${environ.get(e) ?? assert.fail(`${e} is not in docker's environment`)}`);
    }
  }
  return out;
}

/** Run a swap command as the SSH adapter does (`sh -c` of its sh text), stdin and all. */
function runRemote(c: StepCommand, out: string) {
  const text = c.argv ? shJoin(c.argv) : c.script!;
  return spawnSync('sh', ['-c', text], { input: c.stdin ?? '', encoding: 'utf8', env: { ...process.env, PATH: `${stub}:${process.env.PATH}`, RF_OUT: out } });
}

test('a multi-line secret reaches docker create byte for byte through its environment, never argv', () => {
  const { swap, env } = plan(SECRET_ENV);
  const shown = swap.commands.map((c) => [...(c.argv ?? []), c.script ?? ''].join('\n')).join('\n');
  for (const l of valueLines) assert.ok(!shown.includes(l), `no argv or script holds ${JSON.stringify(l)}`);
  const create = swap.commands.find((c) => c.argv?.includes('create'))!;
  assert.deepEqual(create.argv!.slice(0, 6), ['sh', '-c', ENV_LOADER, 'sh', create.argv![4], '4']);
  for (const n of ['TLS_PRIVATE_KEY', 'GCP_CREDENTIALS', 'BANNER', 'CR_ONLY']) assert.ok(create.argv!.join('\0').includes(`\0-e\0${n}\0`), `-e ${n} alone`);
  // the env file first (umask 077, over stdin), then the create, as the swap runs them
  const write = swap.commands[0]!;
  mkdirSync(dirname(create.argv![4]!), { recursive: true });
  const out = mkdtempSync(join(tmp, 'out-'));
  assert.equal(runRemote(write, out).status, 0);
  const r = runRemote(create, out);
  assert.equal(r.status, 0, r.stderr);
  const argv = readFileSync(join(out, 'argv'), 'utf8').split('\0').slice(0, -1);
  for (const l of valueLines) assert.ok(!argv.some((a) => a.includes(l)), `docker's argv lacks ${JSON.stringify(l)}`);
  const environ = new Map(readFileSync(join(out, 'env'), 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  assert.deepEqual(dockerEnv(argv, environ).sort(), [...env].sort(), 'the container gets every entry, byte for byte');
  assert.ok(!existsSync(join(out, 'pwned')) && !existsSync('pwned'), 'nothing in a value ran');
});

test('the loader keeps every byte under dash, bash and busybox sh, and refuses a missing or short file', () => {
  const values: Record<string, string> = { PEM, J: JSON_CRED, E: '\n', T: 'x\n\n', S: '  lead\\t\ttab  \r', Q: `'"\`$(id)\${HOME}` };
  const file = join(tmp, 'loader.env');
  writeFileSync(file, renderEnvFile(['PLAIN=x', ...Object.entries(values).map(([k, v]) => envLoaderEntry(k, v))]), { mode: 0o600 });
  const print = ['node', '-e', 'process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k]]))))', ...Object.keys(values)];
  for (const sh of [['dash'], ['bash'], ['busybox', 'sh']]) {
    if (spawnSync(sh[0]!, ['-c', 'true']).status !== 0) continue;
    const run = (argv: string[]) => spawnSync(sh[0]!, [...sh.slice(1), ...argv.slice(1)], { encoding: 'utf8' });
    const r = run(withEnvLoader(print, file, Object.keys(values).length));
    assert.equal(r.status, 0, `${sh.join(' ')}: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), values, sh.join(' '));
    for (const bad of [withEnvLoader(['echo', 'ran'], file, 7), withEnvLoader(['echo', 'ran'], join(tmp, 'missing.env'), 0)]) {
      const b = run(bad);
      assert.deepEqual([b.status, b.stdout], [1, ''], `${sh.join(' ')} stops before the command`);
      assert.match(b.stderr, /does not hold the \d+ env value/);
    }
  }
});

test('values the loader cannot take stay in argv, each with a warning that names it (never its value)', () => {
  const sudo = plan(SECRET_ENV, { daemon: {}, names: {}, sudo: true });
  const argv = sudo.swap.commands.flatMap((c) => c.argv ?? []);
  assert.ok(argv.includes(`TLS_PRIVATE_KEY=${PEM}`), 'sudo clears the environment: argv is the only way');
  assert.ok(sudo.plan.warnings.some((w) => /env TLS_PRIVATE_KEY: .*visible in ps.*sudo/.test(w)));
  const odd = plan(['my.key=a\nb', 'PATH_X=ok\nfine', 'DUP=a\nb', 'DUP=c']);
  const oddArgv = odd.swap.commands.flatMap((c) => c.argv ?? []);
  assert.ok(oddArgv.includes('my.key=a\nb') && oddArgv.includes('DUP=a\nb') && oddArgv.includes('DUP=c') && oddArgv.includes('PATH_X'));
  assert.deepEqual(odd.plan.warnings.filter((w) => /line break/.test(w)).map((w) => w.split(':')[1]!.trim()), ['env my.key', 'env DUP']);
  for (const w of [...sudo.plan.warnings, ...odd.plan.warnings]) assert.ok(!valueLines.some((l) => w.includes(l)) && !w.includes('a\nb'));
  assert.deepEqual(['A_1', '_x', 'PATH', 'IFS', 'HOME', 'DOCKER_HOST', 'LD_PRELOAD', '_rf_v', '1A', 'a-b'].map(isLoadableEnvName), [true, true, false, false, false, false, false, false, false, false]);
  assert.throws(() => renderEnvFile(['#rf-env:A=1\nnot a loader line']), /cannot be written to an env file/);
});

test('a secret value left in argv is masked by its name wherever a command is shown: the plan and every command event', async () => {
  const sudo = plan(SECRET_ENV, { daemon: {}, names: {}, sudo: true });
  const text = renderPlan(sudo.plan);
  for (const l of secretLines) assert.ok(!text.includes(l), `the plan lacks ${JSON.stringify(l)}`);
  assert.ok(!text.split('\n').some((l) => l.trim() === 'ab'), 'even a short line of the key');
  assert.match(text, /docker create [^\n]*-e 'TLS_PRIVATE_KEY=\*{8}' [^\n]*-e 'GCP_CREDENTIALS=\*{8}'/);
  // the executor's command events, with no secret registered with the bus yet
  const bus = new EventBus();
  const ok = { host: 'prod', command: '', code: 0, stdout: '', stderr: '', rawStdout: '', rawStderr: '', durationMs: 1 };
  const host = { name: 'prod', config: { sudo: false }, run: async () => ok } as unknown as SshHost;
  const r = await executePlan({ ...sudo.plan, steps: [sudo.swap] }, { hosts: new Map([['prod', host]]), bus });
  assert.equal(r.ok, true);
  const commands = bus.history.flatMap((e) => (e.type === 'command' ? [e.command] : []));
  assert.ok(commands.some((c) => c.includes("-e 'TLS_PRIVATE_KEY=********'")));
  for (const l of secretLines) assert.ok(!commands.some((c) => c.includes(l)), `no command event holds ${JSON.stringify(l)}`);
});

// Secrets end to end: a PEM key, a JSON credential and a database URL on PROD's backend reach the new
// container byte for byte, and are in no process's argv (sampled from /proc while the release runs), the
// plan, the terminal, the log file or its JSON twin, nor in a container's logs on the dashboard.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { containerLogsAnswer } from '../../src/web/api.ts';
import { HostPool } from '../../src/web/host-pool.ts';
import { assertProdServing, labExec } from './faults-lib.ts';
import { labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

// every secret carries the token: finding it anywhere is a leak
const TOKEN = `t${randomBytes(6).toString('hex')}`;
const PEM = `-----BEGIN PRIVATE KEY-----\r\nMIIEv${TOKEN}QIBADANBgkqhkiG9w0BAQEFAASC\r\nab\r\nKcwggSjAgEAAoIBAQC7/+=\r\n-----END PRIVATE KEY-----\r\n`;
const JSON_CRED = JSON.stringify({ type: 'service_account', private_key_id: `k${TOKEN}`, private_key: '-----BEGIN KEY-----\nZm9v\n-----END KEY-----\n', client_email: "it's@example.iam" }, null, 2);
const DB_URL = `postgres://app:pg${TOKEN}@db:5432/app`;
const ENV = [`TLS_PRIVATE_KEY=${PEM}`, `GCP_CREDENTIALS=${JSON_CRED}`, `DATABASE_URL=${DB_URL}`];

/** Logs the argv of every process, here and on the lab's hosts (they share this PID namespace), that holds the token or runs PROD's docker create. */
const SAMPLER = `
const fs = require('node:fs');
const [out, netns] = process.argv.slice(1);
const prod = fs.statSync(netns).ino;
const seen = new Set();
const tick = () => {
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(pid) || pid === String(process.pid)) continue;
    let cmd;
    try { cmd = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8'); } catch { continue; }
    if (cmd.includes(process.env.RF_TOKEN)) fs.appendFileSync(out, 'LEAK ' + JSON.stringify(cmd.slice(0, 300)) + '\\n');
    if (!seen.has('guard') && cmd.includes('rf-guard')) {
      try { if (fs.statSync('/proc/' + pid + '/ns/net').ino === prod) { seen.add('guard'); fs.appendFileSync(out, 'GUARD ' + pid + '\\n'); } } catch {}
    }
    // the docker CLI itself (the env loader's sh execs it under the same pid: only its own argv counts)
    const argv0 = cmd.split('\\0');
    if (!seen.has(pid) && argv0[0].endsWith('docker') && argv0[1] === 'create' && cmd.includes('\\0ragflowauth-backend\\0')) {
      try { if (fs.statSync('/proc/' + pid + '/ns/net').ino !== prod) continue; } catch { continue; }
      seen.add(pid);
      fs.appendFileSync(out, 'CREATE ' + JSON.stringify(cmd.slice(0, 300)) + '\\n');
    }
  }
  setTimeout(tick, 1);
};
tick();
`;

function readLog(): { log: string; jsonl: string } {
  const file = loadConfig(labInfo()!.config).logFile;
  const twin = file.replace(/\.log$/, '.jsonl');
  return { log: existsSync(file) ? readFileSync(file, 'utf8') : '', jsonl: existsSync(twin) ? readFileSync(twin, 'utf8') : '' };
}

describe('secrets on the lab', labSkip(), () => {
  let sampler: ChildProcess | undefined;
  const samples = join(tmpdir(), `rf-argv-${TOKEN}.txt`);
  before(async () => {
    labScript(['seed']);
    // PROD's backend as the seed makes it, plus the secrets
    labDocker('prod', ['rm', '-f', 'ragflowauth-backend']);
    labDocker('prod', [
      'run', '-d', '--name', 'ragflowauth-backend', '-p', '8001:8001', '-v', 'ragflowauth-data:/data', '-v', '/opt/ragflowauth/conf:/app/conf:ro',
      ...ENV.flatMap((e) => ['-e', e]),
      '--network', 'ragflowauth-net', '--network-alias', 'backend', '--restart', 'unless-stopped', '--hostname', 'ragflow-backend', 'ragflowauth-backend:v1',
    ]);
    await assertProdServing('with secrets', 'v1');
  });
  after(() => {
    sampler?.kill();
    rmSync(samples, { force: true });
    labDocker('prod', ['rm', '-f', 'ragflowauth-backend-rf-logs']);
  });

  test('a multi-line secret reaches the new container byte for byte and is in no argv, plan, terminal line or log', async () => {
    const plan = releaseflow(['plan']);
    assert.equal(plan.code, 0, plan.out);
    for (const name of ['TLS_PRIVATE_KEY', 'GCP_CREDENTIALS']) assert.match(plan.stdout, new RegExp(`docker create [^\\n]*-e ${name} `), `${name} reaches docker through its environment`);
    assert.match(plan.stdout, /DATABASE_URL=postgres:\/\/app:\*{8}@db:5432\/app/, 'the readable docker run masks the URL password');
    assert.doesNotMatch(plan.out, /visible in ps/);
    const planJson = releaseflow(['plan', '--json']);
    assert.equal(planJson.code, 0, planJson.out);

    writeFileSync(samples, '');
    sampler = spawn(process.execPath, ['-e', SAMPLER, samples, `/run/netns/${labInfo()!.prefix}-prod`], { env: { ...process.env, RF_TOKEN: TOKEN }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const logBefore = readLog();
    const r = releaseflow(['promote', '--yes', '-v']);
    sampler.kill();
    assert.equal(r.code, 0, r.out);
    await assertProdServing('after the release', 'v2');

    const post = labInspect('prod', 'ragflowauth-backend');
    assert.equal(post.Config.Image, 'ragflowauth-backend:v2');
    for (const e of ENV) assert.ok(post.Config.Env.includes(e), `${e.slice(0, e.indexOf('='))} identical in the new container's config`);
    const seen = labDocker('prod', ['exec', 'ragflowauth-backend', 'sh', '-c', 'printf "%s|%s|%s" "$TLS_PRIVATE_KEY" "$GCP_CREDENTIALS" "$DATABASE_URL"']);
    assert.equal(seen, `${PEM}|${JSON_CRED}|${DB_URL}`, 'the process sees the same bytes');

    const argv = readFileSync(samples, 'utf8');
    assert.doesNotMatch(argv, /^LEAK/m, 'no process argv held a secret');
    // the sampler was looking: it saw the release's crash guard on PROD (it lives through the release), and
    // docker create when it caught it (a short process a loaded machine may run between two samples)
    assert.match(argv, /^GUARD /m, "the sampler saw the release's processes on PROD (so it was looking)");
    if (/^CREATE /m.test(argv)) assert.match(argv, /^CREATE .*-e\\u0000TLS_PRIVATE_KEY\\u0000/m, 'docker create takes the value from its environment');

    const { log, jsonl } = readLog();
    const added = { log: log.slice(logBefore.log.length), jsonl: jsonl.slice(logBefore.jsonl.length) };
    assert.match(added.log, /-e TLS_PRIVATE_KEY/, 'the log holds the create command');
    for (const [what, text] of Object.entries({ plan: plan.out, 'plan --json': planJson.out, terminal: r.out, ...added })) {
      assert.ok(!text.includes(TOKEN), `${what} holds no secret`);
    }
    assert.equal(labExec('prod', 'ls /var/lib/releaseflow/ragflowauth/releases/*/*.env 2>/dev/null; true').trim(), '', 'the env file is gone after the create');
  });

  test("/api/logs masks the secrets of the host's containers and URL credentials", async () => {
    labDocker('prod', ['rm', '-f', 'ragflowauth-backend-rf-logs']);
    labDocker('prod', [
      'run', '-d', '--name', 'ragflowauth-backend-rf-logs', ...ENV.flatMap((e) => ['-e', e]), '--entrypoint', 'sh', 'ragflowauth-backend:v1',
      '-c', 'printf "%s\\n" "$TLS_PRIVATE_KEY" "$GCP_CREDENTIALS"; echo "connecting to $DATABASE_URL"; sleep 600',
    ]);
    const config = loadConfig(labInfo()!.config);
    const pool = new HostPool(config);
    let text = '';
    try {
      for (const deadline = Date.now() + 20_000; !text.includes('connecting to') && Date.now() < deadline; await new Promise((r) => setTimeout(r, 300))) {
        text = (await containerLogsAnswer(config, pool, 'prod', 'ragflowauth-backend-rf-logs')).text;
      }
    } finally {
      await pool.close();
    }
    assert.match(text, /connecting to postgres:\/\/app:\*{8}@db:5432\/app/);
    assert.ok(!text.includes(TOKEN), text);
    assert.ok(!text.includes('"client_email"'), 'the JSON credential is masked line by line');
  });
});

// Compose mode on the lab: PROD runs the app by docker compose (v2, then v1), TEST by docker run.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configCopy, dropReleasedImages, planSteps, prodReleaseStates, startReleaseflow, waitGuardsIdle } from './faults-lib.ts';
import { composeV1Skip, labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const SECRETS = ['s3cr3t-Pa55', 'another-secret-value'];
const DIR = '/opt/ragflowauth';

/** null and [] / {} mean the same to the daemon (as in release.test.ts). */
function norm(v: any): any {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(norm);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    return keys.length === 0 ? null : Object.fromEntries(keys.map((k) => [k, norm(v[k])]));
  }
  return v;
}

/** HostConfig for comparison: compose v1 orders Binds as a Python set does, so their order means nothing. */
const hostConfig = (x: any) => norm({ ...x.HostConfig, Binds: [...(x.HostConfig.Binds ?? [])].sort() });
const snapshot = (host: string): Record<string, any> => Object.fromEntries(APP.map((n) => [n, labInspect(host, n)]));
const ids = () => APP.map((n) => labInspect('prod', n).Id as string);
const onProd = (script: string) => labScript(['ssh', 'prod', script]);
const prodHttp = (port: number, path: string) => labDocker('prod', ['exec', 'ragflowauth-backend', 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}${path}`]).trim();
/** lab.sh seed-compose rewrites the project's compose file and .env; the override a release left there goes too. */
const dropOverride = () => onProd(`rm -f ${DIR}/docker-compose.override.yml`);
const seedCompose = (...args: string[]) => {
  dropOverride();
  return labScript(['seed-compose', ...args]);
};
const operatorLabels = (l: Record<string, string>) => Object.fromEntries(Object.entries(l ?? {}).filter(([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('org.opencontainers.')));

function readLog(): string {
  const file = /file:\s*(\S+)/.exec(readFileSync(labInfo()!.config, 'utf8'))![1]!;
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * The configuration a container was asked for, comparable between `docker run` and compose: compose
 * v2 asks for a named volume as a mount (HostConfig.Mounts) where docker run -v uses Binds, names the
 * network by ID in NetworkMode, and adds its own labels and aliases (service and container name).
 * Mounts are compared as the daemon reports them (type, volume name or source, destination, rw).
 */
function requested(x: any, netNames: Record<string, string>): any {
  const id12 = String(x.Id).slice(0, 12);
  const c = { ...x.Config };
  for (const k of ['AttachStdin', 'AttachStdout', 'AttachStderr', 'StdinOnce']) delete c[k];
  if (c.Hostname === id12) c.Hostname = '<id>';
  c.Env = [...(c.Env ?? [])].sort();
  c.Labels = operatorLabels(c.Labels);
  const h = { ...x.HostConfig };
  delete h.Binds;
  delete h.Mounts;
  h.NetworkMode = netNames[h.NetworkMode] ?? h.NetworkMode;
  // aliases are compared by aliasesAdded: compose adds the service and container names
  const nets = Object.fromEntries(Object.entries<any>(x.NetworkSettings.Networks).map(([n, ep]) => [n, { IPAMConfig: ep.IPAMConfig, Links: ep.Links, DriverOpts: ep.DriverOpts }]));
  const mounts = (x.Mounts ?? []).map((m: any) => ({ Type: m.Type, Name: m.Type === 'volume' ? m.Name : undefined, Source: m.Type === 'bind' ? m.Source : undefined, Destination: m.Destination, RW: m.RW })).sort((a: any, b: any) => a.Destination.localeCompare(b.Destination));
  return norm({ Config: c, HostConfig: h, Networks: nets, Mounts: mounts });
}

/** Aliases on each network beyond the operator's: only those the daemon or compose add (ID, hostname, service, name). */
function aliasesAdded(before: any, now: any): string[] {
  const out: string[] = [];
  const own = new Set([String(now.Id).slice(0, 12), now.Config.Hostname, now.Config.Labels?.['com.docker.compose.service'], String(now.Name).replace(/^\//, '')]);
  for (const [n, ep] of Object.entries<any>(before.NetworkSettings.Networks)) {
    const was = new Set<string>((ep.Aliases ?? []).filter((a: string) => a !== String(before.Id).slice(0, 12) && a !== before.Config.Hostname));
    const is = new Set<string>(now.NetworkSettings.Networks[n]?.Aliases ?? []);
    for (const a of was) if (!is.has(a)) out.push(`${n}: alias ${a} lost`);
    for (const a of is) if (!was.has(a) && !own.has(a)) out.push(`${n}: alias ${a} added`);
  }
  return out;
}

describe('compose mode on the lab', labSkip(), () => {
  // compose v2 comes from Debian trixie's .deb (lab.sh compose-v2 fetches it once into a cache)
  before(() => labScript(['compose-v2']));
  // later test files expect the normal seed: both hosts by docker run, no compose files on PROD
  after(() => {
    dropOverride();
    labScript(['seed']);
  });

  for (const flavor of ['2', '1'] as const) {
    const cli = flavor === '2' ? 'docker compose' : 'docker-compose';
    test(`compose v${flavor} on PROD, docker run on TEST: promote, no drift, up to date, rollback`, { skip: flavor === '1' ? composeV1Skip() : false }, () => {
      seedCompose('--compose', flavor);
      const envBefore = onProd(`cat ${DIR}/.env`);
      const pre = snapshot('prod');
      const testSide = snapshot('test');
      const logBefore = readLog().length;
      const r = releaseflow(['promote', '--yes']);
      assert.equal(r.code, 0, r.out);
      const post = snapshot('prod');
      for (const n of APP) {
        assert.equal(post[n].Image, testSide[n].Image, `${n} runs TEST's image ID`);
        assert.notEqual(post[n].Id, pre[n].Id, `${n} was recreated`);
        assert.equal(post[n].State.Running, true);
        assert.equal(post[n].Config.Labels['com.docker.compose.project'], 'ragflowauth', `${n} still belongs to the compose project`);
        assert.equal(post[n].Config.Labels['com.docker.compose.version'].split('.')[0], flavor, `${n} recreated by compose v${flavor}`);
        // every other setting is the project's own, unchanged
        assert.deepEqual(hostConfig(post[n]), hostConfig(pre[n]), `${n} HostConfig unchanged`);
        assert.deepEqual(operatorLabels(post[n].Config.Labels), operatorLabels(pre[n].Config.Labels));
        assert.equal(post[n].Config.Hostname === pre[n].Config.Hostname, n === 'ragflowauth-backend');
        const env = (e: string[]) => e.filter((x) => !x.startsWith('APP_VERSION=')).sort();
        assert.deepEqual(env(post[n].Config.Env), env(pre[n].Config.Env), `${n} env unchanged`);
        for (const [net, ep] of Object.entries<any>(pre[n].NetworkSettings.Networks)) {
          for (const a of ep.Aliases ?? []) if (!pre[n].Id.startsWith(a)) assert.ok(post[n].NetworkSettings.Networks[net].Aliases.includes(a), `${n} alias ${a}`);
        }
      }
      assert.equal(prodHttp(8001, '/version'), 'v2');
      assert.equal(prodHttp(8001, '/health'), 'ok');
      // default file names: compose's own override file pins the images, the .env is not touched
      const override = onProd(`cat ${DIR}/docker-compose.override.yml`);
      assert.match(override, /backend:\n {4}image: ragflowauth-backend:v2/);
      assert.equal(onProd(`cat ${DIR}/.env`), envBefore, '.env unchanged');
      assert.match(onProd(`cat ${DIR}/docker-compose.yml`), /image: ragflowauth-backend:v1/, "the project's own compose file is not changed");
      const log = readLog().slice(logBefore);
      assert.match(log, /\[ReleaseFlow\] compose_path: \/opt\/ragflowauth\/docker-compose\.yml/);
      assert.match(log, /\[ReleaseFlow\] env_path: \/opt\/ragflowauth\/\.env/);
      assert.match(log, new RegExp(`mode on prod: compose via ${cli} `));
      assert.match(log, /mode on test: run/);
      assert.match(log, /no drift: a plain up -d recreates nothing/);
      for (const s of SECRETS) {
        assert.ok(!log.includes(s), `secret ${s} not in the log`);
        assert.ok(!r.out.includes(s), `secret ${s} not in the output`);
      }

      // no drift: the operator's plain `up -d` in the project dir recreates nothing
      const released = ids();
      onProd(`cd ${DIR} && ${cli} up -d`);
      assert.deepEqual(ids(), released, 'a plain up -d recreated nothing');

      const again = releaseflow(['promote', '--yes']);
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /already up to date/);
      assert.deepEqual(ids(), released);

      const rb = releaseflow(['rollback', '--yes']);
      assert.equal(rb.code, 0, rb.out);
      const back = snapshot('prod');
      for (const n of APP) {
        assert.equal(back[n].Image, pre[n].Image, `${n} runs the previous image again`);
        assert.equal(back[n].Config.Image, pre[n].Config.Image);
        assert.equal(back[n].Config.Labels['com.docker.compose.config-hash'], pre[n].Config.Labels['com.docker.compose.config-hash'], `${n} has the configuration it had before the release`);
        assert.deepEqual(hostConfig(back[n]), hostConfig(pre[n]));
      }
      assert.equal(prodHttp(8001, '/version'), 'v1');
      assert.equal(onProd(`cat ${DIR}/.env`), envBefore, '.env restored');
      assert.equal(onProd(`test -e ${DIR}/docker-compose.override.yml && echo present || echo absent`).trim(), 'absent');
      const restored = ids();
      onProd(`cd ${DIR} && ${cli} up -d`);
      assert.deepEqual(ids(), restored, 'no drift after the rollback either');
    });
  }

  test('compose v2, TEST on v3 (health fails): exit 1, PROD back on its images and files, no drift', () => {
    seedCompose('--compose', '2', 'v3');
    const envBefore = onProd(`cat ${DIR}/.env`);
    const pre = snapshot('prod');
    const logBefore = readLog().length;
    const r = releaseflow(['promote', '--yes']);
    assert.equal(r.code, 1, r.out);
    const post = snapshot('prod');
    for (const n of APP) {
      assert.equal(post[n].Image, pre[n].Image, `${n} runs its previous image`);
      assert.equal(post[n].State.Running, true);
      assert.equal(post[n].Config.Labels['com.docker.compose.config-hash'], pre[n].Config.Labels['com.docker.compose.config-hash']);
      assert.deepEqual(hostConfig(post[n]), hostConfig(pre[n]));
    }
    assert.equal(prodHttp(8001, '/health'), 'ok');
    assert.equal(onProd(`cat ${DIR}/.env`), envBefore, '.env restored');
    assert.equal(onProd(`test -e ${DIR}/docker-compose.override.yml && echo present || echo absent`).trim(), 'absent');
    const log = readLog().slice(logBefore);
    assert.match(log, /health ragflowauth-backend FAILED/);
    assert.match(log, /docker logs --tail 200 ragflowauth-backend/);
    assert.match(log, /rollback: restore compose files ragflowauth ok/);
    assert.match(log, /result: rolled-back \(exit 1\)/);
    const restored = ids();
    onProd(`cd ${DIR} && docker compose up -d`);
    assert.deepEqual(ids(), restored, 'no drift after the automatic rollback');
  });

  test('hooks around a compose release: pre runs, a failing post hook brings the project back with its files, then the rollback hook runs', () => {
    seedCompose('--compose', '2');
    const envBefore = onProd(`cat ${DIR}/.env`);
    const pre = snapshot('prod');
    const out = join(mkdtempSync(join(tmpdir(), 'rf-compose-hooks-')), 'hooks.txt');
    const cfg = configCopy(`hooks:\n  pre: "echo pre $RELEASEFLOW_CONTAINERS >> ${out}"\n  post: { command: "echo post on $(hostname); exit 1", on: prod }\n  rollback: "echo rollback $RELEASEFLOW_RESULT >> ${out}"\n`);
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /post hook failed on prod/);
    for (const n of APP) assert.equal(labInspect('prod', n).Image, pre[n].Image, `${n} runs its previous image`);
    assert.equal(onProd(`cat ${DIR}/.env`), envBefore, '.env restored');
    assert.equal(onProd(`test -e ${DIR}/docker-compose.override.yml && echo present || echo absent`).trim(), 'absent');
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['pre ragflowauth-backend ragflowauth-frontend', 'rollback rolled-back']);
  });

  test('compose release SIGKILLed at every step: the crash guard restores images and files by itself; status sees it; recover finishes', async (t) => {
    seedCompose('--compose', '2');
    const cfg = configCopy('');
    const steps = planSteps(cfg);
    assert.ok(steps.some((s) => /compose up/.test(s.name)), `a compose up step: ${steps.map((s) => s.name).join(', ')}`);
    const M = steps.length;
    for (let n = 1; n <= M; n++) {
      await t.test(`SIGKILL at step ${n}/${M} ${steps[n - 1]!.name}`, async () => {
        // PROD without TEST's images again, so every run has the same steps (the project itself is as
        // the seed left it: the last iteration's recover put back its images and files, asserted below)
        dropReleasedImages();
        const envBefore = onProd(`cat ${DIR}/.env`);
        const pre = snapshot('prod');
        const run = startReleaseflow(['promote', '--yes', '-v'], { RELEASEFLOW_CONFIG: cfg });
        await run.waitFor(new RegExp(`step ${n}/${M} .*started on`));
        process.kill(run.child.pid!, 'SIGKILL');
        await run.exited;
        await waitGuardsIdle();
        // before anyone runs recover: PROD's project is back on its images and files, serving v1
        for (const c of APP) assert.equal(labInspect('prod', c).Image, pre[c].Image, `${c} runs its previous image again`);
        assert.equal(onProd(`cat ${DIR}/.env`), envBefore, '.env as it was');
        assert.equal(prodHttp(8001, '/version'), 'v1');
        assert.ok(Object.values(prodReleaseStates()).includes('rolled-back'), 'the journal says rolled-back');
        if (n === 1 || n === M) {
          const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: cfg } });
          assert.match(st.stdout, /prod: INTERRUPTED release \d{8}T\d{6}Z was interrupted: promote by .* PROD's crash guard already restored/, st.out);
        }
        const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
        assert.equal(rec.code, 0, rec.out);
        for (const c of APP) assert.equal(labInspect('prod', c).Image, pre[c].Image);
        assert.equal(onProd(`cat ${DIR}/.env`), envBefore);
        assert.ok(Object.values(prodReleaseStates()).every((x) => x === 'done'), 'every release done after recover');
      });
    }
    // and the next release goes through
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
    assert.equal(r.code, 0, r.out);
    assert.equal(prodHttp(8001, '/version'), 'v2');
  });

  test('compose file missing on PROD: promote falls back to run mode, succeeds, and the log says so', () => {
    seedCompose();
    onProd(`rm ${DIR}/docker-compose.yml`);
    const testSide = snapshot('test');
    const logBefore = readLog().length;
    const r = releaseflow(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    for (const n of APP) {
      const now = labInspect('prod', n);
      assert.equal(now.Image, testSide[n].Image);
      assert.equal(now.State.Running, true);
    }
    const log = readLog().slice(logBefore);
    assert.match(log, /WARNING|warning: /);
    assert.match(log, /the compose labels name \/opt\/ragflowauth\/docker-compose\.yml, which is missing on prod; releasing them in run mode \(docker run\) instead/);
    assert.match(log, /mode on prod: run/);
    assert.match(log, /step \d+\/\d+ swap ragflowauth-backend ok/);
    assert.equal(prodHttp(8001, '/version'), 'v2');
  });

  test("export-compose of the seed's docker-run containers, then docker compose up -d: the same configuration", () => {
    dropOverride();
    labScript(['seed']);
    const pre = snapshot('prod');
    const printed = releaseflow(['export-compose', 'prod']);
    assert.equal(printed.code, 0, printed.out);
    assert.match(printed.stdout, /^name: ragflowauth$/m);
    for (const s of SECRETS) assert.ok(!printed.out.includes(s), `secret ${s} masked on stdout`);
    const w = releaseflow(['export-compose', 'prod', '--write']);
    assert.equal(w.code, 0, w.out);
    assert.match(w.stderr, /wrote \/opt\/ragflowauth\/docker-compose\.yml on prod/);
    const again = releaseflow(['export-compose', 'prod', '--write']);
    assert.equal(again.code, 2, again.out);
    assert.match(again.stderr, /already exists on prod; not overwritten/);
    assert.equal(onProd(`stat -c %a ${DIR}/docker-compose.yml`).trim(), '600', 'a file with secrets is 0600');
    // the migration: the docker-run containers stopped and kept aside, compose creates the app
    onProd(`for c in ${APP.join(' ')}; do docker stop "$c" >/dev/null && docker rename "$c" "$c-docker-run"; done; cd ${DIR} && docker compose up -d`);
    const nets = Object.fromEntries(labDocker('prod', ['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}']).trim().split('\n').map((l) => l.split(' ')));
    const post = snapshot('prod');
    for (const n of APP) {
      assert.equal(post[n].Config.Labels['com.docker.compose.project'], 'ragflowauth', `${n} is now run by compose`);
      assert.deepEqual(requested(post[n], nets), requested(pre[n], nets), `${n}: configuration equal`);
      assert.deepEqual(aliasesAdded(pre[n], post[n]), [], `${n}: network aliases`);
    }
    assert.equal(prodHttp(8001, '/health'), 'ok');
    assert.equal(labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/data/seed.txt']).trim(), 'ragflowauth seed data: written once by lab.sh seed', 'the volume (and its data) was adopted');
    onProd(`docker rm ${APP.map((n) => `${n}-docker-run`).join(' ')} >/dev/null`);
  });
});

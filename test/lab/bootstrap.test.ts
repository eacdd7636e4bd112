// Bootstrap: a first release onto a PROD with none of the app's containers and none of its networks.
// promote --create builds them from TEST's inspect with PROD's overrides (create: in the config), creating
// the network and the named volume; `releaseflow rollback` removes what it created and keeps the volume;
// a bootstrap whose health fails leaves PROD as it was (exit 1); without --create the clear refusal (exit 2).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startReleaseflow, waitGuardsIdle } from './faults-lib.ts';
import { LAB_DIR, labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const APP = ['ragflowauth-backend', 'ragflowauth-frontend'];
const GREETING = `prod's "hi" $(id) \`x\` $HOME`;
const PROD_DB_PASSWORD = 'prod-db-Pa55-from-file';
const PROD_EXTRA = 'prod-extra-from-config';
const ENV_FILE = '/opt/ragflowauth/prod-secrets.env';

/** The lab's config with create: under each container: PROD's env, env file, port (per host), bind and network. */
function bootstrapConfig(healthTimeout = '30s'): string {
  const base = readFileSync(labInfo()!.config, 'utf8');
  const containers = `containers:
  - name: ragflowauth-backend
    health: { url: "http://127.0.0.1:8002/health" }
    create:
      env: { GREETING: ${JSON.stringify(GREETING)}, EXTRA_SECRET_NAME: ${JSON.stringify(PROD_EXTRA)} }
      envFile: ${ENV_FILE}
      ports: ["8001:8001"]
      binds: { /opt/ragflowauth/conf: /opt/ragflowauth/prod-conf }
      networks: { ragflowauth-net: rf-prod-net }
      hosts:
        prod: { ports: ["8002:8001"] }   # this host's own port wins over the shared one
  - name: ragflowauth-frontend
    health: { url: "http://127.0.0.1:8080/" }
    create: { networks: { ragflowauth-net: rf-prod-net } }
`;
  const text = base.replace(/containers:\n(?: {2}.*\n)+/, containers).replace(/timeout: \S+/, `timeout: ${healthTimeout}`);
  assert.notEqual(text, base);
  const file = join(LAB_DIR, 'bootstrap.yml');
  writeFileSync(file, text);
  return file;
}

const has = (kind: 'container' | 'network' | 'volume', name: string) => {
  try {
    labDocker('prod', [kind, 'inspect', name]);
    return true;
  } catch {
    return false;
  }
};
const appContainers = () => labDocker('prod', ['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('ragflowauth-'));
const envOf = (name: string) => Object.fromEntries((labInspect('prod', name).Config.Env as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

/** PROD without the app: no containers, no network (and no volume unless kept); PROD's secrets in its own env file. */
function emptyProd(opts: { keepVolume: boolean }): void {
  labDocker('prod', ['rm', '-f', ...APP]);
  for (const n of ['ragflowauth-net', 'rf-prod-net']) if (has('network', n)) labDocker('prod', ['network', 'rm', n]);
  if (!opts.keepVolume) labDocker('prod', ['volume', 'rm', 'ragflowauth-data']);
  labScript(['exec', 'prod', 'sh', '-c', `mkdir -p /opt/ragflowauth/prod-conf && echo prod=1 >/opt/ragflowauth/prod-conf/app.conf && rm -f ${ENV_FILE} && umask 077 && printf '# prod secrets\\nDB_PASSWORD=${PROD_DB_PASSWORD}\\n' >${ENV_FILE}`]);
  assert.deepEqual(appContainers(), []);
  assert.equal(has('network', 'ragflowauth-net'), false);
}

describe('bootstrap: promote --create onto an empty PROD', labSkip(), () => {
  // the next lab file finds the seeded demo again (PROD with its containers, network and volume)
  after(() => labScript(['seed']));

  test('without --create: the clear refusal naming --create (exit 2), nothing created', () => {
    labScript(['seed']);
    emptyProd({ keepVolume: false });
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: bootstrapConfig() } });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /container ragflowauth-backend not found on prod/);
    assert.match(r.out, /releaseflow promote --create/);
    assert.deepEqual(appContainers(), []);
    assert.equal(has('network', 'rf-prod-net'), false);
  });

  test("creates both from TEST's inspect with PROD's overrides, network and volume; rollback removes them, keeps the volume", () => {
    const config = bootstrapConfig();
    const testSecrets = ['DB_PASSWORD', 'EXTRA_SECRET_NAME'].map((n) => (labInspect('test', 'ragflowauth-backend').Config.Env as string[]).find((e) => e.startsWith(`${n}=`))!.split('=')[1]!);
    const plan = releaseflow(['plan', '--create'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.out, /prod has no ragflowauth-backend: CREATE it from test's inspect with ragflowauth-backend:v2 .*creating network rf-prod-net, volume ragflowauth-data first/);
    assert.match(plan.out, /env DB_PASSWORD: secret; test's value is not copied, prod's comes from the env file/);

    const r = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(r.code, 0, r.out);
    const b = labInspect('prod', 'ragflowauth-backend');
    assert.equal(b.State.Running, true);
    assert.equal(b.Config.Image, 'ragflowauth-backend:v2');
    const env = envOf('ragflowauth-backend');
    assert.equal(env.GREETING, GREETING, 'a value with quotes, $(...) and backticks arrives as written');
    assert.equal(env.DB_PASSWORD, PROD_DB_PASSWORD, "from PROD's own env file");
    assert.equal(env.EXTRA_SECRET_NAME, PROD_EXTRA);
    for (const s of testSecrets) {
      assert.ok(!Object.values(env).includes(s), "TEST's secret is not copied to PROD");
      assert.ok(!r.out.includes(s), "TEST's secret is not in the output");
    }
    assert.ok(!r.out.includes(PROD_DB_PASSWORD) && !r.out.includes(PROD_EXTRA), "PROD's secrets are not in the output");
    assert.deepEqual(b.HostConfig.PortBindings, { '8001/tcp': [{ HostIp: '', HostPort: '8002' }] });
    // (the docker CLI passes -v entries in map order: compare as sets)
    assert.deepEqual([...b.HostConfig.Binds].sort(), ['/opt/ragflowauth/prod-conf:/app/conf:ro', 'ragflowauth-data:/data']);
    assert.deepEqual(Object.keys(b.NetworkSettings.Networks), ['rf-prod-net']);
    assert.ok(b.NetworkSettings.Networks['rf-prod-net'].Aliases.includes('backend'));
    assert.equal(labInspect('prod', 'ragflowauth-frontend').State.Health.Status, 'healthy');
    assert.equal(has('network', 'ragflowauth-net'), false, "TEST's network name is not created: the override maps it");
    assert.equal(JSON.parse(labDocker('prod', ['network', 'inspect', 'rf-prod-net']))[0].Labels['io.releaseflow.created-by'], r.out.match(/release (\d{8}T\d{6}Z)/)![1]);
    assert.equal(has('volume', 'ragflowauth-data'), true);
    // health passes from PROD itself, on the overridden port, through the frontend's alias lookup on the new network
    assert.match(labScript(['exec', 'prod', 'sh', '-c', 'wget -qO- http://127.0.0.1:8002/health; wget -qO- http://127.0.0.1:8080/health']), /ok[\s\S]*ok/);
    labDocker('prod', ['exec', 'ragflowauth-backend', 'sh', '-c', 'echo kept >/data/marker']);

    const rb = releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(rb.code, 0, rb.out);
    assert.match(rb.out, /ragflowauth-backend: ragflowauth-backend:v2 -> removed/);
    assert.deepEqual(appContainers(), [], 'the containers it created are gone (none kept aside)');
    assert.equal(has('network', 'rf-prod-net'), false, 'the network it created is gone');
    assert.equal(has('volume', 'ragflowauth-data'), true, 'the volume is kept');
    const mount = JSON.parse(labDocker('prod', ['volume', 'inspect', 'ragflowauth-data']))[0].Mountpoint;
    assert.equal(labScript(['exec', 'prod', 'cat', `${mount}/marker`]).trim(), 'kept', 'with its data');
    // a second rollback would undo that rollback: nothing of a removed container to bring back, said so
    const again = releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(again.code, 1, again.out);
    assert.match(again.out, /removed ragflowauth-backend, ragflowauth-frontend \(it undid the release that created them\): nothing to bring back on prod/);
    assert.match(again.out, /releaseflow promote --create/);
    assert.deepEqual(appContainers(), []);
  });

  test('a bootstrap whose health fails (TEST on v3) leaves PROD as it was: no container, no network, the volume kept (exit 1)', () => {
    labScript(['seed', 'v3']);
    emptyProd({ keepVolume: true });
    const r = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: bootstrapConfig('6s') } });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /ragflowauth-backend is not healthy on prod/);
    assert.match(r.out, /rollback: remove ragflowauth-backend ok/);
    assert.deepEqual(appContainers(), []);
    assert.equal(has('network', 'rf-prod-net'), false);
    assert.equal(has('volume', 'ragflowauth-data'), true);
  });

  test("releaseflow killed mid-bootstrap: PROD's crash guard removes what it created (the volume kept); recover finishes it", async () => {
    labScript(['seed']);
    emptyProd({ keepVolume: false });
    const config = bootstrapConfig();
    const run = startReleaseflow(['promote', '--create', '--yes', '-v'], { RELEASEFLOW_CONFIG: config });
    // the backend is created and healthy, the frontend's create has started
    await run.waitFor(/step 7\/8 create ragflowauth-frontend started/);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exited;
    await waitGuardsIdle();
    assert.deepEqual(appContainers(), [], 'the guard removed the containers the release created');
    assert.equal(has('network', 'rf-prod-net'), false, 'and the network it created');
    assert.equal(has('volume', 'ragflowauth-data'), true, 'the volume is kept');
    const rec = releaseflow(['recover', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(rec.code, 0, rec.out);
    assert.match(rec.out, /the containers it created removed \(ragflowauth-backend, ragflowauth-frontend; volumes kept\)/);
    assert.deepEqual(appContainers(), []);
  });

  test("compose mode: a container TEST runs in a compose project is not created; the error names the project's files PROD needs (exit 2)", () => {
    labScript(['seed']);
    emptyProd({ keepVolume: true });
    // TEST's backend as compose runs it: the project's labels (its files exist on TEST only)
    const labels = { 'com.docker.compose.project': 'ragflowauth', 'com.docker.compose.service': 'backend', 'com.docker.compose.project.working_dir': '/opt/ragflowauth', 'com.docker.compose.project.config_files': '/opt/ragflowauth/docker-compose.yml' };
    labDocker('test', ['rm', '-f', 'ragflowauth-backend']);
    labDocker('test', ['run', '-d', '--name', 'ragflowauth-backend', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), '-p', '8001:8001', 'ragflowauth-backend:v2']);
    labScript(['exec', 'prod', 'rm', '-f', '/opt/ragflowauth/docker-compose.yml']);
    const config = bootstrapConfig();
    const r = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /cannot create ragflowauth-backend on prod: on test it runs in compose project ragflowauth, and creating it needs the project's files on prod: missing \/opt\/ragflowauth\/docker-compose\.yml/);
    assert.match(r.out, /releaseflow does not create the files/);
    assert.deepEqual(appContainers(), [], 'nothing was created');
    // with the files on PROD: still not created by releaseflow, and it says how to start the project there
    labScript(['exec', 'prod', 'sh', '-c', 'printf "services: {}\\n" >/opt/ragflowauth/docker-compose.yml']);
    const again = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: config } });
    assert.equal(again.code, 2, again.out);
    assert.match(again.out, /the project's files are on prod, and compose, not releaseflow, creates its containers/);
    assert.match(again.out, /docker compose -p ragflowauth up -d backend/);
    assert.deepEqual(appContainers(), []);
    labScript(['exec', 'prod', 'rm', '-f', '/opt/ragflowauth/docker-compose.yml']);
  });

  test('a sudo: true PROD (SSH user not in the docker group): created through sudo, the env file read as the SSH user', () => {
    labScript(['sudo-user']);
    labScript(['seed']);
    emptyProd({ keepVolume: true });
    const config = readFileSync(bootstrapConfig(), 'utf8').replace(/(\n {2}prod:\n(?: {4}.*\n)*? {4})user: root\n/, '$1user: rfdeploy\n    sudo: true\n');
    assert.match(config, /user: rfdeploy\n {4}sudo: true/);
    const file = join(LAB_DIR, 'bootstrap-sudo.yml');
    writeFileSync(file, config);
    // root's 0600 file: the SSH user cannot read its names, so nothing starts (exit 2)
    const r = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: file } });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /its env file \/opt\/ragflowauth\/prod-secrets\.env \(create\.envFile\) does not exist on prod or the SSH user cannot read it/);
    assert.deepEqual(appContainers(), []);
    labScript(['exec', 'prod', 'chown', 'rfdeploy', ENV_FILE]);
    const ok = releaseflow(['promote', '--create', '--yes'], { env: { RELEASEFLOW_CONFIG: file } });
    assert.equal(ok.code, 0, ok.out);
    assert.equal(envOf('ragflowauth-backend').DB_PASSWORD, PROD_DB_PASSWORD);
    assert.equal(envOf('ragflowauth-backend').GREETING, GREETING);
    const rb = releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: file } });
    assert.equal(rb.code, 0, rb.out);
    assert.deepEqual(appContainers(), []);
    assert.equal(has('network', 'rf-prod-net'), false);
    assert.equal(has('volume', 'ragflowauth-data'), true);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerInput, PromotionInput } from '../../src/core/plan.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { runTarget } from '../../src/targets/run/index.ts';
import { renderPlan } from '../../src/core/render-plan.ts';
import { basisChanged } from '../../src/core/step.ts';
import { renderSeccompWrite } from '../../src/core/seccomp.ts';
import { rebuildContainer } from '../../src/workflows/rebuild.ts';
import { fixture } from './fixtures.ts';

const prodBackend = fixture('prod-backend-v1.inspect.json');
const testBackend = fixture('test-backend-v2.inspect.json');
const imgV1 = fixture('image-backend-v1.inspect.json');
const imgV2 = fixture('image-backend-v2.inspect.json');
const prodFrontend = fixture('prod-frontend-v1.inspect.json');
const testFrontend = fixture('test-frontend-v2.inspect.json');
const imgFrontV1 = fixture('image-frontend-v1.inspect.json');

function input(containers: ContainerInput[]): PromotionInput {
  return {
    app: 'ragflowauth',
    releaseId: '20261128T150102Z',
    stateDir: '/var/lib/releaseflow',
    from: { name: 'test', address: '10.213.7.11' },
    to: { name: 'prod', address: '10.213.7.12' },
    containers,
    intervalMs: 1000,
    rebuild: (c, image, envFile) => rebuildContainer(c, image, envFile, ['EXTRA_SECRET_NAME']),
  };
}

/** A release where every container runs by docker run (the run target alone). */
const planPromotion = (i: PromotionInput) => planRelease(i, [{ target: runTarget, observed: { facts: undefined, header: [], warnings: [] } }]);

const backend = (over: Partial<ContainerInput> = {}): ContainerInput => ({
  name: 'ragflowauth-backend',
  healthUrl: 'http://127.0.0.1:8001/health',
  healthTimeoutMs: 30_000,
  source: testBackend,
  sourceImage: imgV2,
  target: prodBackend,
  targetImage: imgV1,
  targetMode: 'run',
  targetHasSourceImage: false,
  ...over,
});

test('plans snapshot, transfer, tags, swap and health for a changed container', () => {
  const plan = planPromotion(input([backend()]));
  assert.equal(plan.upToDate, false);
  assert.deepEqual(
    plan.steps.map((s) => s.name),
    ['snapshot', 'transfer ragflowauth-backend:v2', 'tag images', 'swap ragflowauth-backend', 'health ragflowauth-backend'],
  );
  const transfer = plan.steps[1]!;
  assert.equal(transfer.kind === 'transfer' && transfer.imageId, testBackend.Image);
  const swap = plan.steps[3]!;
  assert.ok(swap.kind === 'exec');
  const lines = swap.commands.map((c) => (c.argv ? c.argv.join(' ') : c.script));
  assert.equal(lines[1], 'docker rename ragflowauth-backend ragflowauth-backend-rf-prev-20261128T150102Z');
  assert.match(lines[2]!, /^docker create .*--env-file \/var\/lib\/releaseflow\/ragflowauth\/releases\/20261128T150102Z\/ragflowauth-backend\.env/);
  assert.match(lines[2]!, / ragflowauth-backend:v2$/);
  assert.ok(lines.includes('docker stop ragflowauth-backend-rf-prev-20261128T150102Z >/dev/null && docker start ragflowauth-backend'));
  assert.ok(lines.indexOf('docker update --restart no ragflowauth-backend-rf-prev-20261128T150102Z') < lines.length - 1);
  assert.ok(lines.includes('docker update --restart no ragflowauth-backend-rf-prev-20261128T150102Z'));
});

test('secrets never reach argv or the rendered plan; they go to the env file', () => {
  const plan = planPromotion(input([backend()]));
  const text = renderPlan(plan);
  assert.doesNotMatch(text, /s3cr3t-Pa55|another-secret-value/);
  assert.match(text, /DB_PASSWORD=\*{8}/);
  const swap = plan.steps[3]!;
  assert.ok(swap.kind === 'exec');
  const argvText = swap.commands.flatMap((c) => c.argv ?? []).join('\n');
  assert.doesNotMatch(argvText, /s3cr3t-Pa55/);
  assert.match(swap.commands[0]!.stdin!, /^DB_PASSWORD=s3cr3t-Pa55$/m);
});

test('PROD already has the image: no transfer step', () => {
  const plan = planPromotion(input([backend({ targetHasSourceImage: true })]));
  assert.ok(!plan.steps.some((s) => s.kind === 'transfer'));
});

test('same image IDs on both hosts: up to date, no steps', () => {
  const plan = planPromotion(input([backend({ source: prodBackend, sourceImage: imgV1 })]));
  assert.equal(plan.upToDate, true);
  assert.equal(plan.steps.length, 0);
  assert.match(renderPlan(plan), /already up to date/);
});

test('a missing container on PROD is an operator error (exit 2) naming the fix', () => {
  assert.throws(
    () => planPromotion(input([backend({ target: undefined, targetImage: undefined })])),
    (e: any) => e.exitCode === 2 && /not found on prod/.test(e.message) && /run-command/.test(e.detail.fix),
  );
});

test('frontend health waits for Docker HEALTHCHECK because its image defines one', () => {
  const front: ContainerInput = {
    name: 'ragflowauth-frontend',
    healthUrl: 'http://127.0.0.1:8080/',
    healthTimeoutMs: 30_000,
    source: testFrontend,
    sourceImage: imgFrontV1,
    target: prodFrontend,
    targetImage: imgFrontV1,
    targetMode: 'run',
    targetHasSourceImage: false,
  };
  const plan = planPromotion(input([backend(), front]));
  const h = plan.steps.find((s) => s.kind === 'health' && s.container === 'ragflowauth-frontend');
  assert.ok(h && h.kind === 'health' && h.dockerHealth === true);
  const hb = plan.steps.find((s) => s.kind === 'health' && s.container === 'ragflowauth-backend');
  assert.ok(hb && hb.kind === 'health' && hb.dockerHealth === false);
});

test('--direct: the transfer step carries the route and the plan says the bytes skip this machine', () => {
  const relayed = renderPlan(planPromotion(input([backend()])));
  assert.match(relayed, /-> {2}stream via this machine {2}->/);
  const plan = planPromotion({ ...input([backend()]), direct: { address: '10.0.0.11', user: 'deploy', identityFile: '/root/.ssh/id_rf' } });
  const t = plan.steps.find((s) => s.kind === 'transfer');
  assert.deepEqual(t?.kind === 'transfer' && t.direct, { address: '10.0.0.11', user: 'deploy', identityFile: '/root/.ssh/id_rf' });
  assert.match(renderPlan(plan), /-> {2}straight to prod \(its own ssh to deploy@10\.0\.0\.11 \(key \/root\/\.ssh\/id_rf\)\) {2}-> {2}docker load on prod/);
});

test('--cidfile is kept: the swap removes the retired container\'s file right before docker create writes the new one; run-command shows it', () => {
  const withCid = structuredClone(prodBackend);
  withCid.HostConfig.ContainerIDFile = '/run/app/backend.cid';
  const plan = planPromotion(input([backend({ target: withCid })]));
  const swap = plan.steps.find((s) => s.name === 'swap ragflowauth-backend')!;
  assert.ok(swap.kind === 'exec');
  const lines = swap.commands.map((c) => (c.argv ? c.argv.join(' ') : c.script));
  const rm = lines.indexOf('rm -f -- /run/app/backend.cid');
  assert.ok(rm > 0, lines.join('\n'));
  assert.match(lines[rm + 1]!, /^docker create .*--cidfile \/run\/app\/backend\.cid /);
  assert.ok(lines.indexOf('docker rename ragflowauth-backend ragflowauth-backend-rf-prev-20261128T150102Z') < rm, 'after the old container is renamed aside');
  assert.ok(!plan.warnings.some((w) => /cidfile/i.test(w)), 'no longer dropped with a warning');
  const run = plan.containers.find((c) => c.name === 'ragflowauth-backend')!.runCommand!;
  assert.match(run, /^rm -f -- \/run\/app\/backend\.cid\ndocker run -d \\\n {2}--name ragflowauth-backend \\\n {2}--cidfile \/run\/app\/backend\.cid/);
});


test('an inline seccomp profile is written to a 0600 file in the release folder before docker create names it; run-command prints the write', () => {
  const profile = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}';
  const withSeccomp = structuredClone(prodBackend);
  withSeccomp.HostConfig.SecurityOpt = [`seccomp=${profile}`];
  const plan = planPromotion(input([backend({ target: withSeccomp })]));
  const swap = plan.steps.find((s) => s.name === 'swap ragflowauth-backend')!;
  assert.ok(swap.kind === 'exec');
  const file = '/var/lib/releaseflow/ragflowauth/releases/20261128T150102Z/ragflowauth-backend.seccomp.json';
  const write = swap.commands.findIndex((c) => c.script === `umask 077 && cat > ${file}`);
  assert.ok(write >= 0, swap.commands.map((c) => c.script ?? c.argv?.join(' ')).join('\n'));
  assert.equal(swap.commands[write]!.stdin, profile, 'the profile from inspect, byte for byte');
  const create = swap.commands.findIndex((c) => c.argv?.[0] === 'docker' && c.argv[1] === 'create');
  assert.ok(write < create);
  assert.ok(swap.commands[create]!.argv!.includes(`seccomp=${file}`));
  const run = plan.containers.find((c) => c.name === 'ragflowauth-backend')!.runCommand!;
  assert.ok(run.includes(`--security-opt seccomp=${file} \\`), run);
  assert.doesNotMatch(run, /path\/to/, 'no placeholder path');
  const shown = renderSeccompWrite('/var/lib/releaseflow/app/seccomp/web.seccomp.json', profile);
  assert.equal(shown, `( umask 077 && mkdir -p /var/lib/releaseflow/app/seccomp && cat > /var/lib/releaseflow/app/seccomp/web.seccomp.json ) <<'RELEASEFLOW_SECCOMP_EOF'\n${profile}\nRELEASEFLOW_SECCOMP_EOF`);
});

test('basisChanged: nothing for the same facts; the new line when PROD changed; a container gone counts too', () => {
  const plan = planPromotion(input([backend()]));
  assert.deepEqual(basisChanged(plan, planPromotion(input([backend()]))), []);
  const moved = planPromotion(input([backend({ target: { ...prodBackend, Id: `f${prodBackend.Id.slice(1)}` } })]));
  const changed = basisChanged(plan, moved);
  assert.equal(changed.length, 1);
  assert.match(changed[0]!, /^ragflowauth-backend: prod container f/);
  const two = planPromotion(input([backend(), { ...backend(), name: 'ragflowauth-frontend', source: testFrontend, target: prodFrontend, targetImage: imgFrontV1 }]));
  assert.deepEqual(basisChanged(two, plan), ['other containers']);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { SshHost } from '../../src/adapters/ssh.ts';
import { parseConfig } from '../../src/core/config.ts';
import type { ReleaseFacts } from '../../src/core/release-facts.ts';
import { EventBus } from '../../src/events/bus.ts';
import { runHook } from '../../src/workflows/hooks.ts';
import type { Ports } from '../../src/workflows/ports.ts';

const HOSTILE = `it's $(echo pwned) \`id\`\nsecond line`;
const FACTS: ReleaseFacts = { kind: 'promote', app: 'app', releaseId: 'r1', from: 'test', to: 'prod', containers: [{ name: 'web-1', oldImage: 'web:v1', newImage: HOSTILE }] };

function ports(hooks: string): { ports: Ports; scripts: string[] } {
  const config = parseConfig(`app: app\nhosts:\n  test: { address: 10.0.0.1 }\n  prod: { address: 10.0.0.2 }\ncontainers: [web-1]\nhooks:\n${hooks}`, '/tmp/rf.yml');
  const scripts: string[] = [];
  // a host that runs the script with the local sh, as ssh would run it on PROD
  const prod = {
    name: 'prod',
    run: async (r: { script: string }) => {
      scripts.push(r.script);
      const p = spawnSync('sh', ['-c', r.script], { encoding: 'utf8' });
      return { code: p.status ?? 1, stdout: p.stdout, stderr: p.stderr };
    },
  } as unknown as SshHost;
  const bus = new EventBus();
  bus.redactor.add(['hunter22']);
  return { ports: { config, hosts: new Map([['prod', prod]]), bus, clock: () => new Date() }, scripts };
}

const infos = (p: Ports) => p.bus.history.flatMap((e) => (e.type === 'info' ? [e.message] : []));

test('local hook: facts as env, output in the log with secrets masked', async () => {
  const { ports: p } = ports('  pre: \'printf "%s|%s" "$RELEASEFLOW_HOOK" "$RELEASEFLOW_NEW_IMAGE_WEB_1"; echo " pw=hunter22"\'\n');
  assert.equal(await runHook(p, 'pre', FACTS), undefined);
  const out = infos(p).find((m) => m.startsWith('pre hook output'));
  assert.equal(out, `pre hook output:\npre|${HOSTILE} pw=********`);
});

test('a failing or slow hook is an error naming the hook, its exit and the fix', async () => {
  const { ports: p } = ports('  post: "echo broken >&2; exit 4"\n  rollback: { command: "sleep 5", timeout: 1s }\n');
  const err = await runHook(p, 'post', FACTS);
  assert.match(err?.message ?? '', /^post hook failed on this machine \(exit 4/);
  assert.match(err?.detail.fix ?? '', /hooks\.post/);
  assert.equal(err?.detail.output, 'broken');
  const slow = await runHook(p, 'rollback', FACTS);
  assert.match(slow?.message ?? '', /rollback hook timed out after 1s/);
  assert.equal(await runHook(p, 'pre', FACTS), undefined, 'no pre hook configured');
});

test('hook on a host: values exported quoted at the top of the script; hostile ones arrive unchanged', async () => {
  const { ports: p, scripts } = ports('  pre: { command: \'printf %s "$RELEASEFLOW_NEW_IMAGE_WEB_1"\', on: prod }\n');
  const err = await runHook(p, 'pre', FACTS);
  assert.equal(err, undefined, err?.message);
  assert.equal(infos(p).find((m) => m.startsWith('pre hook output')), `pre hook output:\n${HOSTILE}`);
  assert.match(scripts[0]!, /^export RELEASEFLOW_KIND=promote\n/);
  assert.ok(scripts[0]!.includes(`export RELEASEFLOW_NEW_IMAGE_WEB_1='it'\\''s $(echo pwned) \`id\`\nsecond line'`));
});

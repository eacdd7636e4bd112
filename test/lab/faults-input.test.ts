// Hostile input: broken configs are refused before anything is touched; hostile env values, labels,
// paths and working dirs on PROD's containers are never executed and come through a release exactly.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';
import { assertProdAsBefore, assertProdServing, labExec, snapshotProd } from './faults-lib.ts';

describe('hostile input', labSkip(), () => {
  test('broken configs: promote exits 2 naming the key and the fix; nothing on PROD is touched', () => {
    labScript(['seed']);
    const good = readFileSync(labInfo()!.config, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'rf-badcfg-'));
    const cases: [string, string, RegExp][] = [
      ['yaml syntax', good.replace('containers:\n', 'containers: [\n'), /releaseflow\.yml:\d+:\d+: YAML syntax error/],
      ['missing app', good.replace(/^app: .*\n/m, ''), /app: is required/],
      ['typo in a key', good.replace(/^(\s+)address: (.*)$/m, '$1adress: $2'), /hosts\.test\.adress: unknown key/],
      ['hostile address', good.replace(/^(\s+)address: (.*)$/m, '$1address: "$2;$(touch /tmp/rf-pwned-cfg)"'), /hosts\.test\.address: expected an IP/],
      ['hostile container name', good.replace('  - ragflowauth-backend\n', '  - "ragflowauth-backend;reboot"\n'), /containers\.0: expected a container name/],
      ['hostile health url', good.replace('url: http://127.0.0.1:8001/health', 'url: "http://127.0.0.1:8001/$(reboot)"'), /health\.url: expected an http/],
      ['host key checking off without opt-out', good.replace(/( +)IdentitiesOnly: "yes"\n/, '$1IdentitiesOnly: "yes"\n$1StrictHostKeyChecking: "no"\n'), /hosts\.test\.sshOptions: StrictHostKeyChecking: no turns host key checking off/],
      ['ssh option with a newline', good.replace(/( +)IdentitiesOnly: "yes"\n/, '$1IdentitiesOnly: "yes"\n$1ProxyCommand: "nc %h %p\\nLocalCommand touch /tmp/rf-pwned-cfg"\n'), /hosts\.test\.sshOptions\.ProxyCommand: expected a value on one line/],
      ['a zero command timeout', `${good}ssh: { commandTimeout: 0 }\n`, /ssh\.commandTimeout: expected at least 1s/],
      ['from and to the same host', good.replace(/^to: .*$/m, 'to: test'), /to: is the same host as from/],
      ['relative state folder', good.replace(/(\n {2}prod:\n)/, '$1    stateDir: var/lib/releaseflow\n'), /hosts\.prod\.stateDir: expected an absolute path/],
      ['state folder escaping with ..', good.replace(/(\n {2}prod:\n)/, '$1    stateDir: /var/lib/../../etc\n'), /hosts\.prod\.stateDir: expected an absolute path without \.\./],
      ['a container listed twice', good.replace('  - ragflowauth-backend\n', '  - ragflowauth-backend\n  - ragflowauth-backend\n'), /lists 'ragflowauth-backend' twice/],
    ];
    assert.ok(cases.length >= 10);
    const pre = snapshotProd();
    for (const [what, text, re] of cases) {
      assert.notEqual(text, good, `${what}: the edit applied`);
      const file = join(dir, `${what.replace(/\W+/g, '-')}.releaseflow.yml`);
      writeFileSync(file, text);
      const r = releaseflow(['--config', file, 'promote', '--yes']);
      assert.equal(r.code, 2, `${what}: ${r.out}`);
      assert.match(r.stderr, re, what);
      assert.match(r.stderr, /\n {2}fix: +\S/, `${what}: a fix`);
    }
    assertProdAsBefore(pre, snapshotProd(), 'broken configs');
    assert.equal(labExec('prod', '[ -e /var/lib/releaseflow/ragflowauth ] && echo present || echo absent').trim(), 'absent', 'no state folder, no lock');
    assert.equal(existsSync('/tmp/rf-pwned-cfg'), false);
  });

  test('hostile env values, labels, bind path and working dir: never executed, identical after the release', async () => {
    labScript(['seed']);
    const canary = '/tmp/rf-pwned';
    const hostile = `it's "q" \`touch ${canary}-bt\` $(touch ${canary}-sub) ; | & * ? [a-z] ~ {a,b} $HOME \\ ü 日本 🚀`;
    const dir = `/opt/rf hostile/it's $(touch ${canary}-path) ü [x] *`;
    labExec('prod', `mkdir -p "${dir.replace(/[$`"\\]/g, '\\$&')}" && echo bound >"${dir.replace(/[$`"\\]/g, '\\$&')}/file"`);
    const env = [
      `HOSTILE=${hostile}`,
      `HOSTILE_NL=line one\nline two $(touch ${canary}-nl)\n`,
      'HOSTILE_CR=ends with a carriage return\r',
      'HOSTILE_EMPTY=',
      'HOSTILE_EQ=a=b==c',
      `DB_PASSWORD=s3cr3t-Pa55 $(touch ${canary}-secret)`,
    ];
    // PROD's backend, re-created by hand with the seed's settings plus the hostile ones
    labDocker('prod', ['rm', '-f', 'ragflowauth-backend']);
    labDocker('prod', [
      'run', '-d', '--name', 'ragflowauth-backend', '-p', '8001:8001', '-v', 'ragflowauth-data:/data', '-v', '/opt/ragflowauth/conf:/app/conf:ro',
      '-v', `${dir}:/hostile:ro`, '--workdir', `/srv/w ${hostile.slice(0, 20)}`,
      ...env.flatMap((e) => ['-e', e]),
      '--label', `hostile=${hostile}`, '--label', `multi=line1\nline2 $(touch ${canary}-label)`, '--label', `ünï.cödé=${hostile}`,
      '--network', 'ragflowauth-net', '--network-alias', 'backend', '--restart', 'unless-stopped', '--hostname', 'ragflow-backend',
      'ragflowauth-backend:v1',
    ]);
    await assertProdServing('hostile v1', 'v1');
    const pre = labInspect('prod', 'ragflowauth-backend');
    const plan = releaseflow(['plan']);
    assert.equal(plan.code, 0, plan.out);
    assert.match(plan.stdout, /--env-file /, 'plain values go through the env file');
    // the docker CLI 28 that made this container rotates the order of its -e values: match any order
    assert.match(plan.stdout, /docker create [^\n]* -e HOSTILE_NL /, 'a value with a newline cannot: the env loader hands it to docker (-e NAME alone)');
    // (the readable `docker run` of "final command" shows values whose names are not secret, by design)
    assert.ok(!plan.stdout.slice(plan.stdout.indexOf(' steps:')).includes('line two'), 'so its value is in no step command');
    const r = releaseflow(['promote', '--yes']);
    assert.equal(r.code, 0, r.out);
    const post = labInspect('prod', 'ragflowauth-backend');
    assert.notEqual(post.Id, pre.Id);
    assert.equal(post.Config.Image, 'ragflowauth-backend:v2');
    for (const e of env) assert.ok(post.Config.Env.includes(e), `env ${JSON.stringify(e.slice(0, 24))} identical`);
    // the operator's labels (the image's own org.opencontainers.* labels follow the new image)
    const own = (l: Record<string, string>) => Object.fromEntries(Object.entries(l).filter(([k]) => !k.startsWith('org.opencontainers.')));
    assert.deepEqual(own(post.Config.Labels), own(pre.Config.Labels), 'labels identical');
    assert.equal(Object.keys(own(pre.Config.Labels)).length, 3);
    assert.equal(post.Config.WorkingDir, pre.Config.WorkingDir, 'working dir identical');
    // as sets: the docker CLI collects -v values in a Go map, so Binds come back in any order
    assert.deepEqual([...post.HostConfig.Binds].sort(), [...pre.HostConfig.Binds].sort(), 'bind paths identical');
    assert.equal(labDocker('prod', ['exec', 'ragflowauth-backend', 'cat', '/hostile/file']).trim(), 'bound');
    // inside the container the values are the same bytes (env as the process sees it)
    const seen = labDocker('prod', ['exec', 'ragflowauth-backend', 'sh', '-c', 'printf %s "$HOSTILE_NL"; printf "|%s|" "$HOSTILE"']);
    assert.equal(seen, `line one\nline two $(touch ${canary}-nl)\n|${hostile}|`);
    // nothing was executed: not on PROD, not here
    const pwned = labExec('prod', `ls -d ${canary}* /tmp/rf-pwned* 2>/dev/null; true`).trim();
    assert.equal(pwned, '', `canaries on prod: ${pwned}`);
    for (const f of ['-bt', '-sub', '-path', '-nl', '-label', '-secret']) assert.equal(existsSync(`${canary}${f}`), false);
    // and the secret stays out of the output and log
    assert.ok(!r.out.includes('s3cr3t-Pa55'), 'the secret is masked');
    await assertProdServing('after the hostile release', 'v2');
  });
});

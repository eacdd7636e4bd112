// Faults on PROD's side: remote commands that hang, a stalled transfer, a full disk (real and reported),
// a changed host key, and a remote shell that prints a banner on every command.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labDocker, labEngine, labInfo, labScript, labSkip, onContainerdStore, releaseflow } from './lab.ts';
import { assertNothingLost, assertProdAsBefore, assertProdServing, clearBashrc, configCopy, hostRoot, labExec, setBashrc, snapshotProd } from './faults-lib.ts';

/** Fake `docker` and `df` first in root's PATH on a host: hang matching docker commands, report a full disk. */
function installFaultTools(host: string): void {
  const bin = join(hostRoot(host), 'rf-fault', 'bin');
  mkdirSync(bin, { recursive: true });
  const strip = `PATH=$(printf '%s' "$PATH" | sed 's#/root/rf-fault/bin:##'); export PATH`;
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh\n# fault injection: a docker command whose arguments match /root/rf-fault/hang (an ERE) hangs for 8 s\nif [ -f /root/rf-fault/hang ] && printf '%s\\n' "$*" | grep -qE "$(cat /root/rf-fault/hang)"; then sleep 8; exit 1; fi\n${strip}\nexec docker "$@"\n`,
  );
  writeFileSync(
    join(bin, 'df'),
    `#!/bin/sh\n# fault injection: with /root/rf-fault/df-full, every filesystem reports 1 MiB free\nif [ -f /root/rf-fault/df-full ]; then echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'; echo 'fake 104857600 104856576 1024 100% /'; exit 0; fi\n${strip}\nexec df "$@"\n`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  chmodSync(join(bin, 'df'), 0o755);
  setBashrc(host, 'export PATH=/root/rf-fault/bin:$PATH\n');
}

const fault = (host: string, name: string, content = '') => writeFileSync(join(hostRoot(host), 'rf-fault', name), content);

/** A fresh seed, PROD's fault tools with one fault switched on, the test body, then PROD's shell set-up removed again. */
function withProdFault(name: string, content: string, body: () => void): void {
  labScript(['seed']);
  installFaultTools('prod');
  fault('prod', name, content);
  try {
    body();
  } finally {
    clearBashrc('prod');
  }
}

describe('faults on the hosts: hangs, disk, host keys, banners', labSkip(), () => {
  let fast: string;
  before(() => {
    labScript(['seed']);
    fast = configCopy('ssh: { commandTimeout: 3s }\n');
  });
  after(() => {
    clearBashrc('prod');
    clearBashrc('test');
  });

  test('a docker command that hangs mid-swap: "timed out after 3s" names step, host, command and fix; rolled back; nothing hangs', () => {
    withProdFault('hang', '^create ', () => {
      const pre = snapshotProd();
      const t0 = Date.now();
      const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: fast }, timeoutMs: 90_000 });
      const took = Date.now() - t0;
      assert.equal(r.code, 1, r.out);
      assert.ok(took < 40_000, `took ${took} ms`);
      assert.match(r.out, /step 5\/8 swap ragflowauth-backend FAILED after \S+: command timed out after 3s on prod/);
      assert.match(r.out, /\n {2}step: {4}step 5\/8 swap ragflowauth-backend\n {2}host: {4}prod\n {2}command: docker create --name ragflowauth-backend /);
      assert.match(r.out, /fix: {5}check the host is responsive .*raise ssh\.commandTimeout/);
      assertProdAsBefore(pre, snapshotProd(), 'hang in docker create');
    });
  });

  test('docker hangs while observing: promote and status give up within seconds; nothing touched', () => {
    withProdFault('hang', '^container inspect|inspect ', () => {
      const pre = snapshotProd();
      const t0 = Date.now();
      const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: fast }, timeoutMs: 60_000 });
      assert.equal(r.code, 1, r.out);
      assert.ok(Date.now() - t0 < 20_000, `promote took ${Date.now() - t0} ms`);
      assert.match(r.out, /command timed out after 3s on prod/);
      const t1 = Date.now();
      const s = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: fast }, timeoutMs: 60_000 });
      assert.ok(Date.now() - t1 < 20_000, `status took ${Date.now() - t1} ms`);
      assert.match(s.out, /timed out after 3s on prod/);
      assertProdAsBefore(pre, snapshotProd(), 'hang while observing');
      assert.doesNotMatch(releaseflow(['lock', 'status']).stdout, /held/);
    });
  });

  test('docker load stalls: the transfer is declared stalled, nothing else changes', () => {
    withProdFault('hang', '^load', () => {
      const pre = snapshotProd();
      const t0 = Date.now();
      const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: fast }, timeoutMs: 90_000 });
      assert.equal(r.code, 1, r.out);
      assert.ok(Date.now() - t0 < 45_000, `took ${Date.now() - t0} ms`);
      assert.match(r.out, /step 2\/8 transfer ragflowauth-backend:v2 FAILED/);
      assert.match(r.out, /stalled|timed out/);
      assertProdAsBefore(pre, snapshotProd(), 'stalled load');
    });
  });

  // on the containerd store docker load stages in containerd's content store, not <data-root>/tmp
  const ctd = onContainerdStore('prod') ? `PROD runs ${labEngine('prod')}: docker load stages in containerd's content store, not in <data-root>/tmp, which this test fills` : false;
  test("PROD's docker load staging is a 512 KiB filesystem: refused before docker load starts, naming host, bytes and fix; nothing loaded", { skip: ctd }, () => {
    labScript(['seed']);
    // docker's own data-root (each engine of the lab has its own folder)
    const tmp = join(labDocker('prod', ['info', '-f', '{{.DockerRootDir}}']).trim(), 'tmp');
    // docker load stages into <data-root>/tmp: a tiny tmpfs there, in PROD's own mount namespace only
    labExec('prod', `mount -t tmpfs -o size=512k rff-full ${tmp}`);
    try {
      const pre = snapshotProd();
      const r = releaseflow(['promote', '--yes'], { timeoutMs: 120_000 });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /step 2\/8 transfer ragflowauth-backend:v2 FAILED/);
      assert.match(r.out, /not enough disk space on prod for the image transfer: [\d.]+ MB \([\d,]+ bytes\) needed in \S+\/tmp \(docker load staging\), 0\.5 MB \(524,288 bytes\) free; nothing was changed/);
      assert.doesNotMatch(r.out, /no space left on device/, 'docker load never ran');
      assert.match(r.out, /fix: +free disk space on prod/);
      assertProdAsBefore(pre, snapshotProd(), 'disk full for the load');
      assert.equal(labExec('prod', `ls -A ${tmp}`).trim(), '', 'nothing staged');
      assert.doesNotMatch(labDocker('prod', ['images', '--format', '{{.Repository}}:{{.Tag}}']), /:v2/, 'no half-loaded release image');
    } finally {
      labExec('prod', `umount ${tmp}`);
    }
  });

  test("PROD reports too little free disk: refused before any container is touched", () => {
    withProdFault('df-full', '', () => {
      const pre = snapshotProd();
      const r = releaseflow(['promote', '--yes'], { timeoutMs: 60_000 });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /not enough disk space on prod for the image transfer: .* needed .*free; nothing was changed/);
      assert.match(r.out, /fix: +free disk space on prod/);
      assertProdAsBefore(pre, snapshotProd(), 'disk reported full');
    });
  });

  test("a changed host key is refused with OpenSSH's message and the fix; only insecureIgnoreHostKeys switches checking off, loudly", () => {
    labScript(['seed']);
    const info = labInfo()!;
    const dir = mkdtempSync(join(tmpdir(), 'rf-hostkey-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')]);
    const impostor = readFileSync(join(dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const prodAddr = info.hosts.prod!.address;
    const kh = readFileSync(info.knownHosts, 'utf8')
      .split('\n')
      .map((l) => (l.startsWith(`${prodAddr},`) ? `${l.split(' ')[0]} ${impostor}` : l))
      .join('\n');
    const khFile = join(dir, 'known_hosts');
    writeFileSync(khFile, kh);
    const changed = configCopy('', [[new RegExp(info.knownHosts.replace(/[.]/g, '\\.'), 'g'), khFile]]);
    const pre = snapshotProd();
    const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: changed } });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /the host key of prod \(root@[\d.]+\) has CHANGED since it was recorded \(.*known_hosts line 2\)/);
    assert.match(r.out, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
    assert.match(r.out, /Host key verification failed\./);
    assert.match(r.out, new RegExp(`fix: .*ssh-keygen -R ${prodAddr.replace(/\./g, '\\.')} -f ${khFile}`));
    assertProdAsBefore(pre, snapshotProd(), 'changed host key');
    assert.doesNotMatch(releaseflow(['lock', 'status']).stdout, /held/);
    const st = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: changed } });
    assert.match(st.stdout, /prod \(.*\): UNREACHABLE: the host key of prod .* has CHANGED/);

    // turning checking off by an ssh option alone is a config error
    const sneaky = configCopy('', [[new RegExp(info.knownHosts.replace(/[.]/g, '\\.'), 'g'), khFile], [/( +)IdentitiesOnly: "yes"\n/, '$1IdentitiesOnly: "yes"\n$1StrictHostKeyChecking: "no"\n']]);
    const s2 = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: sneaky } });
    assert.equal(s2.code, 2, s2.out);
    assert.match(s2.stderr, /hosts\.test\.sshOptions: StrictHostKeyChecking: no turns host key checking off/);
    // the explicit opt-out works, and says so on every run
    const optOut = configCopy('', [[new RegExp(info.knownHosts.replace(/[.]/g, '\\.'), 'g'), khFile], [/(\n {2}prod:\n)/, '$1    insecureIgnoreHostKeys: true\n']]);
    const s3 = releaseflow(['status'], { env: { RELEASEFLOW_CONFIG: optOut } });
    assert.equal(s3.code, 0, s3.out);
    assert.match(s3.stderr, /WARNING INSECURE: host key checking is OFF for prod/);
    const p3 = releaseflow(['plan'], { env: { RELEASEFLOW_CONFIG: optOut } });
    assert.match(p3.out, /INSECURE: host key checking is OFF for prod/);
  });

  test('a remote shell that prints a banner on every command (stdout and stderr, on both hosts): every command still works', async () => {
    labScript(['seed']);
    const banner = [
      "echo '[ Welcome to the lab host ] state=maintenance http=ok'",
      'echo \'{ "motd": "this is not JSON"\'',
      "echo 'state=banner'",
      "echo 'http=fail banner'",
      "echo 'locked busy {\"holder\":\"banner\"}'",
      "echo 'sha256:0000000000000000000000000000000000000000000000000000000000000000'",
      "echo 'banner on stderr' >&2",
    ].join('\n');
    setBashrc('prod', `${banner}\n`);
    setBashrc('test', `${banner}\n`);
    try {
      const st = releaseflow(['status', '--json']);
      assert.equal(st.code, 0, st.out);
      const s = JSON.parse(st.stdout);
      for (const h of s.hosts) for (const c of h.containers) assert.equal(c.state, 'running', `${h.host} ${c.name}`);
      const doc = releaseflow(['doctor']);
      assert.equal(doc.code, 0, doc.out);
      const plan = releaseflow(['plan']);
      assert.equal(plan.code, 0, plan.out);
      assert.match(plan.stdout, /step 8\/8 health ragflowauth-frontend on prod/);
      const r = releaseflow(['promote', '--yes']);
      assert.equal(r.code, 0, r.out);
      await assertProdServing('after a release through a banner', 'v2');
      assert.doesNotMatch(r.out, /pruned on prod: \[ Welcome/, 'the banner is not taken for pruned containers');
      const h = JSON.parse(releaseflow(['history', '--json']).stdout);
      assert.equal(h.length, 1);
      assert.equal(h[0].result, 'released');
      assert.match(releaseflow(['lock', 'status']).stdout, /lock on prod: free/);
      const rb = releaseflow(['rollback', '--yes']);
      assert.equal(rb.code, 0, rb.out);
      await assertProdServing('after the rollback', 'v1');
    } finally {
      clearBashrc('prod');
      clearBashrc('test');
    }
    assertNothingLost(snapshotProd(), snapshotProd(), 'banner');
  });
});

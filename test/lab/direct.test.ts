// --direct on the lab: PROD pulls from TEST over its own SSH. Refused up front (nothing changed)
// when PROD's key is not authorized or a different server answers; with the key, the image goes
// straight from TEST to PROD (this machine's link to the lab carries almost nothing), exact image
// ID, no temporary files left on either host, and a whole release works end to end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SshHost } from '../../src/adapters/ssh.ts';
import { transferImage } from '../../src/adapters/transfer.ts';
import { resolveDirect } from '../../src/adapters/transfer-direct.ts';
import { loadConfig } from '../../src/core/config.ts';
import { assertProdAsBefore, configCopy, labExec, snapshotProd } from './faults-lib.ts';
import { imageKey, labDocker, labInfo, labScript, labSkip, releaseflow } from './lab.ts';

const RUN = `${process.pid}`;
const TAG = `direct-big:${RUN}`;

function dockerIn(host: string, args: string[], input?: string): Buffer {
  return execFileSync('docker', ['-H', labInfo()!.hosts[host]!.dockerSock, ...args], { input, env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

/** Bytes through this machine's end of the lab's uplink (both directions). */
function uplinkBytes(): number {
  const dev = `${labInfo()!.prefix}0`;
  const read = (d: string) => Number(readFileSync(`/sys/class/net/${dev}/statistics/${d}_bytes`, 'utf8'));
  return read('rx') + read('tx');
}

const leftovers = (host: string) => labExec(host, 'ls -d /tmp/releaseflow-xfer-* /var/lib/docker/tmp/releaseflow-xfer-* "$(docker info -f "{{.DockerRootDir}}" 2>/dev/null)"/tmp/releaseflow-xfer-* 2>/dev/null; true').trim();

describe('--direct: the target pulls from the source over its own SSH', labSkip(), () => {
  let from: SshHost;
  let to: SshHost;
  let pub = '';
  let prodId = '';

  before(async () => {
    const config = loadConfig(labInfo()!.config);
    from = new SshHost(config.hosts[config.from]!, config.ssh);
    to = new SshHost(config.hosts[config.to]!, config.ssh);
    await Promise.all([from.connect(), to.connect()]);
    // PROD's own key; PROD's known_hosts stays EMPTY: the host key it checks is the one we hand it
    pub = labExec('prod', 'mkdir -p -m 700 /root/.ssh; rm -f /root/.ssh/known_hosts; [ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C prod-direct -f /root/.ssh/id_ed25519; cat /root/.ssh/id_ed25519.pub').trim();
    labExec('test', `grep -v prod-direct /root/.ssh/authorized_keys >/root/.ssh/ak.tmp; cat /root/.ssh/ak.tmp >/root/.ssh/authorized_keys; rm -f /root/.ssh/ak.tmp`);
  });

  after(async () => {
    labExec('test', 'grep -v prod-direct /root/.ssh/authorized_keys >/root/.ssh/ak.tmp; cat /root/.ssh/ak.tmp >/root/.ssh/authorized_keys; rm -f /root/.ssh/ak.tmp');
    for (const h of ['test', 'prod']) {
      try {
        labDocker(h, ['rmi', '-f', labDocker('test', ['image', 'inspect', '-f', '{{.Id}}', TAG]).trim()]);
      } catch {
        /* not there */
      }
    }
    await Promise.all([from?.close(), to?.close()]);
  });

  test("PROD's key not authorized on TEST: plan and promote refuse before anything changes, naming the fix", () => {
    labScript(['seed']);
    const pre = snapshotProd();
    for (const args of [['plan', '--direct'], ['promote', '--direct', '--yes']]) {
      const r = releaseflow(args);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /--direct: test refused prod's key/, r.out);
      assert.match(r.out, /fix: +add prod's public key to ~\/\.ssh\/authorized_keys/, r.out);
    }
    // doctor checks it too when the config asks for direct transfers
    const doc = releaseflow(['doctor'], { env: { RELEASEFLOW_CONFIG: configCopy('transfer:\n  direct: true\n') } });
    assert.notEqual(doc.code, 0, doc.out);
    assert.match(doc.out, /FAIL +--direct: test refused prod's key/, doc.out);
    assertProdAsBefore(pre, snapshotProd(), 'refused --direct');
    assert.equal(leftovers('prod'), '');
  });

  test('a different server answers at the address PROD is told to use: its host key is refused', () => {
    labExec('test', `echo ${JSON.stringify(pub)} >>/root/.ssh/authorized_keys`);
    labExec('prod', `cat /root/.ssh/id_ed25519.pub >>/root/.ssh/authorized_keys`);
    try {
      // PROD itself answers there, with its own host key, and would accept PROD's key
      const cfg = configCopy(`transfer:\n  directSsh:\n    address: ${labInfo()!.hosts.prod!.address}\n`);
      const pre = snapshotProd();
      const r = releaseflow(['promote', '--direct', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /its host key is not the key this machine knows for test/, r.out);
      assert.match(r.out, /Host key verification failed/, "OpenSSH's own words on PROD are shown");
      assertProdAsBefore(pre, snapshotProd(), 'wrong host key');
    } finally {
      labExec('prod', 'grep -v prod-direct /root/.ssh/authorized_keys >/root/.ssh/ak.tmp; cat /root/.ssh/ak.tmp >/root/.ssh/authorized_keys; rm -f /root/.ssh/ak.tmp');
    }
  });

  test('with the key: a 24 MiB new layer goes TEST -> PROD without crossing this machine; exact ID; no temp files', async () => {
    dockerIn('test', ['build', '-q', '-t', TAG, '-'], `FROM ragflowauth-base:1\nRUN head -c ${24 * 1024 * 1024} /dev/urandom >/big.bin\n`);
    const id = labDocker('test', ['image', 'inspect', '-f', '{{.Id}}', TAG]).trim();
    const direct = await resolveDirect(from);
    assert.equal(direct.route.address, labInfo()!.hosts.test!.address);
    const progress: number[] = [];
    const before = uplinkBytes();
    const r = await transferImage(from, to, id, { direct, onProgress: (b) => progress.push(b) });
    const through = uplinkBytes() - before;
    assert.equal(r.strategy, 'delta', 'PROD has the base: only the new layer');
    assert.ok(r.bytes > 24 * 1024 * 1024, `random bytes do not compress: ${r.bytes}`);
    assert.ok(through < 2 * 1024 * 1024, `this machine's link carried ${through} bytes for a ${r.bytes}-byte transfer`);
    assert.equal(imageKey('prod', r.targetId), imageKey('test', id), 'the same image (same ID on the same image store)');
    prodId = r.targetId;
    assert.equal(leftovers('prod'), '', 'no temp files on prod');
    assert.equal(leftovers('test'), '', 'no temp files on test');
    assert.equal(labExec('prod', 'ls /root/.ssh/known_hosts 2>/dev/null; true').trim(), '', "PROD's own known_hosts untouched");
    assert.ok(progress.length > 0, 'progress was reported');
  });

  test('interrupted mid-stream: an interrupt error, the processes on both hosts gone, no temp files', async () => {
    const id = labDocker('test', ['image', 'inspect', '-f', '{{.Id}}', TAG]).trim();
    labDocker('prod', ['rmi', '-f', prodId]);
    const direct = await resolveDirect(from);
    // TEST's link slowed to 40 Mbit/s (in its own netns), so the stream is still running at the first progress report
    labExec('test', 'tc qdisc replace dev eth0 root tbf rate 40mbit burst 64kb latency 200ms');
    try {
      const ac = new AbortController();
      let seen = 0;
      const p = transferImage(from, to, id, { direct, signal: ac.signal, strategy: 'full', onProgress: (b) => { seen = b; if (b > 1024 * 1024) ac.abort(); } });
      await assert.rejects(p, /interrupted/);
      assert.ok(seen > 1024 * 1024, `cut mid-stream (after ${seen} bytes)`);
    } finally {
      labExec('test', 'tc qdisc del dev eth0 root 2>/dev/null; true');
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(leftovers('prod'), '');
    assert.equal(leftovers('test'), '');
    assert.equal(labExec('prod', 'pgrep -af "HostKeyAlias=releaseflow-direct-[s]ource" || true').trim(), '', 'no ssh to test left on prod');
  });

  test('promote --direct: the whole release, image IDs from TEST, healthy, the log says how the bytes went', () => {
    labScript(['seed']);
    const r = releaseflow(['promote', '--direct', '--yes']);
    assert.equal(r.code, 0, r.out);
    for (const c of ['ragflowauth-backend', 'ragflowauth-frontend']) {
      assert.equal(imageKey('prod', labDocker('prod', ['inspect', '-f', '{{.Image}}', c]).trim()), imageKey('test', labDocker('test', ['inspect', '-f', '{{.Image}}', c]).trim()));
    }
    const log = readFileSync(loadConfig(labInfo()!.config).logFile, 'utf8');
    const block = log.slice(log.lastIndexOf('==== promote'));
    assert.match(block, /straight from prod's own ssh to root@10\.213\.\d+\.\d+, nothing through this machine/);
    assert.match(block, /transfer plan: .*directly: prod pulls them over its own ssh/);
    assert.match(block, /result: released \(exit 0\)/);
    const doc = releaseflow(['doctor'], { env: { RELEASEFLOW_CONFIG: configCopy('transfer:\n  direct: true\n') } });
    assert.equal(doc.code, 0, doc.out);
    assert.match(doc.out, /PASS +direct transfer: prod logs in to test \(root@10\.213\.\d+\.\d+\) with its own key; test's host key checked/);
  });
});

// --relay: who takes an image from whom (pure), and the follow script run for real in sh: it waits
// for the pass-on file, prints it from the start as it grows, and ends when the writer ends.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildAbandonScript, buildDirectRelayScript, buildFollowScript, buildPassOnScript } from '../../src/adapters/image-scripts.ts';
import { describeRelay, planRelay, relayKey } from '../../src/core/relay.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

test('hosts that lack the same layers of an image form one chain, in order; the others pull from the source', () => {
  const cands = [
    { host: 'prod', imageId: A, key: 'classic delta zstd l1' },
    { host: 'prod2', imageId: A, key: 'classic delta zstd l1' },
    { host: 'prod4', imageId: A, key: 'containerd delta zstd l1' },
    { host: 'prod3', imageId: A, key: 'classic delta zstd l1' },
    { host: 'prod', imageId: B, key: 'classic full gzip' },
  ];
  const links = planRelay(cands, '/tmp/releaseflow-xfer-t.', '@@rfx-m');
  assert.deepEqual(links.get(relayKey('prod', A)), { marker: '@@rfx-m', passOn: links.get(relayKey('prod', A))!.passOn });
  const fan = links.get(relayKey('prod', A))!.passOn!;
  assert.match(fan, /^\/tmp\/releaseflow-xfer-t\.fan-a{16}-\d+-prod$/);
  // each host its own file: hosts may share a /tmp (the lab's do)
  const fan2 = fan.replace(/-prod$/, '-prod2');
  assert.deepEqual(links.get(relayKey('prod2', A)), { marker: '@@rfx-m', passOn: fan2, follow: { host: 'prod', fan } });
  assert.deepEqual(links.get(relayKey('prod3', A)), { marker: '@@rfx-m', follow: { host: 'prod2', fan: fan2 } });
  // another image store needs another archive; an image only one host lacks has no chain
  assert.equal(links.get(relayKey('prod4', A)), undefined);
  assert.equal(links.get(relayKey('prod', B)), undefined);
  assert.deepEqual(describeRelay(cands, links, 'test'), ['image aaaaaaaaaaaa: test → prod → prod2 → prod3']);
});

test('the follow script waits for the pass-on file, prints it whole as it grows, and ends with its writer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-relay-'));
  const fan = join(dir, "fan it's");
  const out: Buffer[] = [];
  const reader = spawn('sh', ['-c', buildFollowScript(fan, 10)]);
  reader.stdout.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<number | null>((res) => reader.on('close', res));
  await sleep(500);
  // the writer: a process whose end means "no more bytes"
  const writer = spawn('sleep', ['2']);
  writeFileSync(fan, 'header\n');
  writeFileSync(`${fan}.pid`, `${writer.pid}\n`);
  for (let i = 0; i < 5; i++) {
    await sleep(150);
    appendFileSync(fan, `chunk ${i}\n`);
  }
  const code = await ended;
  assert.equal(code, 0);
  assert.equal(Buffer.concat(out).toString(), readFileSync(fan, 'utf8'));
  assert.match(Buffer.concat(out).toString(), /^header\nchunk 0\n.*chunk 4\n$/s);
});

test('the follow script gives up with a reason when nothing is passed on', () => {
  const r = spawnSync('sh', ['-c', buildFollowScript('/nonexistent/fan', 0.4)], { encoding: 'utf8' });
  assert.equal(r.status, 7);
  assert.match(r.stderr, /never started passing the image on/);
});

test('a relay that passes on parses in dash and writes the stream and its size and start lines to the file', () => {
  const s = buildDirectRelayScript({ marker: '@@rfx-m', token: 't', sudo: false, imageId: A, saveScript: 'true', knownHosts: ['k'], route: { address: '10.0.0.5' }, connectTimeoutS: 5, passOn: "/tmp/x'y" });
  assert.equal(spawnSync('dash', ['-n'], { input: s }).status, 0);
  assert.ok(s.includes("f='/tmp/x'\\''y'"), 'the path quoted');
  assert.match(s, /"\$m start"\) go=1; printf '%s\\n' "\$l" \| tee -a "\$f"/);
  assert.match(s, /tee -a "\$tmp\/tap" "\$f" \| d load/, 'appends after the size and start lines');
  const plain = buildDirectRelayScript({ marker: '@@rfx-m', token: 't', sudo: false, imageId: A, saveScript: 'true', knownHosts: ['k'], route: { address: '10.0.0.5' }, connectTimeoutS: 5 });
  assert.doesNotMatch(plain, /\$f/);
});

test('through this machine: the first host of a group saves once on the source, the others read its file there', () => {
  const cands = [
    { host: 'prod', imageId: A, key: 'k' },
    { host: 'prod2', imageId: A, key: 'k' },
    { host: 'prod3', imageId: A, key: 'k' },
  ];
  const links = planRelay(cands, '/tmp/releaseflow-xfer-t.', '@@rfx-m', 'test');
  const fan = links.get(relayKey('prod', A))!.passOn!;
  assert.match(fan, /fan-a{16}-\d+-prod$/);
  assert.deepEqual(links.get(relayKey('prod2', A)), { marker: '@@rfx-m', follow: { host: 'test', fan } });
  assert.deepEqual(links.get(relayKey('prod3', A)), { marker: '@@rfx-m', follow: { host: 'test', fan } });
  assert.deepEqual(describeRelay(cands, links, 'test'), ['image aaaaaaaaaaaa: test → prod, prod2, prod3']);
});

test('the pass-on wrapper keeps the save script\'s stdin, output and exit code, and writes its size, start and data to the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-passon-'));
  const fan = join(dir, 'fan');
  // a save script in the shape of ours: header lines, the member list from stdin, then the data
  const save = "printf '@@m pid 1\\n@@m manifest []\\n'; read -r x; printf '@@m bytes 5\\n@@m start\\n'; printf 'data:%s' \"$x\"; exit 3";
  const r = spawnSync('sh', ['-c', buildPassOnScript(save, fan, '@@m')], { input: 'members\n', encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, '@@m pid 1\n@@m manifest []\n@@m bytes 5\n@@m start\ndata:members');
  assert.equal(readFileSync(fan, 'utf8'), '@@m bytes 5\n@@m start\ndata:members');
  assert.match(readFileSync(`${fan}.pid`, 'utf8'), /^\d+\n$/);
  assert.equal(spawnSync('dash', ['-n'], { input: buildPassOnScript(save, fan, '@@m') }).status, 0);
});

test('a pass-on file never started is marked ended: the follow script then ends at once with nothing, so the host falls back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-abandon-'));
  const fan = join(dir, 'fan');
  assert.equal(spawnSync('sh', ['-c', buildAbandonScript(fan)]).status, 0);
  const t0 = Date.now();
  const r = spawnSync('sh', ['-c', buildFollowScript(fan, 30)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.ok(Date.now() - t0 < 5000, 'no wait for the 30 s limit');
  // a file already started is left alone
  writeFileSync(`${fan}.pid`, '12345\n');
  spawnSync('sh', ['-c', buildAbandonScript(fan)]);
  assert.equal(readFileSync(`${fan}.pid`, 'utf8'), '12345\n');
});

// PROD's disk is checked right before a streamed docker load starts (full or delta), from its free space read then.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { parseLoadDisks } from '../../src/adapters/image-facts.ts';
import type { SshHost } from '../../src/adapters/ssh.ts';
import type { ImageHostFacts } from '../../src/adapters/image-facts.ts';
import { layerStore, loadNeeds, type TransferPlan, transferImage } from '../../src/adapters/transfer.ts';
import { checkSpace, TransferSpaceError } from '../../src/core/layers.ts';

const MB = 1e6;
const disk = (path: string, mount: string, free: number) => ({ path, mount, free });

test('load space: staging and unpacked layers add up on one filesystem; a small filesystem on <data-root>/tmp alone refuses', () => {
  const root = disk('/var/lib/docker', '/', 250 * MB);
  // 100 MB to load: 2 × (105 MB + 16 MiB) ≈ 243.6 MB on one filesystem fits in 250 MB, not in 200 MB
  assert.equal(checkSpace(loadNeeds('prod', 100 * MB, { root, staging: disk('/var/lib/docker/tmp', '/', 250 * MB) })), undefined);
  const one = checkSpace(loadNeeds('prod', 100 * MB, { root: { ...root, free: 200 * MB }, staging: disk('/var/lib/docker/tmp', '/', 200 * MB) }));
  assert.ok(one instanceof TransferSpaceError);
  assert.match(one.message, /on prod .*243\.\d MB .*needed in \/var\/lib\/docker\/tmp \(docker load staging \+ unpacked layers\), 200\.0 MB .*free; nothing was changed/);
  const small = checkSpace(loadNeeds('prod', 100 * MB, { root: disk('/var/lib/docker', '/', 10_000 * MB), staging: disk('/var/lib/docker/tmp', '/var/lib/docker/tmp', 512 * 1024) }));
  assert.ok(small instanceof TransferSpaceError);
  assert.match(small.message, /needed in \/var\/lib\/docker\/tmp \(docker load staging\), 0\.5 MB \(524,288 bytes\) free/);
  assert.match(small.detail.fix ?? '', /free disk space on prod/);
  assert.equal(small.detail.host, 'prod');
  // unknown free space (df unreadable) is not checked; no data-root tmp: the staging goes to the data-root
  assert.deepEqual(loadNeeds('prod', MB, {}), []);
  assert.equal(loadNeeds('prod', MB, { root }).filter((n) => n.path === '/var/lib/docker').length, 2);
});

test('load space: df lines of the data-root and its tmp are read by marker; a missing line is unknown', () => {
  const out = 'banner\n@@m dfroot /dev/sda1 1000 600 400 60% /\n@@m dfstage tmpfs 512 0 512 0% /var/lib/docker/tmp\n';
  assert.deepEqual(parseLoadDisks(out, '@@m', '/var/lib/docker'), { root: disk('/var/lib/docker', '/', 400 * 1024), staging: disk('/var/lib/docker/tmp', '/var/lib/docker/tmp', 512 * 1024) });
  assert.deepEqual(parseLoadDisks('@@m dfroot /dev/sda1 1000 600 400 60% /\n', '@@m', '/d'), { root: disk('/d', '/', 400 * 1024), staging: undefined });
});

/** A source that announces its size and streams bytes, and a target whose df reports `stageFree` on <data-root>/tmp. */
function fakeHosts(stageFree: number) {
  const loads: string[] = [];
  const from = {
    name: 'test',
    config: { sudo: false },
    spawnStream: (r: { script?: string }) => {
      const marker = /@@rfx-[0-9a-f]+/.exec(r.script ?? '')?.[0] ?? '@@none';
      const child = spawn('sh', ['-c', `printf '%s pid 1\\n%s bytes 50000000\\n%s start\\n' ${marker} ${marker} ${marker}; head -c 1000000 /dev/zero`], { stdio: ['pipe', 'pipe', 'pipe'] });
      return { child, command: 'docker save' };
    },
    run: async () => ({ code: 0, stdout: '', stderr: '' }),
  };
  const to = {
    name: 'prod',
    config: { sudo: false },
    settings: { commandTimeoutMs: 60_000 },
    run: async (r: { script?: string }) => {
      const marker = /@@rfx-[0-9a-f]+/.exec(r.script ?? '')?.[0] ?? '@@none';
      const stdout = `${marker} dfroot /dev/sda1 100000000 1000 99999000 1% /\n${marker} dfstage tmpfs 1000 0 ${stageFree / 1024} 0% /var/lib/docker/tmp\n`;
      return { code: 0, stdout, stderr: '' };
    },
    spawnStream: (r: { script?: string }) => {
      loads.push(r.script ?? '');
      return { child: spawn('sh', ['-c', 'cat >/dev/null; exit 1'], { stdio: ['pipe', 'pipe', 'pipe'] }), command: 'docker load' };
    },
  };
  return { from: from as unknown as SshHost, to: to as unknown as SshHost, loads };
}

const image = { id: `sha256:${'a'.repeat(64)}`, layers: [`sha256:${'b'.repeat(64)}`], created: '2026-01-01T00:00:00Z', platform: 'linux/amd64', config: '{}', size: 50_000_000 };
const facts = (host: string) => ({ host, dockerVersion: '20.10.24', store: 'classic' as const, dataRoot: disk('/var/lib/docker', '/', 1e12), tools: ['gzip'], images: [] });
const fullPlan: TransferPlan = {
  imageId: image.id,
  image,
  layers: { kind: 'full', total: 1, shared: 0, missing: image.layers, missingBytes: image.size, reason: 'the target has none of its layers' },
  compression: 'none',
  source: facts('test'),
  // the plan was made when PROD had room: its disk filled since
  target: facts('prod'),
};

test('a streamed full transfer refuses before docker load starts when PROD has too little room now; nothing is loaded', async () => {
  const { from, to, loads } = fakeHosts(512 * 1024);
  await assert.rejects(
    transferImage(from, to, image.id, { plan: fullPlan, stallMs: 10_000 }),
    (e: unknown) => e instanceof TransferSpaceError && /not enough disk space on prod .*needed in \/var\/lib\/docker\/tmp .*0\.5 MB .*free/.test(e.message) && /free disk space on prod/.test(e.detail.fix ?? ''),
  );
  assert.equal(loads.length, 0, 'docker load never started');
});

test('layer store: used for a classic overlay2 source with tar-split sending to a classic store; never else', () => {
  const facts = (over: Partial<ImageHostFacts>): ImageHostFacts => ({ host: 'h', store: 'classic', driver: 'overlay2', dataRoot: { path: '/var/lib/docker' }, tools: ['gzip', 'tar-split'], images: [], ...over });
  assert.equal(layerStore(facts({}), facts({})), '/var/lib/docker');
  assert.equal(layerStore(facts({ tools: ['gzip'] }), facts({})), undefined, 'no tar-split on the source');
  assert.equal(layerStore(facts({}), facts({ store: 'containerd' })), undefined, 'a containerd target needs every layer size: docker save');
  assert.equal(layerStore(facts({ driver: 'vfs' }), facts({})), undefined);
  assert.equal(layerStore(facts({ store: 'containerd' }), facts({})), undefined);
});

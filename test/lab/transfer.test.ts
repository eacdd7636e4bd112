// Image transfer on the lab: only the missing layers go, a stale plan falls back to the whole
// image, and the source's temporary files are gone after success and after a failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { SshHost } from '../../src/adapters/ssh.ts';
import { planTransfer, transferImage } from '../../src/adapters/transfer.ts';
import { loadConfig } from '../../src/core/config.ts';
import { labDocker, labInfo, labSkip, onContainerdStore } from './lab.ts';

const RUN = `${process.pid}`;
const tag = (name: string) => `xfer-${name}:${RUN}`;

/** docker on a lab host through its admin socket, with stdin (builds, save | load). */
function dockerIn(host: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync('docker', ['-H', labInfo()!.hosts[host]!.dockerSock, ...args], { input, env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

/** Build FROM `from` on test with one layer of `kb` KiB of random bytes; returns the image ID. */
function build(name: string, from: string, kb: number): string {
  dockerIn('test', ['build', '-q', '-t', tag(name), '-'], `FROM ${from}\nRUN head -c ${kb * 1024} /dev/urandom >/${name}.bin\n`);
  return imageId('test', tag(name))!;
}

function imageId(host: string, ref: string): string | undefined {
  try {
    return labDocker(host, ['image', 'inspect', '-f', '{{.Id}}', ref]).trim();
  } catch {
    return undefined;
  }
}

/** Copy an image to prod by the admin sockets (test set-up, not the code under test). */
function seedProd(ref: string): void {
  dockerIn('prod', ['load', '-q'], dockerIn('test', ['save', ref]));
}

describe('image transfer (lab)', labSkip(), () => {
  let from: SshHost;
  let to: SshHost;
  let leftovers: () => Promise<string>;

  before(async () => {
    const config = loadConfig(labInfo()!.config);
    from = new SshHost(config.hosts[config.from]!, config.ssh);
    to = new SshHost(config.hosts[config.to]!, config.ssh);
    await Promise.all([from.connect(), to.connect()]);
    const root = (await from.check({ argv: ['docker', 'info', '--format', '{{.DockerRootDir}}'] })).stdout.trim();
    leftovers = async () => (await from.run({ script: `ls -d ${root}/tmp/releaseflow-xfer-* ${root}/tmp/docker-export-* /tmp/releaseflow-xfer-* 2>/dev/null; true` })).stdout.trim();
  });

  after(async () => {
    // prod has our images by ID only (loaded untagged) or by the tags seedProd copied
    const refs = labDocker('test', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=xfer-*:${RUN}`]).split('\n').filter(Boolean);
    const ids = [...new Set(refs.map((r) => imageId('test', r)).filter(Boolean))] as string[];
    for (const host of ['prod', 'test']) {
      for (const ref of refs) if (imageId(host, ref)) labDocker(host, ['rmi', ref]);
      for (const id of ids) if (imageId(host, id)) labDocker(host, ['rmi', '-f', id]);
    }
    await Promise.all([from?.close(), to?.close()]);
  });

  async function waitNoLeftovers(): Promise<void> {
    const deadline = Date.now() + 15_000;
    let left = await leftovers();
    while (left && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      left = await leftovers();
    }
    assert.equal(left, '', 'temporary files left on test');
  }

  test('a new image whose base PROD has: far fewer bytes than the image, exact image ID on PROD, no temp files', async () => {
    build('base', 'ragflowauth-base:1', 2048);
    seedProd(tag('base'));
    const id = build('app', tag('base'), 256);
    const size = Number(labDocker('test', ['image', 'inspect', '-f', '{{.Size}}', id]));
    const r = await transferImage(from, to, id);
    assert.equal(r.strategy, 'delta');
    assert.equal(r.fellBack, false);
    // a classic TEST with tar-split (setup.sh installs it): the layer rebuilt from its layer store, no docker save;
    // a containerd-store TEST (npm run test:engines) sends the blob from its content store as it is
    assert.equal(r.layout, onContainerdStore('test') ? 'content-store' : 'layer-store');
    assert.deepEqual(r.layers, { total: 4, sent: 1 });
    assert.ok(r.bytes < 400 * 1024, `sent ${r.bytes} bytes for a 256 KiB layer`);
    assert.ok(r.bytes < size / 50, `sent ${r.bytes} of ${size}`);
    assert.equal(imageId('prod', id), id);
    await waitNoLeftovers();
  });

  test('a stale plan (PROD lost the base layer after planning) falls back to the whole image once', async () => {
    build('base2', 'ragflowauth-base:1', 512);
    seedProd(tag('base2'));
    const id = build('app2', tag('base2'), 64);
    const plan = await planTransfer(from, to, id);
    assert.equal(plan.layers.kind, 'delta');
    labDocker('prod', ['rmi', tag('base2')]);
    const warnings: string[] = [];
    const r = await transferImage(from, to, id, { plan, onWarning: (w) => warnings.push(w) });
    assert.equal(r.fellBack, true);
    assert.equal(r.strategy, 'full');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /sending the whole image once instead/);
    assert.equal(imageId('prod', id), id);
    await waitNoLeftovers();
  });

  test('interrupted while the source stages the image: an interrupt error, no temp files, nothing loaded', async () => {
    build('base3', 'ragflowauth-base:1', 64);
    seedProd(tag('base3'));
    const id = build('app3', tag('base3'), 30 * 1024);
    const ac = new AbortController();
    const run = transferImage(from, to, id, { signal: ac.signal });
    const deadline = Date.now() + 20_000;
    while (!/releaseflow-xfer-/.test(await leftovers()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await assert.rejects(run, /interrupted/);
    await waitNoLeftovers();
    assert.equal(imageId('prod', id), undefined);
  });
});

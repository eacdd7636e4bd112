// Lab: containers created with hard option combinations come back identical through toRunSpec → runSpecToArgv.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { labInfo, labSkip, REPO } from './lab.ts';
import { CASES, DOCKERFILES, EP, IMG1, IMG2, SECCOMP } from './runspec-roundtrip-cases.ts';
import { BASE, diff, dk, ensureImage, expected, inspect, recreate, requested, rm, TMP } from './runspec-roundtrip-lib.ts';

const skip = labSkip().skip || (labInfo() && !hasBase() ? `${BASE} missing on the lab (run lab.sh images)` : false);
// RT_CAPTURE=all or a comma list of case names: save the originals' inspect JSON as test/fixtures/spec-<case>.inspect.json
const CAPTURE = (process.env.RT_CAPTURE ?? '').split(',').filter(Boolean);
const capturing = (name: string) => CAPTURE.includes('all') || CAPTURE.includes(name);
const VOLUMES = ['rt-vol', 'rt-vol2', 'rt-vopt', 'rt-drv', 'rt-peervol', 'rt-up'];

function hasBase(): boolean {
  try {
    dk(['image', 'inspect', BASE]);
    return true;
  } catch {
    return false;
  }
}

function cleanup(): void {
  const all = dk(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => /^rt-/.test(n));
  rm(...all);
  for (const n of ['rt-net1', 'rt-net2']) {
    try {
      dk(['network', 'rm', n]);
    } catch {}
  }
  for (const v of VOLUMES) {
    try {
      dk(['volume', 'rm', '-f', v]);
    } catch {}
  }
}

function capture(file: string, json: unknown): void {
  writeFileSync(join(REPO, 'test/fixtures', file), `${JSON.stringify(json, null, 2)}\n`);
}

describe('runspec round trip on the lab', { ...labSkip(), skip, concurrency: false }, () => {
  before(() => {
    cleanup();
    for (const [tag, df] of Object.entries(DOCKERFILES)) ensureImage(tag, df);
    dk(['network', 'create', '--subnet', '172.30.0.0/24', 'rt-net1']);
    dk(['network', 'create', '--ipv6', '--subnet', '172.30.1.0/24', '--subnet', 'fd00:30::/64', 'rt-net2']);
    dk(['run', '--rm', '-v', '/srv:/h', BASE, 'mkdir', '-p', '/h/rt a,b', '/h/rt-ro', '/h/rt-slave', '/h/rt dir/with space', '/h/ünï cødé']);
    dk(['run', '-d', '--name', 'rt-peer', '--ipc', 'shareable', '-v', 'rt-peervol:/pv', '-v', '/pvanon', BASE, 'sleep', '3600']);
    dk(['run', '-d', '--name', 'rt-peer2', '--network', 'rt-net1', BASE, 'sleep', '3600']);
    writeFileSync(join(TMP, 'seccomp.json'), SECCOMP);
    rmSync('/tmp/rt-cidfile-test', { force: true });
    if (CAPTURE.length > 0) for (const tag of [BASE, IMG1, IMG2, EP]) capture(`spec-image-${tag.replace(/[:/]/g, '-')}.inspect.json`, JSON.parse(dk(['image', 'inspect', tag])));
  });
  after(() => {
    cleanup();
    rmSync(TMP, { recursive: true, force: true });
    rmSync('/tmp/rt-cidfile-test', { force: true });
  });

  for (const c of CASES) {
    test(c.name, (t) => {
      const name = `rt-${c.name}`;
      const image = c.image ?? BASE;
      const anon = c.anon ?? 'reuse';
      try {
        const cmd = c.cmd === null ? [] : (c.cmd ?? ['sleep', '3600']);
        dk(['create', '--name', name, ...c.args, image, ...cmd], { cli: c.cli });
        c.after?.(name);
        const start = c.start ?? true;
        if (start) dk(['start', name]);
        if (capturing(c.name)) capture(`spec-${c.name}.inspect.json`, [inspect(name)]);
        const r = recreate(name, image, { envFile: c.envFile, anon, cli: c.cli, start });
        const want = expected(r.before, r.oldImage.Config.Volumes ?? {}, anon);
        const got = requested(r.after);
        if (anon === 'new') {
          for (const m of [...want.Mounts, ...got.Mounts]) if (/^[0-9a-f]{64}$/.test(m.Name ?? '')) m.Name = '<anonymous>';
        }
        for (const w of r.warnings) t.diagnostic(`warning: ${w}`);
        const d = c.compare === 'networks-only' ? diff(want.Networks, got.Networks) : diff(want, got);
        assert.deepEqual(d, [], `differences:\n${d.join('\n')}\nargv: ${JSON.stringify(r.argv)}\nwarnings: ${r.warnings.join('\n')}`);
        for (const re of c.warns ?? []) assert.ok(r.warnings.some((w) => re.test(w)), `no warning matches ${re}: ${r.warnings.join(' | ')}`);
      } finally {
        rm(name, `${name}-old`);
      }
    });
  }

  test('upgrade: the new image brings its defaults, operator values stay', () => {
    const name = 'rt-upgrade';
    try {
      dk(['create', '--name', name, '-e', 'SHARED=mine', '-e', 'USERVAR=1', '-e', 'IMG_A=one', '--label', 'rt.keep=same', '--label', 'rt.img=mine', '--label', 'op=1',
        '-p', '17001:7001', '--expose', '7005', '-v', 'rt-up:/named', '--user', '1000', '--health-interval', '5s', '--stop-timeout', '3',
        '--network', 'rt-net1', '--network-alias', 'up', '--restart', 'unless-stopped', '--memory', '96m', IMG1]);
      dk(['start', name]);
      const r = recreate(name, IMG2, { start: true });
      const img2 = JSON.parse(dk(['image', 'inspect', IMG2]))[0].Config;
      const a = r.after;
      assert.deepEqual(a.Config.Cmd, img2.Cmd, 'CMD from the new image');
      const user = r.spec.env;
      assert.deepEqual([...user].sort(), ['IMG_A=one', 'SHARED=mine', 'USERVAR=1'], 'operator env (IMG_A=one re-typed after the operator values: kept)');
      const keys = new Set(user.map((e) => e.split('=')[0]));
      // docker CLI 28 may reorder the -e entries (it collapses them through a map); the image's entries follow them
      assert.deepEqual(a.Config.Env.slice(0, user.length).sort(), [...user].sort(), 'env: operator values first');
      assert.deepEqual(a.Config.Env.slice(user.length), img2.Env.filter((e: string) => !keys.has(e.split('=')[0])), 'env: then the new image defaults');
      assert.deepEqual(a.Config.Labels, { ...img2.Labels, 'rt.img': 'mine', op: '1' }, 'labels');
      assert.equal(a.Config.WorkingDir, img2.WorkingDir);
      assert.equal(a.Config.StopSignal, img2.StopSignal);
      assert.equal(a.Config.User, '1000');
      assert.equal(a.Config.StopTimeout, 3);
      assert.deepEqual(a.Config.Healthcheck, { ...img2.Healthcheck, Interval: 5_000_000_000 }, 'healthcheck: new image test, operator interval');
      assert.deepEqual(Object.keys(a.Config.ExposedPorts).sort(), ['7001/tcp', '7003/tcp', '7005/tcp'], 'exposed: new image + operator');
      assert.deepEqual(Object.keys(a.Config.Volumes).sort(), ['/data2'], 'image volumes of the new image');
      const anon = r.before.Mounts.find((m: { Destination: string }) => m.Destination === '/data1').Name;
      assert.ok(a.HostConfig.Binds.includes(`${anon}:/data1`), 'the old anonymous volume is reused by name');
      const hb = requested(r.before).HostConfig;
      const ha = requested(a).HostConfig;
      hb.Binds = [...hb.Binds, `${anon}:/data1`].sort();
      assert.deepEqual(diff(hb, ha), [], 'every operator HostConfig value kept');
      assert.deepEqual(diff(requested(r.before).Networks, requested(a).Networks), [], 'network endpoint config kept');
      assert.ok(!r.argv.includes('IMG_B=b one') && !r.argv.includes('/srv/one'), 'nothing of the old image pinned');
    } finally {
      rm(name, `${name}-old`);
    }
  });
});

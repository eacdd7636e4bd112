import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ReleaseflowError } from '../../src/core/errors.ts';
import { InspectParseError, parseDaemonInfo, parseImageInspect, parseInspect } from '../../src/core/inspect.ts';

const dir = new URL('../fixtures/', import.meta.url);
const raw = (name: string): any => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const containerFixtures = readdirSync(dir).filter((f) => /^(prod|test|spec)-.*\.inspect\.json$/.test(f) && !f.startsWith('spec-image-') && !f.includes('network'));
const imageFixtures = readdirSync(dir).filter((f) => /^(image|spec-image)-.*\.inspect\.json$/.test(f));

test('every captured container inspect parses', () => {
  assert.ok(containerFixtures.length >= 40, `only ${containerFixtures.length} fixtures`);
  for (const f of containerFixtures) {
    const facts = parseInspect(raw(f));
    assert.match(facts.Id, /^[0-9a-f]{64}$/, f);
    assert.ok(!facts.Name.startsWith('/'), `${f}: name keeps no slash`);
    assert.match(facts.Image, /^sha256:/, f);
  }
});

test('parseInspect reads the PROD backend as the lab created it', () => {
  const f = parseInspect(raw('prod-backend-v1.inspect.json'));
  assert.equal(f.Name, 'ragflowauth-backend');
  assert.equal(f.HostConfig.NetworkMode, 'ragflowauth-net');
  assert.deepEqual(f.HostConfig.PortBindings, { '8001/tcp': [{ HostIp: '', HostPort: '8001' }] });
  assert.deepEqual(f.HostConfig.Binds, ['ragflowauth-data:/data', '/opt/ragflowauth/conf:/app/conf:ro']);
  assert.deepEqual(f.NetworkSettings.Networks['ragflowauth-net']?.Aliases?.includes('backend'), true);
  assert.equal(f.State.Running, true);
  assert.equal(f.Mounts.find((m) => m.Destination === '/data')?.Name, 'ragflowauth-data');
});

test('parseInspect accepts the array docker prints or its one element, and keeps unknown fields', () => {
  const one = raw('spec-control.inspect.json')[0];
  assert.deepEqual(parseInspect([one]), parseInspect(one));
  const extra = structuredClone(one);
  extra.HostConfig.SomethingNew = { a: 1 };
  assert.deepEqual(parseInspect(extra).HostConfig.SomethingNew, { a: 1 });
});

test('parseInspect rejects malformed input with a typed error naming the path', () => {
  const one = raw('spec-control.inspect.json')[0];
  const bad = (mutate: (x: any) => void, path: RegExp) => {
    const x = structuredClone(one);
    mutate(x);
    assert.throws(() => parseInspect(x), (e: unknown) => e instanceof InspectParseError && e instanceof ReleaseflowError && path.test(e.message));
  };
  bad((x) => delete x.Id, /\$\.Id is missing/);
  bad((x) => (x.Config = 'nope'), /\$\.Config is not an object/);
  bad((x) => (x.Config.Env = 'A=1'), /\$\.Config\.Env/);
  bad((x) => (x.Config.Env = ['A=1', 2]), /\$\.Config\.Env/);
  bad((x) => (x.HostConfig.PortBindings = { '80/tcp': {} }), /PortBindings\["80\/tcp"\]/);
  bad((x) => (x.HostConfig.PortBindings = { '80/tcp': [{ HostIp: '', HostPort: 80 }] }), /HostPort/);
  bad((x) => (x.HostConfig.Mounts = [{ Type: 'bind' }]), /Mounts\[0\]\.Target is missing/);
  bad((x) => (x.NetworkSettings.Networks.bridge.Aliases = 'a'), /Networks\["bridge"\]\.Aliases/);
  bad((x) => (x.HostConfig.Memory = '1g'), /HostConfig\.Memory/);
  assert.throws(() => parseInspect([]), /holds 0 objects/);
  assert.throws(() => parseInspect([one, one]), /holds 2 objects/);
  assert.throws(() => parseInspect(null), InspectParseError);
  assert.throws(() => parseInspect('[]'), InspectParseError);
});

test('every captured image inspect parses', () => {
  assert.ok(imageFixtures.length >= 4);
  for (const f of imageFixtures) {
    const img = parseImageInspect(raw(f));
    assert.match(img.Id, /^sha256:/, f);
    assert.ok(img.RootFS.Layers.length > 0, f);
    assert.ok(img.Size > 0, f);
  }
});

test('parseImageInspect keeps only the image defaults runspec compares', () => {
  const img = parseImageInspect(raw('spec-image-rt-img-1.inspect.json'));
  assert.deepEqual(img.RepoTags, ['rt-img:1']);
  assert.deepEqual(Object.keys(img.Config).sort(), ['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Healthcheck', 'Labels', 'StopSignal', 'User', 'Volumes', 'WorkingDir']);
  assert.equal(img.Config.StopSignal, 'SIGUSR1');
  assert.deepEqual(img.Config.Healthcheck, { Test: ['CMD', 'true'], Interval: 11_000_000_000, Timeout: 3_000_000_000, Retries: 2 });
  assert.deepEqual(Object.keys(img.Config.Volumes ?? {}), ['/data1']);
});

test('parseImageInspect: a null Config (FROM scratch, no instructions) is an empty one; bad shapes throw', () => {
  const x = raw('spec-image-ragflowauth-base-1.inspect.json')[0];
  assert.deepEqual(parseImageInspect({ ...x, Config: null }).Config, {});
  assert.throws(() => parseImageInspect({ ...x, Id: undefined }), /\$\.Id is missing/);
  assert.throws(() => parseImageInspect({ ...x, RootFS: { Layers: 'x' } }), /RootFS\.Layers/);
});

test('parseDaemonInfo keeps the defaults runspec needs', () => {
  const info = parseDaemonInfo({ Name: 'test', LoggingDriver: 'json-file', DefaultRuntime: 'runc', CgroupVersion: '1', ServerVersion: '20.10.24', Other: 1 });
  assert.deepEqual(info, { Name: 'test', LoggingDriver: 'json-file', DefaultRuntime: 'runc', CgroupVersion: '1', ServerVersion: '20.10.24' });
  assert.throws(() => parseDaemonInfo({ Name: 3 }), InspectParseError);
});

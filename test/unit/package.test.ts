// The published package: `npm pack`, then `npm install -g` of the tarball into an empty prefix runs
// releaseflow from dist/ with Node and the runtime dependencies only (no tsx, no typescript);
// `npx` of the tarball too. Needs the npm registry (or npm's cache) for the runtime dependencies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, PKG, type Packed, packAndInstall, REPO, run } from './packed.ts';

/** Every package installed in the node_modules folder `top`: `name` or `@scope/name`, at any depth. */
function installedPackages(top: string): Set<string> {
  const names = new Set<string>();
  const walk = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@') ? readdirSync(join(nm, e.name)).map((s) => `${e.name}/${s}`) : [e.name];
      for (const d of dirs) {
        names.add(d);
        walk(join(nm, d, 'node_modules'));
      }
    }
  };
  walk(top);
  return names;
}

/** `src/**\/*.ts` as their dist/ names: what the build must have compiled. */
function compiledNames(): string[] {
  return (readdirSync(join(REPO, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `dist/${f.replace(/\.ts$/, '.js')}`)
    .sort();
}

describe('the packed package, installed into an empty prefix', { timeout: 900_000 }, () => {
  let p: Packed;
  before(() => {
    p = packAndInstall();
    process.stdout.write(`# npm pack (with the build) ${(p.packMs / 1000).toFixed(1)}s, npm install -g ${(p.installMs / 1000).toFixed(1)}s\n`);
  });
  after(() => p?.remove());

  test('the tarball holds bin/, dist/ (every source compiled, the dashboard files beside the server), package.json and README.md only', () => {
    for (const f of p.files) assert.match(f, /^(bin\/|dist\/|package\.json$|README\.md$)/, `${f} should not be published`);
    assert.ok(!p.files.some((f) => f.endsWith('.ts')), 'no TypeScript source is published');
    const dist = p.files.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !f.startsWith('dist/web/static/')).sort();
    assert.deepEqual(dist, compiledNames());
    const statics = (readdirSync(join(REPO, 'src/web/static')) as string[]).map((f) => `dist/web/static/${f}`);
    for (const f of [...statics, 'bin/releaseflow.js', 'package.json', 'README.md']) assert.ok(p.files.includes(f), `${f} is published`);
  });

  test('installed: the runtime dependencies, and no dev dependency (tsx, typescript, ...) anywhere in the prefix', () => {
    const names = installedPackages(join(p.prefix, 'lib', 'node_modules'));
    assert.ok(names.has(PKG.name));
    for (const d of Object.keys(PKG.dependencies)) assert.ok(names.has(d), `runtime dependency ${d} installed`);
    for (const d of [...Object.keys(PKG.devDependencies), 'esbuild']) assert.ok(!names.has(d), `dev dependency ${d} must not be installed`);
    assert.ok(!existsSync(join(p.pkgDir, 'src')), 'no src/ in the installed package: bin/ runs dist/');
  });

  test('releaseflow --version and --help', () => {
    const v = run(p.bin, ['--version'], { cwd: p.dir });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), PKG.version);
    const h = run(p.bin, ['--help'], { cwd: p.dir });
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /^Usage: releaseflow \[options\] \[command\]/);
    for (const c of ['status', 'doctor', 'plan', 'promote', 'rollback', 'history', 'ui']) assert.match(h.stdout, new RegExp(`^  ${c}\\b`, 'm'), `--help lists ${c}`);
    const sub = run(p.bin, ['promote', '--help'], { cwd: p.dir });
    assert.equal(sub.status, 0, sub.stderr);
    assert.match(sub.stdout, /--yes/);
  });

  test('releaseflow ui serves the dashboard page and its scripts from the installed dist/', async () => {
    const cfg = join(p.dir, 'releaseflow.yml');
    writeFileSync(cfg, 'app: demo\nhosts:\n  test: { address: 192.0.2.1, user: root }\n  prod: { address: 192.0.2.2, user: root }\ncontainers:\n  - demo-backend\n');
    const child = spawn(p.bin, ['ui', '--port', '0', '-c', cfg], { cwd: p.dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`releaseflow ui exited ${code}: ${err}`)));
      });
      const page = await fetch(url);
      assert.equal(page.status, 200, await page.clone().text());
      const html = await page.text();
      assert.match(html, /<!doctype html>/i);
      const script = /src="([^"]*app\.js[^"]*)"/.exec(html)?.[1];
      assert.ok(script, 'the page loads app.js');
      const js = await fetch(new URL(script, url));
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
    } finally {
      const exited = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('npx of the tarball (npm exec --package) runs releaseflow without a dev dependency', () => {
    const cache = join(p.dir, 'npx cache');
    const r = run('npm', ['exec', '--yes', '--cache', cache, '--package', p.tarball, '--', 'releaseflow', '--version'], { cwd: p.dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), PKG.version);
    const [one, ...more] = readdirSync(join(cache, '_npx'));
    assert.equal(more.length, 0);
    const names = installedPackages(join(cache, '_npx', one!, 'node_modules'));
    assert.ok(names.has(PKG.name) && names.has('commander'));
    for (const d of ['tsx', 'typescript', 'esbuild']) assert.ok(!names.has(d), `${d} must not be installed`);
  });
});

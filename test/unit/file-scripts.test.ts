// Scripts about files and compose CLIs on a host, run by the real /bin/sh against a temp folder and stub commands.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildComposeToolsScript } from '../../src/core/compose.ts';
import { buildComposeObserveScript } from '../../src/targets/compose/observe.ts';
import { buildFileStatusScript, buildHashFilesScript, buildPrivateDirScript, buildWriteFileScript, buildWriteTextScript, WRITE_EXISTS } from '../../src/core/file-scripts.ts';

const tmp = () => mkdtempSync(join(tmpdir(), "rf-files-it's "));
const sh = (script: string, opts: { input?: string; path?: string } = {}) =>
  spawnSync('/bin/sh', ['-c', script], { input: opts.input ?? '', encoding: 'utf8', env: { PATH: opts.path ?? process.env.PATH } });

test('file status: one line per path, in order: readable, unreadable (not a regular file) or missing', () => {
  const d = tmp();
  writeFileSync(join(d, 'compose.yml'), 'services: {}\n');
  mkdirSync(join(d, 'a dir'));
  const r = sh(buildFileStatusScript([join(d, 'compose.yml'), join(d, 'a dir'), join(d, 'gone.yml')]));
  assert.deepEqual(r.stdout.trim().split('\n'), ['readable', 'unreadable', 'missing']);
});

test('hashes: sha256 and path of each regular file; a missing file prints nothing', () => {
  const d = tmp();
  const [a, b] = [join(d, 'a b.yml'), join(d, '.env')];
  writeFileSync(a, 'one\n');
  writeFileSync(b, '');
  const r = sh(buildHashFilesScript([a, join(d, 'missing'), b]));
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');
  assert.equal(r.stdout, `${sha('one\n')} ${a}\n${sha('')} ${b}\n`);
});

test('write file: creates its folder, refuses to replace an existing file unless forced, 0600 when secret, no temp file left', () => {
  const path = join(tmp(), 'opt', 'app', 'docker-compose.yml');
  const write = (text: string, force: boolean, secret: boolean) => sh(buildWriteFileScript(path, { force, secret }), { input: text });
  assert.equal(write('first\n', false, false).status, 0);
  assert.equal(readFileSync(path, 'utf8'), 'first\n');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.equal(write('second\n', false, true).status, WRITE_EXISTS);
  assert.equal(readFileSync(path, 'utf8'), 'first\n');
  assert.equal(write('third\n', true, true).status, 0);
  assert.equal(readFileSync(path, 'utf8'), 'third\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(path, '..')), ['docker-compose.yml']);
});

test('compose tools: the version of each CLI present and the engine, empty for a missing one; with sudo, all through sudo -n', () => {
  const bin = tmp();
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('docker', '[ "$1 $2 $3" = "compose version --short" ] && [ "$VIA_SUDO" = 1 ] && echo 2.29.1; [ "$1 $2" = "version --format" ] && [ "$VIA_SUDO" = 1 ] && echo 28.5.2');
  stub('sudo', '[ "$1" = -n ] && shift; VIA_SUDO=1 exec "$@"');
  // only the stubs: not the machine's own docker or docker-compose
  const path = bin;
  assert.equal(sh(buildComposeToolsScript(), { path }).stdout, 'plugin \nstandalone \nengine \n');
  assert.equal(sh(buildComposeToolsScript(true), { path }).stdout, 'plugin 2.29.1\nstandalone \nengine 28.5.2\n');
  stub('docker-compose', '[ "$1 $2" = "version --short" ] && echo 1.29.2');
  assert.equal(sh(buildComposeToolsScript(), { path }).stdout, 'plugin \nstandalone 1.29.2\nengine \n');
  // without-plugin: docker-compose is asked only when there is no plugin (it is Python, and slow)
  assert.equal(sh(buildComposeToolsScript(false, 'without-plugin'), { path }).stdout, 'plugin \nstandalone 1.29.2\nengine \n');
  const asked = join(bin, 'docker-compose.asked');
  stub('docker-compose', 'echo x >>"$0.asked"; [ "$1 $2" = "version --short" ] && echo 1.29.2');
  assert.equal(sh(buildComposeToolsScript(true, 'without-plugin'), { path }).stdout, 'plugin 2.29.1\nstandalone \nengine 28.5.2\n');
  assert.equal(existsSync(asked), false, 'docker-compose not run when the plugin answers');
  assert.equal(sh(buildComposeToolsScript(true), { path }).stdout, 'plugin 2.29.1\nstandalone 1.29.2\nengine 28.5.2\n');
  assert.equal(existsSync(asked), true, 'asked when always');
});

test('compose observe: docker-compose is asked beside the plugin only when a project was not created by v2', () => {
  const p = { paths: ['/opt/a/docker-compose.yml'], envPath: '/opt/a/.env', workingDir: '/opt/a' };
  const lazy = /\[ -n "\$rf_cp" \] \|\| rf_cs=/;
  assert.match(buildComposeObserveScript([{ ...p, labelVersion: '2.26.1' }], false, '@@m'), lazy);
  for (const labelVersion of ['1.29.2', undefined]) assert.doesNotMatch(buildComposeObserveScript([{ ...p, labelVersion: '2.40.3' }, { ...p, labelVersion }], false, '@@m'), lazy);
});

test('write text: the exact text (quotes, %, backslashes, newlines) replaces the file, mode 0644; a private folder is 0700', () => {
  const dir = join(tmp(), 'rel', 'compose');
  assert.equal(sh(buildPrivateDirScript(dir)).status, 0);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const path = join(dir, 'docker-compose.releaseflow.yml');
  writeFileSync(path, 'old');
  const text = "services:\n  web:\n    image: 'it''s' \"%s\" \\n $HOME `x`\n";
  assert.equal(sh(buildWriteTextScript(path, text)).status, 0);
  assert.equal(readFileSync(path, 'utf8'), text);
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(dir), ['docker-compose.releaseflow.yml']);
});

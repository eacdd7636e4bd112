// The package as a user gets it: `npm pack` (its prepack builds dist/), then `npm install -g` of the
// tarball into an empty prefix, with no dev dependency anywhere. For test/unit/package.test.ts and
// test/lab/package.test.ts. Needs the npm registry for the runtime dependencies (or npm's cache).
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

export interface Packed {
  /** the temp dir with the tarball and the prefix (a space in its name: install paths may have one) */
  dir: string;
  tarball: string;
  /** the paths inside the tarball, as `npm pack` lists them */
  files: string[];
  prefix: string;
  /** <prefix>/bin/releaseflow, the installed command */
  bin: string;
  /** <prefix>/lib/node_modules/releaseflow, the installed package */
  pkgDir: string;
  packMs: number;
  installMs: number;
  remove: () => void;
}

/** The environment for npm and the installed command: nothing of an outer `npm test` that names a
 *  prefix or a package, and no loader of the test process (NODE_OPTIONS): the command runs on its own. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const drop = /^(NODE_OPTIONS|npm_config_(local_|global_)?prefix|npm_package_.*|npm_lifecycle_.*|npm_command)$/i;
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.test(k))), ...extra };
}

export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000 });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal ?? r.error}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Pack this checkout and install the tarball globally into an empty prefix of a new temp dir. */
export function packAndInstall(): Packed {
  const dir = mkdtempSync(join(tmpdir(), 'rf-package-'));
  const prefix = join(dir, 'global prefix');
  mkdirSync(prefix);
  let t = Date.now();
  // --json: the listing on stdout, the prepack build's output on stderr
  const listing = JSON.parse(must(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO }), 'npm pack')) as { filename: string; files: { path: string }[] }[];
  const packMs = Date.now() - t;
  const tarball = join(dir, listing[0]!.filename);
  t = Date.now();
  must(run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir }), 'npm install --global');
  return {
    dir,
    tarball,
    files: listing[0]!.files.map((f) => f.path),
    prefix,
    bin: join(prefix, 'bin', 'releaseflow'),
    pkgDir: join(prefix, 'lib', 'node_modules', PKG.name),
    packMs,
    installMs: Date.now() - t,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

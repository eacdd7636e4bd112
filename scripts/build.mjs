// `npm run build` (and `npm pack` / `npm publish`, through `prepack`): compile src/ to dist/ for the
// published package. tsc with tsconfig.build.json rewrites the sources' `./x.ts` imports to `./x.js`;
// the dashboard's static files (served from next to the server module) are copied beside
// dist/web/server.js. dist/ is rebuilt from scratch so no file of a deleted source survives in it.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (p) => fileURLToPath(new URL(p, new URL('..', import.meta.url)));

rmSync(at('dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
cpSync(at('src/web/static'), at('dist/web/static'), { recursive: true });

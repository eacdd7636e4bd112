#!/usr/bin/env node
// One entry for both ways releaseflow runs:
// - from a clone (src/ beside bin/, dev dependencies installed): the TypeScript sources, directly
//   through tsx, so nothing is built between an edit and `npx releaseflow`, `npm test`, `npm run demo`;
// - from an installed package (it ships bin/ and dist/, never src/): the compiled JavaScript in dist/
//   (`npm run build`, run by `npm pack` through prepack), which needs only Node and the runtime dependencies.
// The sources win whenever they can run, so a dist/ left in a clone by `npm pack` never shadows an edit;
// dist/ is used in a clone only when tsx is not installed (npm ci --omit=dev after a build).
import { existsSync } from 'node:fs';

async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

const source = new URL('../src/app.ts', import.meta.url);
const api = existsSync(source) ? await tsx() : undefined;
const built = new URL('../dist/app.js', import.meta.url);
if (!api && !existsSync(built)) {
  process.stderr.write('releaseflow: this clone has neither its dev dependencies (tsx runs src/) nor a build (dist/): run npm ci\n');
  process.exit(1);
}
let app;
if (api) {
  api.register();
  app = await import(source.href);
} else {
  app = await import(built.href);
}
process.exitCode = await app.main(process.argv);

// The last lines of `npm run demo`: what was released, from which image to which, how long, where the
// logs are, and how to go on. Reads `releaseflow history --json` on stdin (newest entry first).
//   node scripts/demo-summary.mjs CONFIG DEMO_LOG < history.json
import { readFileSync } from 'node:fs';

const [config, demoLog] = process.argv.slice(2);
const entries = JSON.parse(readFileSync(0, 'utf8'));
const e = entries[0];
if (!e) {
  process.stderr.write(`demo: no release recorded; see ${demoLog}\n`);
  process.exit(1);
}
const short = (id) => String(id ?? '').replace(/^sha256:/, '').slice(0, 12);
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
const width = Math.max(...e.containers.map((c) => c.name.length));
const out = ['', `== done: ${e.result} (exit ${e.exitCode}) ==`];
for (const [i, c] of e.containers.entries()) {
  out.push(`${i === 0 ? 'released' : ''.padEnd(8)}  ${c.name.padEnd(width)}  ${c.fromRef} (${short(c.fromId)}) -> ${c.toRef} (${short(c.toId)})`);
}
out.push(
  `took      ${secs(e.durationMs)}, ${e.from?.name ?? '?'} (${e.from?.address ?? '?'}) -> ${e.to.name} (${e.to.address}), release ${e.releaseId}`,
  `log       ${e.logFile} (and its .jsonl twin); everything the demo ran: ${demoLog}`,
  '',
  'Try it yourself (from this folder):',
  `  export RELEASEFLOW_CONFIG=${config}`,
  '  npx releaseflow status              # both hosts: PROD now runs v2',
  '  npx releaseflow rollback --yes      # PROD back to v1, health-checked',
  '  npx releaseflow promote             # v2 again: shows the plan and asks first',
);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(e.exitCode === 0 ? 0 : 1);

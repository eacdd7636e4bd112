import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventBus } from '../../src/events/bus.ts';
import { jsonlPath, logFileSink } from '../../src/events/logfile.ts';

test('log lines are "<ISO time> [ReleaseFlow] ..." with step N/M, and a JSON-lines twin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-log-'));
  const file = join(dir, 'tool', 'tool_log.log');
  const bus = new EventBus(() => new Date('2026-11-28T15:00:00.000Z'));
  bus.add(logFileSink(file));
  bus.emit({ type: 'step-started', index: 2, total: 7, name: 'transfer x:v2', host: 'prod', cause: 'prod lacks it' });
  bus.emit({ type: 'step-failed', index: 2, total: 7, name: 'transfer x:v2', durationMs: 1500, message: 'docker load failed', fix: 'free disk', exit: 1 });
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], '2026-11-28T15:00:00.000Z [ReleaseFlow] step 2/7 transfer x:v2 started on prod (prod lacks it)');
  assert.equal(lines[1], '2026-11-28T15:00:00.000Z [ReleaseFlow] step 2/7 transfer x:v2 FAILED after 1.5s (exit 1): docker load failed');
  assert.equal(lines[2], '2026-11-28T15:00:00.000Z [ReleaseFlow] hint: free disk');
  const json = readFileSync(jsonlPath(file), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(json.length, 2);
  assert.equal(json[1].type, 'step-failed');
  assert.equal(jsonlPath(file), join(dir, 'tool', 'tool_log.jsonl'));
});

test('the bus masks every known secret value in every event, before any sink sees it', () => {
  const bus = new EventBus();
  const seen: string[] = [];
  bus.add((e) => seen.push(JSON.stringify(e)));
  bus.redactor.add(['s3cr3t-Pa55']);
  bus.emit({ type: 'output', index: 1, host: 'prod', stream: 'stderr', text: 'password s3cr3t-Pa55 rejected', raw: 'raw s3cr3t-Pa55' });
  assert.doesNotMatch(seen.join(''), /s3cr3t-Pa55/);
  assert.match(seen[0]!, /password \*{8} rejected/);
});

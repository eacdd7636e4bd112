// The live run on the Release tab: step N/M progress, each step's outcome, the automatic rollback, the log.
import { badge, fill, fmtBytes, fmtMs, fmtTime, h } from './ui.js';

let run = null;
let view = null;

const RESULTS = {
  released: ['ok', 'Released'],
  'up-to-date': ['ok', 'Already up to date'],
  'rolled-back': ['warn', 'Failed, rolled back'],
  'rollback-failed': ['bad', 'Failed, and the rollback failed too'],
  failed: ['bad', 'Failed'],
  planned: ['info', 'Planned'],
};

/** Is a run in progress? */
export const isRunning = () => Boolean(run?.state.running);

function newRun(state) {
  run = { id: state.run, state, title: `${state.kind}`, lastSeq: 0, phases: [], finished: null, progress: null, lines: [] };
  view = null;
}

/** Apply a run's state (started, finished). */
export function runState(state) {
  if (!state) return;
  if (!run || run.id !== state.run) newRun(state);
  run.state = state;
}

/** Apply one event; events already seen (a replay after reconnect) are ignored. */
export function runEvent(id, e, lines) {
  if (!run || run.id !== id) newRun({ run: id, kind: 'promote', running: true });
  if (e.seq <= run.lastSeq) return;
  run.lastSeq = e.seq;
  const phase = run.phases.at(-1);
  switch (e.type) {
    case 'release-started':
      run.title = lines[0]?.replace(/=/g, '').trim() ?? e.kind;
      break;
    case 'step-started':
      if (!phase || (e.index === 1 && phase.steps.length)) {
        const again = Boolean(phase);
        run.phases.push({ name: again ? (run.state.kind === 'promote' ? 'rollback' : 'undo') : 'release', steps: [] });
      }
      run.phases.at(-1).steps.push({ ...e, status: 'running' });
      run.progress = null;
      break;
    case 'step-succeeded':
    case 'step-failed': {
      const s = phase?.steps.findLast((x) => x.index === e.index);
      if (s) Object.assign(s, { status: e.type === 'step-succeeded' ? 'ok' : 'failed', durationMs: e.durationMs, note: e.note, message: e.message, fix: e.fix });
      break;
    }
    case 'progress':
      run.progress = e;
      break;
    case 'release-finished':
      run.finished = e;
      break;
  }
  if (e.type !== 'progress') run.lines.push(...lines.map((l) => ({ at: e.at, text: l, type: e.type })));
}

function skeleton(root) {
  view = {
    title: h('h2', { id: 'run-title' }),
    status: h('span', { id: 'run-status' }),
    bar: h('progress', { id: 'run-bar', max: 1, value: 0 }),
    progress: h('div', { id: 'run-progress', class: 'progress-text' }),
    phases: h('div', { id: 'run-phases' }),
    result: h('div', { id: 'run-result' }),
    log: h('pre', { id: 'run-log', class: 'log' }),
    shown: 0,
  };
  fill(
    root,
    h(
      'div',
      { class: 'card', 'data-run': run.id },
      h('div', { class: 'card-head' }, view.title, view.status),
      view.bar,
      view.progress,
      view.result,
      view.phases,
      h('h3', {}, 'Log (as in the log file)'),
      view.log,
    ),
  );
}

function stepItem(s) {
  const mark = { running: '…', ok: '✓', failed: '✗' }[s.status];
  return h(
    'li',
    { class: `step ${s.status}`, 'data-status': s.status, 'data-index': s.index },
    h('span', { class: 'mark' }, mark),
    h('strong', {}, `step ${s.index}/${s.total} ${s.name}`),
    ` on ${s.host}`,
    s.durationMs !== undefined ? h('span', { class: 'muted' }, ` ${fmtMs(s.durationMs)}`) : null,
    s.note ? h('span', { class: 'muted' }, ` (${s.note})`) : null,
    h('div', { class: 'cause' }, s.cause),
    s.message ? h('div', { class: 'step-error' }, s.message) : null,
    s.fix ? h('div', { class: 'fix' }, h('strong', {}, 'fix: '), s.fix) : null,
  );
}

/** Draw the run into the element (incrementally for the log). */
export function renderRun(root) {
  if (!run) return;
  if (!view || !root.contains(view.log)) skeleton(root);
  fill(view.title, run.title);
  fill(view.status, run.state.running ? badge('running', 'info') : run.finished ? badge(RESULTS[run.finished.result]?.[1] ?? run.finished.result, RESULTS[run.finished.result]?.[0] ?? 'info') : badge('finished', 'info'), h('span', { class: 'muted' }, ` started ${fmtTime(run.state.startedAt)}`));
  const phase = run.phases.at(-1);
  const cur = phase?.steps.at(-1);
  const done = phase ? phase.steps.filter((s) => s.status === 'ok').length : 0;
  view.bar.max = cur?.total ?? 1;
  view.bar.value = run.finished?.result === 'released' ? view.bar.max : done;
  view.bar.dataset.phase = phase?.name ?? '';
  const p = run.progress && cur && run.progress.index === cur.index ? ` — ${fmtBytes(run.progress.bytes)}${run.progress.totalBytes ? ` of ~${fmtBytes(run.progress.totalBytes)}` : ''} at ${fmtBytes(run.progress.rateBps)}/s` : '';
  fill(view.progress, cur ? `${phase.name === 'release' || cur.name.startsWith(phase.name) ? '' : `${phase.name}: `}step ${cur.index}/${cur.total} ${cur.name} (${cur.status})${p}` : run.state.running ? 'observing the hosts…' : '');
  fill(
    view.phases,
    run.phases.map((ph) =>
      h('div', { class: `phase ${ph.name}`, 'data-phase': ph.name }, h('h3', {}, ph.name === 'release' ? 'Steps' : ph.name === 'rollback' ? 'Automatic rollback' : 'Undo'), h('ol', { class: 'steps' }, ph.steps.map(stepItem))),
    ),
  );
  const f = run.finished;
  fill(view.result, f ? h('div', { class: `result ${RESULTS[f.result]?.[0] ?? 'info'}`, 'data-result': f.result }, h('strong', {}, `${RESULTS[f.result]?.[1] ?? f.result} (exit ${f.exitCode}) in ${fmtMs(f.durationMs)}`), h('pre', {}, f.message)) : null);
  view.result.dataset.result = f?.result ?? '';
  const stick = view.log.scrollTop + view.log.clientHeight >= view.log.scrollHeight - 8;
  for (const l of run.lines.slice(view.shown)) view.log.append(h('span', { class: `line ${l.type}` }, `${l.at.slice(11, 19)} ${l.text}\n`));
  view.shown = run.lines.length;
  if (stick) view.log.scrollTop = view.log.scrollHeight;
}

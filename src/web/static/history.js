// The History tab: the target's releases with result, duration and versions; a release's log on demand.
import { actionButton, api, badge, errorBox, fill, fmtMs, fmtTime, h, tagOf } from './ui.js';

let root = null;
let list = null;
let log = null;

const KIND = { released: 'ok', 'up-to-date': 'ok', 'rolled-back': 'warn', 'rollback-failed': 'bad', failed: 'bad' };

/** Shown: (re)load the history. */
export function showHistory() {
  if (!root) {
    root = document.getElementById('tab-history');
    list = h('div', { id: 'history-list' });
    log = h('div', { id: 'history-log' });
    fill(root, h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Releases'), actionButton('Refresh', load, { id: 'history-refresh' })), list), log);
  }
  load();
}

async function load() {
  fill(list, h('p', { class: 'muted' }, 'reading history…'));
  try {
    const r = await api('api/history');
    const fleet = (r.hosts ?? [r.to]).length > 1;
    const problems = (r.problems ?? []).map((p) => errorBox({ message: `${p.host}: ${p.message}`, fix: p.fix }));
    if (r.entries.length === 0) {
      fill(list, ...problems, h('p', { class: 'muted' }, `no releases recorded on ${(r.hosts ?? [r.to]).join(', ')}`));
      return;
    }
    const rows = r.entries.map((e) =>
      h(
        'tr',
        { 'data-release': e.releaseId, 'data-result': e.result, 'data-host': e.host },
        h('td', {}, fmtTime(e.at)),
        fleet ? h('td', {}, e.host) : null,
        h('td', {}, e.kind),
        h('td', {}, badge(e.result, KIND[e.result] ?? 'info')),
        h('td', {}, fmtMs(e.durationMs)),
        h('td', {}, e.containers.map((c) => h('div', {}, c.created ? `${c.name}: created on ${tagOf(c.toRef)}` : `${c.name}: ${tagOf(c.fromRef)} → ${tagOf(c.toRef)}`))),
        h('td', { class: 'muted' }, e.operator),
        h('td', {}, actionButton('Log', () => openLog(e), { class: 'small', 'data-log': e.releaseId })),
      ),
    );
    const head = ['started', ...(fleet ? ['host'] : []), 'kind', 'result', 'duration', 'versions', 'operator', ''];
    fill(list, ...problems, h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))), h('tbody', {}, rows)));
  } catch (e) {
    fill(list, errorBox(e));
  }
}

async function openLog(e) {
  fill(log, h('div', { class: 'card' }, h('p', { class: 'muted' }, `reading the log of ${e.releaseId}…`)));
  try {
    const r = await api(`api/history/log?releaseId=${encodeURIComponent(e.releaseId)}`);
    fill(log, h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, `${e.kind} ${e.releaseId}`), h('span', { class: 'muted' }, r.file)), h('pre', { class: 'log', id: 'history-log-text' }, r.lines.join('\n'))));
  } catch (err) {
    fill(log, h('div', { class: 'card' }, errorBox(err)));
  }
  log.scrollIntoView({ block: 'start' });
}

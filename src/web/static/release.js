// The Release tab: the plan before anything happens, Release and Rollback with confirmation, the live run.
import { isRunning, renderRun, runEvent, runState } from './run.js';
import { actionButton, api, badge, confirmDialog, errorBox, fill, fmtBytes, h, shortId, tagOf } from './ui.js';

let config;
let plan = null;
const el = {};

/** Build the tab once, with the app's config (host names and addresses). */
export function initRelease(c) {
  config = c;
  el.plan = h('div', { id: 'plan' });
  const targets = (c.fleet ?? [c.to]).join(', ').toUpperCase();
  el.release = h('button', { type: 'button', id: 'release-button', class: 'primary', disabled: true, onclick: release }, `Release ${c.from.toUpperCase()} → ${targets}`);
  el.rollback = h('button', { type: 'button', id: 'rollback-button', onclick: rollbackClicked }, `Roll back ${targets}`);
  el.message = h('div', { id: 'release-message' });
  el.run = h('div', { id: 'run' });
  const refresh = actionButton('Refresh plan', loadPlan, { id: 'plan-refresh' });
  fill(
    document.getElementById('tab-release'),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Plan'), refresh), el.plan),
    h('div', { class: 'actions' }, el.release, el.rollback, el.message),
    el.run,
  );
}

/** Shown: load the plan if there is none yet. */
export function showRelease() {
  if (!plan) loadPlan();
}

/** A run's state changed (from the event stream). */
export function onRunState(state) {
  const wasRunning = isRunning();
  runState(state);
  renderRun(el.run);
  updateButtons();
  if (wasRunning && !isRunning()) loadPlan();
}

/** One event of a run (from the event stream). */
export function onRunEvent(run, event, lines) {
  runEvent(run, event, lines);
  renderRun(el.run);
}

function updateButtons() {
  const busy = isRunning();
  el.release.disabled = busy || !plan || plan.upToDate;
  el.rollback.disabled = busy;
  el.release.title = busy ? 'a release is running' : !plan ? 'no plan yet' : plan.upToDate ? `${config.to} already runs ${config.from}'s images` : '';
}

async function loadPlan() {
  fill(el.plan, h('p', { class: 'muted' }, `observing ${config.from} and ${config.to}…`));
  plan = null;
  updateButtons();
  try {
    plan = await api('api/plan');
    fill(el.plan, planView(plan));
  } catch (e) {
    fill(el.plan, errorBox(e));
  }
  updateButtons();
}

function planView(p) {
  const from = p.from?.name ?? config.from;
  const rows = p.containers.map((c) =>
    h(
      'tr',
      { 'data-container': c.name },
      h('td', {}, c.name),
      h('td', {}, c.toRef, h('div', { class: 'id' }, shortId(c.toId))),
      h('td', { class: 'arrow' }, c.changes ? '→' : '='),
      h('td', {}, c.fromRef, h('div', { class: 'id' }, shortId(c.fromId))),
      h('td', {}, c.changes ? badge(`${tagOf(c.toRef)} → ${tagOf(c.fromRef)}`, 'info') : badge('up to date', 'ok')),
    ),
  );
  const moving = p.transfers.length ? `${p.transfers.length} image(s) to move, up to ${fmtBytes(p.bytes)} (docker load skips the layers ${p.to.name} already has): ${p.transfers.map((t) => t.ref).join(', ')}` : `no image to move: ${p.to.name} has them all`;
  return [
    h('p', { class: 'route' }, h('strong', {}, `${from.toUpperCase()} ${p.from?.address ?? ''}`), ' → ', h('strong', {}, `${p.to.name.toUpperCase()} ${p.to.address}`), h('span', { class: 'muted' }, `  release ${p.releaseId}`)),
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, h('th', {}, 'container'), h('th', {}, `${p.to.name} runs now`), h('th', {}), h('th', {}, `${from} runs (to release)`), h('th', {}, 'change'))), h('tbody', {}, rows)),
    p.upToDate ? h('p', { class: 'ok-text', id: 'plan-uptodate' }, `${p.to.name} already runs the same images as ${from}: nothing to release.`) : h('p', { id: 'plan-bytes' }, moving),
    p.warnings.length ? h('ul', { class: 'warnings' }, p.warnings.map((w) => h('li', {}, w))) : null,
    p.drift?.length ? h('div', { id: 'plan-drift' }, [h('p', {}, `${p.from?.name ?? 'TEST'} differs from ${p.to.name} in settings this release keeps as they are on ${p.to.name}:`), h('ul', { class: 'warnings' }, p.drift.map((d) => h('li', {}, `${d.container}: ${d.detail}`)))]) : null,
    p.steps.length
      ? h(
          'ol',
          { class: 'plan-steps', id: 'plan-steps' },
          p.steps.map((s) => h('li', {}, h('details', {}, h('summary', {}, h('strong', {}, s.name), ` on ${s.host}`, h('span', { class: 'muted' }, ` — ${s.cause}`)), h('pre', {}, s.lines.join('\n'))))),
        )
      : null,
    h('details', { class: 'plan-text' }, h('summary', {}, 'plan as text (releaseflow plan)'), h('pre', {}, p.text)),
  ];
}

async function release() {
  const p = plan;
  if (!p) return;
  // a fleet's plan lists each container once per host: once here
  const changing = p.containers.filter((c, i) => c.changes && p.containers.findIndex((x) => x.name === c.name && x.changes) === i);
  const F = (p.from?.name ?? config.from).toUpperCase();
  const T = p.to.name.toUpperCase();
  const fleet = (config.fleet ?? [config.to]).length > 1;
  const how = fleet
    ? `The images reach every host first; then a canary and batches, each host's containers swapped one at a time; a failure rolls back every host already released.`
    : `${T}'s containers are swapped one at a time; a failed health check rolls all of them back.`;
  const ok = await confirmDialog(
    `Release ${F} → ${T}?`,
    [
      h('p', {}, `From ${F} (${p.from?.address}) to ${T} (${p.to.address}):`),
      h('ul', {}, changing.map((c) => h('li', {}, h('strong', {}, c.name), `: ${c.toRef} → ${c.fromRef}`))),
      h('p', { class: 'muted' }, `${p.steps.length} steps. ${how}`),
    ],
    `Release to ${T}`,
  );
  if (!ok) return;
  await start('api/release', { expect: Object.fromEntries(p.containers.map((c) => [c.name, c.fromId])) });
}

async function rollbackClicked() {
  let last;
  try {
    last = (await api('api/history')).entries.find((e) => e.result === 'released');
  } catch (e) {
    fill(el.message, errorBox(e));
    return;
  }
  const targets = config.fleet ?? [config.to];
  const T = targets.join(', ').toUpperCase();
  const where = targets.length > 1 ? `on each host (the last first)` : `on ${T} (${config.hosts[config.to]})`;
  const body = last
    ? [h('p', {}, `Bring back ${where} what release ${last.releaseId} replaced:`), h('ul', {}, last.containers.map((c) => h('li', {}, h('strong', {}, c.name), `: ${c.toRef} → ${c.fromRef}`)))]
    : [h('p', {}, `No successful release is recorded on ${T}; the rollback will stop without changing anything.`)];
  if (await confirmDialog(`Roll back ${T}?`, body, `Roll back ${T}`)) await start('api/rollback', {});
}

async function start(path, body) {
  fill(el.message);
  try {
    await api(path, { method: 'POST', body });
  } catch (e) {
    fill(el.message, errorBox(e));
  }
}

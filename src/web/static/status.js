// The Status tab: every host side by side (the source, each target of a fleet: mode, containers or swarm services, image tags and IDs, health), refreshed.
import { actionButton, api, badge, errorBox, fill, fmtTime, h, shortId } from './ui.js';

const EVERY_MS = 10000;
let timer = null;
let root = null;
let stamp = null;

/** Shown: draw now, then refresh every 10 s while the tab is visible. */
export function showStatus() {
  if (!root) {
    root = h('div', { id: 'status-hosts', class: 'hosts' });
    stamp = h('span', { id: 'status-stamp', class: 'muted' });
    fill(document.getElementById('tab-status'), h('div', { class: 'toolbar' }, actionButton('Refresh', refresh, { id: 'status-refresh' }), stamp), root);
  }
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, EVERY_MS);
}

/** Hidden: stop refreshing. */
export function hideStatus() {
  clearInterval(timer);
  timer = null;
}

let inflight = null;
async function refresh() {
  if (inflight) return inflight;
  fill(stamp, 'refreshing…');
  inflight = api('api/status')
    .then((s) => {
      fill(root, s.hosts.map(hostCard));
      fill(stamp, `refreshed ${fmtTime(s.at)}, every ${EVERY_MS / 1000} s`);
    })
    .catch((e) => fill(root, errorBox(e)))
    .finally(() => {
      inflight = null;
    });
  return inflight;
}

function healthOf(host, c) {
  const check = host.healthChecks.find((x) => x.message.includes(`(${c.name})`));
  const docker = c.health && c.health !== 'none' ? badge(`docker: ${c.health}`, c.health === 'healthy' ? 'ok' : c.health === 'starting' ? 'info' : 'bad') : null;
  const url = check ? badge(check.status === 'PASS' ? 'URL ok' : 'URL failing', check.status === 'PASS' ? 'ok' : 'bad') : null;
  return h('td', { class: 'health', title: check?.message ?? '' }, docker, ' ', url, !docker && !url ? '-' : null);
}

function modeText(m) {
  if (!m) return '-';
  return m.mode === 'compose' ? `compose ${m.project}/${m.service}` : 'docker run';
}

function viewRow(v) {
  const bad = v.problems.length > 0;
  return h(
    'tr',
    { 'data-container': v.container, 'data-state': v.mode, 'data-view': v.what },
    h('td', {}, h('strong', {}, v.container), h('div', { class: 'muted small' }, `${v.mode} ${v.what}`)),
    h('td', { title: v.problems.map((p) => p.message).join('\n') }, badge(v.state, bad ? 'bad' : 'ok')),
    h('td', { class: 'image' }, h('div', { class: 'ref' }, v.imageRef?.startsWith('sha256:') ? shortId(v.imageRef) : (v.imageRef ?? '-')), h('div', { class: 'id' }, shortId(v.imageId))),
    h('td', { class: 'muted small' }, v.notes.join(' ')),
  );
}

function hostCard(f) {
  const head = h(
    'div',
    { class: 'card-head' },
    h('h2', {}, `${f.host.toUpperCase()} `, h('span', { class: 'muted' }, f.address)),
    badge(f.role === 'from' ? 'source' : 'target', 'info'),
    f.reachable ? badge(f.docker.version ? `docker ${f.docker.version}` : 'docker not usable', f.docker.version ? 'ok' : 'bad') : badge('unreachable', 'bad'),
  );
  const problem = f.problem ? errorBox(f.problem) : null;
  const rows = f.containers.map((c) => {
    // a name a release target stands for on this host (a swarm service), not a missing container
    const v = c.state === 'missing' ? f.views?.find((x) => x.container === c.name) : undefined;
    if (v) return viewRow(v);
    return h(
      'tr',
      { 'data-container': c.name, 'data-state': c.state },
      h('td', {}, h('strong', {}, c.name), h('div', { class: 'muted small' }, modeText(c.mode))),
      h('td', {}, badge(c.state, c.state === 'running' ? 'ok' : c.state === 'missing' ? 'bad' : 'warn')),
      h('td', { class: 'image' }, h('div', { class: 'ref' }, c.imageRef ?? '-'), h('div', { class: 'id' }, shortId(c.imageId)), c.created ? h('div', { class: 'id' }, `created ${fmtTime(c.created)}`) : null),
      healthOf(f, c),
    );
  });
  const table = f.reachable
    ? h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['container', 'state', 'image / ID', 'health'].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
    : null;
  const kept = f.kept?.length ? h('div', { class: 'kept' }, h('h3', {}, 'kept for rollback'), h('ul', {}, f.kept.map((k) => h('li', {}, `${k.name} — ${k.image} (${k.status})`)))) : null;
  return h('div', { class: 'card host', 'data-host': f.host }, head, problem, table, kept);
}

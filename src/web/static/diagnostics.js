// The Diagnostics tab: doctor's checks with their fixes, and a container's recent logs on demand.
import { actionButton, api, badge, errorBox, fill, h } from './ui.js';

let root = null;
let config = null;

/** Shown: build the tab once; doctor runs when asked (it takes a few seconds). */
export function showDiagnostics() {
  if (root) return;
  root = document.getElementById('tab-diagnostics');
  const report = h('div', { id: 'doctor-report' }, h('p', { class: 'muted' }, 'Run the checks: ssh, docker, containers, networks, disk, health URLs.'));
  const logs = h('pre', { id: 'container-logs', class: 'log', hidden: true });
  const hostSel = h('select', { id: 'logs-host' });
  const ctrSel = h('select', { id: 'logs-container' });
  const logsMsg = h('div');
  fill(
    root,
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Doctor'), actionButton('Run doctor', () => runDoctor(report), { id: 'doctor-run', class: 'primary' })), report),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Container logs'), hostSel, ctrSel, actionButton('Show last 200 lines', () => showLogs(hostSel.value, ctrSel.value, logs, logsMsg), { id: 'logs-show' })),
      logsMsg,
      logs,
    ),
  );
  api('api/run').then((r) => {
    config = r.config;
    fill(hostSel, [config.to, config.from].map((n) => h('option', { value: n }, n)));
    fill(ctrSel, config.containers.map((n) => h('option', { value: n }, n)));
  });
}

async function runDoctor(out) {
  fill(out, h('p', { class: 'muted' }, 'checking…'));
  try {
    const r = await api('api/doctor');
    const n = (s) => r.checks.filter((c) => c.status === s).length;
    const groups = r.hosts.map((hst) =>
      h(
        'div',
        { class: 'doctor-host', 'data-host': hst.host },
        h('h3', {}, `${hst.host} (${hst.address})`),
        h(
          'ul',
          { class: 'checks' },
          r.checks
            .filter((c) => c.host === hst.host)
            .map((c) => h('li', { class: `check ${c.status}`, 'data-status': c.status }, badge(c.status, { PASS: 'ok', FAIL: 'bad', WARN: 'warn', INFO: 'info' }[c.status]), ' ', c.message, c.fix && c.status !== 'PASS' ? h('div', { class: 'fix' }, h('strong', {}, 'fix: '), c.fix) : null)),
        ),
      ),
    );
    const failing = r.failing.map((x) =>
      h('details', { class: 'failing', open: true }, h('summary', {}, `${x.container} on ${x.host}: ${x.reason}`), x.logs !== undefined ? h('pre', { class: 'log' }, x.logs || '(no output)') : null, x.ps ? h('pre', { class: 'log' }, x.ps) : null),
    );
    fill(out, h('p', { id: 'doctor-summary', class: r.ok ? 'ok-text' : 'bad-text' }, `${n('PASS')} passed, ${n('FAIL')} failed, ${n('WARN')} warnings: ${r.ok ? 'OK' : 'NOT OK'}`), groups, failing);
  } catch (e) {
    fill(out, errorBox(e));
  }
}

async function showLogs(host, container, pre, msg) {
  fill(msg);
  try {
    const r = await api(`api/logs?host=${encodeURIComponent(host)}&container=${encodeURIComponent(container)}`);
    fill(msg, h('p', { class: 'muted' }, `$ ${r.command}   (on ${r.host})`));
    pre.hidden = false;
    pre.textContent = r.text || '(no output)';
    pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    pre.hidden = true;
    fill(msg, errorBox(e));
  }
}

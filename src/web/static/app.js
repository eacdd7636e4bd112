// The dashboard page: tabs, the live event stream shared by the tabs, and start-up.
import { showDiagnostics } from './diagnostics.js';
import { showHistory } from './history.js';
import { initRelease, onRunEvent, onRunState, showRelease } from './release.js';
import { hideStatus, showStatus } from './status.js';
import { api, fill, TOKEN } from './ui.js';

const TABS = { release: showRelease, status: showStatus, diagnostics: showDiagnostics, history: showHistory };
let current = '';

/** Switch to a tab (also from the URL hash, so a tab can be linked and reloaded). */
function selectTab(name) {
  if (!(name in TABS)) name = 'release';
  if (name === current) return;
  if (current === 'status') hideStatus();
  current = name;
  for (const b of document.querySelectorAll('.tabs [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== `tab-${name}`;
  if (location.hash !== `#${name}`) history.replaceState(null, '', `${location.pathname}${location.search}#${name}`);
  TABS[name]();
}

/** The event stream: run state and events; EventSource resumes after Last-Event-ID on reconnect. */
function connect() {
  const conn = document.getElementById('conn');
  const es = new EventSource(`api/events?token=${encodeURIComponent(TOKEN)}`);
  es.addEventListener('open', () => {
    conn.textContent = 'live';
    conn.className = 'conn live';
  });
  es.addEventListener('error', () => {
    conn.textContent = 'reconnecting…';
    conn.className = 'conn down';
  });
  es.addEventListener('state', (m) => onRunState(JSON.parse(m.data)));
  es.addEventListener('release', (m) => {
    const { run, event, lines } = JSON.parse(m.data);
    onRunEvent(run, event, lines);
  });
}

async function start() {
  const info = await api('api/run');
  const c = info.config;
  fill(document.getElementById('app-info'), `app ${c.app}: ${c.from.toUpperCase()} ${c.hosts[c.from]} → ${c.to.toUpperCase()} ${c.hosts[c.to]}`);
  initRelease(c);
  for (const b of document.querySelectorAll('.tabs [role=tab]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  window.addEventListener('hashchange', () => selectTab(location.hash.slice(1)));
  connect();
  selectTab(location.hash.slice(1));
}

start().catch((e) => {
  fill(document.querySelector('main'), `The dashboard could not start: ${e.message}${e.fix ? ` (fix: ${e.fix})` : ''}`);
});

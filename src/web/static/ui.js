// Shared page helpers: the token, API calls, a DOM builder (text only, never HTML) and formatting.

/** The token from the page URL; every request carries it. */
export const TOKEN = new URLSearchParams(location.search).get('token') ?? '';

/** Build an element: attributes (on* are listeners), then children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** An API error with the server's message and fix. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.fix = body?.error?.fix;
    this.output = body?.error?.output;
  }
}

/** Call the API with the token; JSON in and out; throws ApiError. */
export async function api(path, opts = {}) {
  const sep = path.includes('?') ? '&' : '?';
  const init = { method: opts.method ?? 'GET', headers: {} };
  if (opts.body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${path}${sep}token=${encodeURIComponent(TOKEN)}`, init);
  const body = await res.json().catch(() => ({ error: { message: `HTTP ${res.status} without a JSON body` } }));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** An error box: what failed and the fix. */
export function errorBox(e) {
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', {}, 'error: '),
    e?.message ?? String(e),
    e?.output ? h('pre', {}, e.output) : null,
    e?.fix ? h('div', { class: 'fix' }, h('strong', {}, 'fix: '), e.fix) : null,
  );
}

/** Human byte counts, as the log file writes them. */
export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Durations: 850ms, 12.3s, 2m05s. */
export function fmtMs(ms) {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Short image ID, as docker images shows it. */
export const shortId = (id) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : '-');

/** Local time of an ISO timestamp. */
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '-');

/** The tag of an image reference (ragflowauth-backend:v2 → v2). */
export const tagOf = (ref) => (ref && /:[^/]+$/.test(ref) ? ref.slice(ref.lastIndexOf(':') + 1) : (ref ?? '?'));

/** A small coloured label: ok, bad, warn, info. */
export const badge = (text, kind) => h('span', { class: `badge ${kind}` }, text);

/** A button that shows "…" while its async action runs. */
export function actionButton(label, action, attrs = {}) {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    b.classList.add('busy');
    try {
      await action();
    } finally {
      b.disabled = false;
      b.classList.remove('busy');
    }
  });
  return b;
}

/** Ask in a modal dialog; resolves true when the operator presses the OK button. */
export function confirmDialog(title, body, okLabel) {
  const ok = h('button', { type: 'button', class: 'primary', value: 'ok', id: 'confirm-ok' }, okLabel);
  const cancel = h('button', { type: 'button', value: 'cancel', id: 'confirm-cancel' }, 'Cancel');
  const dlg = h('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title' }, h('h2', { id: 'confirm-title' }, title), h('div', { class: 'confirm-body' }, body), h('div', { class: 'buttons' }, cancel, ok));
  document.body.append(dlg);
  return new Promise((resolve) => {
    const done = (answer) => {
      dlg.close();
      dlg.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', () => done(false));
    dlg.showModal();
    cancel.focus();
  });
}

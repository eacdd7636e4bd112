// The dashboard server: node:http, a token on every request, static page files, JSON API and the event stream.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.ts';
import { HostPool } from './host-pool.ts';
import { containerLogsAnswer, doctorAnswer, historyAnswer, planAnswer, releaseLogAnswer, statusAnswer } from './api.ts';
import { errorBody, foreignHeader, HttpError, readJson, requestToken, SAFE_HEADERS, sendJson, sendText, tokenMatches } from './http.ts';
import { type Expected, ReleaseRunner } from './runner.ts';
import { serveEvents } from './sse.ts';

// a file path, not the URL's pathname: an install path with a space (%20 in the URL) must still resolve
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const STATIC_FILES = new Set(['app.js', 'release.js', 'status.js', 'diagnostics.js', 'history.js', 'run.js', 'ui.js', 'style.css']);

export interface DashboardOptions {
  config: Config;
  port: number;
  bind: string;
  /** Fixed token (tests); a random one by default. */
  token?: string;
}

/** A running dashboard: its URL with the token, its runner, and how to stop it. */
export interface Dashboard {
  url: string;
  token: string;
  server: Server;
  runner: ReleaseRunner;
  close: () => Promise<void>;
}

function serveStatic(res: ServerResponse, name: string, token: string): void {
  const text = readFileSync(join(STATIC_DIR, name), 'utf8');
  // the token goes into the page's asset paths: every request, scripts included, carries it
  const body = name === 'index.html' ? text.replaceAll('{{TOKEN}}', encodeURIComponent(token)) : text;
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': TYPES[extname(name)] ?? 'application/octet-stream' });
  res.end(body);
}

type Handler = (req: IncomingMessage, url: URL) => Promise<{ status?: number; body: unknown }>;

function routes(config: Config, runner: ReleaseRunner, pool: HostPool): Record<string, Handler> {
  return {
    'GET /api/plan': async () => ({ body: await planAnswer(config, pool) }),
    'GET /api/status': async () => ({ body: await statusAnswer(config, pool) }),
    'GET /api/doctor': async () => ({ body: await doctorAnswer(config, pool) }),
    'GET /api/history': async () => ({ body: await historyAnswer(config, pool) }),
    'GET /api/history/log': async (_req, url) => ({ body: await releaseLogAnswer(config, pool, url.searchParams.get('releaseId')) }),
    'GET /api/logs': async (_req, url) => ({ body: await containerLogsAnswer(config, pool, url.searchParams.get('host'), url.searchParams.get('container')) }),
    'GET /api/run': async () => ({ body: { state: runner.state() ?? null, config: { app: config.app, from: config.from, to: config.to, fleet: config.fleet, hosts: Object.fromEntries(Object.entries(config.hosts).map(([k, h]) => [k, h.address])), containers: config.containers.map((c) => c.name), logFile: config.logFile } } }),
    'POST /api/release': async (req) => {
      const body = await readJson(req);
      const expected = body.expect && typeof body.expect === 'object' ? (body.expect as Expected) : undefined;
      return { status: 202, body: { state: runner.startPromote(expected) } };
    },
    'POST /api/rollback': async (req) => {
      await readJson(req);
      return { status: 202, body: { state: runner.startRollback() } };
    },
  };
}

/** Start the dashboard; resolves once it listens. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const runner = new ReleaseRunner(opts.config);
  const pool = new HostPool(opts.config);
  const table = routes(opts.config, runner, pool);
  const server = createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(e));
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding and cross-site requests: only the addresses this dashboard serves, before anything else
    const foreign = foreignHeader(req.headers.host, req.headers.origin, opts.bind);
    if (foreign) {
      sendText(res, 403, `forbidden: the ${foreign} header does not name this dashboard; open the URL that \`releaseflow ui\` printed (…/?token=…)`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (!tokenMatches(requestToken(url), token)) {
      sendText(res, 403, 'forbidden: this dashboard needs the token from the URL that `releaseflow ui` printed (…/?token=…)');
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) return serveStatic(res, 'index.html', token);
    const asset = /^\/s\/[^/]+\/([a-z-]+\.(?:js|css))$/.exec(path)?.[1];
    if (req.method === 'GET' && asset && STATIC_FILES.has(asset)) return serveStatic(res, asset, token);
    if (req.method === 'GET' && path === '/api/events') {
      serveEvents(req, res, runner, (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('lastEventId'));
      return;
    }
    const route = table[`${req.method} ${path}`];
    if (!route) {
      sendJson(res, 404, { error: { message: `no such page or API: ${req.method} ${path}`, fix: 'open the URL that releaseflow ui printed' } });
      return;
    }
    if (req.method === 'POST' && !/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      sendJson(res, 415, { error: { message: 'POST requests must send Content-Type: application/json', fix: 'use the buttons on the page' } });
      return;
    }
    try {
      const r = await route(req, url);
      sendJson(res, r.status ?? 200, r.body);
    } catch (e) {
      if (e instanceof HttpError) sendJson(res, e.status, { error: { message: e.message, fix: e.fix } });
      else sendJson(res, 500, errorBody(e));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.bind === '0.0.0.0' || opts.bind === '::' ? '127.0.0.1' : opts.bind.includes(':') ? `[${opts.bind}]` : opts.bind;
  return {
    url: `http://${host}:${port}/?token=${token}`,
    token,
    server,
    runner,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

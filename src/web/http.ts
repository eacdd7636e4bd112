// Small HTTP helpers for the dashboard: the token guard, JSON in and out, and safe response headers.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ReleaseflowError } from '../core/errors.ts';

/** Headers on every response: nothing cached, no framing, no referrer (the URL carries the token). */
export const SAFE_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** Constant-time comparison of the request's token with the server's. */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request carries: `?token=` or the `/s/<token>/` prefix of static files (a malformed `%` carries none). */
export function requestToken(url: URL): string | null {
  const q = url.searchParams.get('token');
  if (q) return q;
  const m = /^\/s\/([^/]+)\//.exec(url.pathname);
  try {
    return m ? decodeURIComponent(m[1]!) : null;
  } catch {
    return null;
  }
}

const isLoopbackName = (h: string) => h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));

/**
 * Is `hostname` (from a Host or Origin header) one this dashboard serves? A loopback address or `localhost`
 * (any port: an `ssh -L` tunnel may use another one), or the address it was bound to; with a wildcard bind,
 * any IP literal. Never another DNS name: a page on evil.example that rebinds its name to 127.0.0.1 sends
 * `Host: evil.example` and is refused.
 */
export function servedHostname(hostname: string, bind: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isLoopbackName(h)) return true;
  if (bind === '0.0.0.0' || bind === '::') return isIP(h) !== 0;
  return h === bind.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Why a request's Host or Origin header is refused (403), or undefined when both name this dashboard. */
export function foreignHeader(host: string | undefined, origin: string | undefined, bind: string): string | undefined {
  const name = (v: string, scheme: string) => {
    try {
      const u = new URL(scheme ? v : `http://${v}`);
      return u.protocol === 'http:' && !u.username && !u.password && u.pathname === '/' ? u.hostname : undefined;
    } catch {
      return undefined;
    }
  };
  const h = host === undefined ? undefined : name(host, '');
  if (h === undefined || !servedHostname(h, bind)) return 'Host';
  if (origin !== undefined) {
    const o = name(origin, 'http');
    if (o === undefined || !servedHostname(o, bind)) return 'Origin';
  }
  return undefined;
}

/** Send a JSON body with a status code. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Send a plain-text error with what to do. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

/** The JSON shape of an error for the page: message, where, output tail, and the fix. */
export function errorBody(e: unknown): { error: { message: string; fix?: string; host?: string; output?: string } } {
  if (e instanceof ReleaseflowError) return { error: { message: e.message, fix: e.detail.fix, host: e.detail.host, output: e.detail.output } };
  const err = e instanceof Error ? e : new Error(String(e));
  return { error: { message: `internal error: ${err.message}`, fix: 'This is a bug in releaseflow; please report it with the terminal output of releaseflow ui.' } };
}

/** An error answered with a status code and a fix (bad request, conflict). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** Read a small JSON request body (at most 64 KiB); an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 65_536) throw new HttpError(413, 'request body too large', 'send at most 64 KiB of JSON');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new HttpError(400, 'request body is not a JSON object', 'send Content-Type: application/json with an object body');
}

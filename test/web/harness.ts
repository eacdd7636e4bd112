// Test harness for the dashboard: the `releaseflow ui` child process, headless Debian chromium, screenshots.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Browser, chromium, type Page } from 'playwright-core';

const REPO = new URL('../..', import.meta.url).pathname;
export const SCREENSHOTS = join(REPO, 'docs/screenshots');

/** A running `releaseflow ui`: its URL (first stdout line), base, token and everything it printed. */
export interface UiServer {
  url: string;
  base: string;
  token: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawn `node bin/releaseflow.js ui --port 0` with the given config; resolves with the printed URL. */
export async function startUi(config: string, args: string[] = []): Promise<UiServer> {
  const proc = spawn(process.execPath, [join(REPO, 'bin/releaseflow.js'), 'ui', '--port', '0', ...args], {
    env: { ...process.env, RELEASEFLOW_CONFIG: config },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // keep reading: a full pipe would block the server's terminal log writes
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`releaseflow ui printed no URL within 30 s:\n${out}`)), 30_000);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolve(l.trim());
    });
    proc.once('exit', (code) => reject(new Error(`releaseflow ui exited with ${code} before printing its URL:\n${out}`)));
  });
  lines.on('line', (l) => {
    out += `${l}\n`;
  });
  const u = new URL(url);
  return {
    url,
    base: u.origin,
    token: u.searchParams.get('token') ?? '',
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Headless Debian chromium through playwright-core, with no network chatter of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Save a full-page screenshot as docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Read SSE frames from the event stream until `count` frames with an id arrived (or the timeout). */
export async function readEventIds(url: string, headers: Record<string, string>, count: number, timeoutMs = 5000): Promise<string[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const ids: string[] = [];
  try {
    const res = await fetch(url, { headers, signal: ac.signal });
    const reader = res.body!.getReader();
    let buf = '';
    while (ids.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString('utf8');
      for (const m of buf.matchAll(/^id: (.+)$/gm)) if (!ids.includes(m[1]!)) ids.push(m[1]!);
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return ids.slice(0, count);
}

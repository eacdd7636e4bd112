// A release's facts as hooks and notifications receive them: the webhook JSON and the environment (pure).
import { shQuote } from './quote.ts';

export interface ContainerFact {
  name: string;
  /** The image PROD ran before. */
  oldImage: string;
  /** The image the release brings. */
  newImage: string;
}

export interface ReleaseFacts {
  kind: 'promote' | 'rollback';
  app: string;
  releaseId: string;
  from?: string;
  to: string;
  containers: ContainerFact[];
  /** Unset while a release is still running (the pre and post hooks). */
  result?: string;
  exitCode?: number;
  durationMs?: number;
  failedStep?: string;
  error?: string;
}

export interface NotifyPayload {
  result: string;
  exitCode: number;
  kind: string;
  releaseId: string;
  app: string;
  from?: string;
  to: string;
  containers: ContainerFact[];
  durationMs: number;
  failedStep?: string;
  error?: string;
  /** Slack (and Mattermost, Rocket.Chat…) show this field as the message. */
  text: string;
}

const ICON: Record<string, string> = { released: ':white_check_mark:', 'up-to-date': ':white_check_mark:', 'rolled-back': ':warning:' };

/** The JSON a webhook receives. */
export function notifyPayload(f: ReleaseFacts): NotifyPayload {
  const result = f.result ?? 'failed';
  const durationMs = f.durationMs ?? 0;
  const images = f.containers.map((c) => `${c.name} ${c.oldImage} -> ${c.newImage}`).join(', ');
  const head = `${ICON[result] ?? ':x:'} releaseflow ${f.kind} ${f.app} ${f.from ? `${f.from} -> ` : ''}${f.to}: ${result} (exit ${f.exitCode ?? 1}, ${(durationMs / 1000).toFixed(1)}s)`;
  const lines = [head, `release ${f.releaseId || '-'}`];
  if (images) lines.push(images);
  if (f.failedStep || f.error) lines.push(`failed at ${f.failedStep ?? '-'}: ${firstLine(f.error ?? '')}`);
  return {
    result,
    exitCode: f.exitCode ?? 1,
    kind: f.kind,
    releaseId: f.releaseId,
    app: f.app,
    from: f.from,
    to: f.to,
    containers: f.containers,
    durationMs,
    failedStep: f.failedStep,
    error: f.error,
    text: lines.join('\n'),
  };
}

function firstLine(s: string): string {
  const l = s.split('\n')[0] ?? '';
  return l.length > 300 ? `${l.slice(0, 300)}…` : l;
}

/** A container name as part of an env name: upper case, anything but letters and digits as _. */
export function envKey(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The environment a hook or the notify command gets; `hook` names the hook that runs. */
export function releaseEnv(f: ReleaseFacts, hook?: string): Record<string, string> {
  const env: Record<string, string> = {
    RELEASEFLOW_KIND: f.kind,
    RELEASEFLOW_APP: f.app,
    RELEASEFLOW_RELEASE_ID: f.releaseId,
    RELEASEFLOW_FROM: f.from ?? '',
    RELEASEFLOW_TO: f.to,
    RELEASEFLOW_CONTAINERS: f.containers.map((c) => c.name).join(' '),
    RELEASEFLOW_IMAGES: f.containers.map((c) => `${c.name} ${c.oldImage} -> ${c.newImage}`).join('\n'),
  };
  if (hook) env.RELEASEFLOW_HOOK = hook;
  for (const c of f.containers) {
    env[`RELEASEFLOW_OLD_IMAGE_${envKey(c.name)}`] = c.oldImage;
    env[`RELEASEFLOW_NEW_IMAGE_${envKey(c.name)}`] = c.newImage;
  }
  if (f.result !== undefined) env.RELEASEFLOW_RESULT = f.result;
  if (f.exitCode !== undefined) env.RELEASEFLOW_EXIT_CODE = String(f.exitCode);
  if (f.durationMs !== undefined) env.RELEASEFLOW_DURATION_MS = String(f.durationMs);
  if (f.failedStep) env.RELEASEFLOW_FAILED_STEP = f.failedStep;
  if (f.error) env.RELEASEFLOW_ERROR = f.error;
  return env;
}

/** A hook's script on a host: the release's variables exported, then the operator's command (their own text from the config). */
export function buildHookScript(env: Record<string, string>, command: string): string {
  return `${exportLines(env)}\n${command}`;
}

/** `export NAME='value'` lines for the top of a script run on a host; every value quoted (shQuote). */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([k]) => /^[A-Z_][A-Z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${shQuote(v.replace(/\0/g, ''))}`)
    .join('\n');
}

/** Every string of the facts passed through `redact` (secrets masked before they leave this machine). */
export function redactFacts(f: ReleaseFacts, redact: (s: string) => string): ReleaseFacts {
  const r = (s: string | undefined) => (s === undefined ? undefined : redact(s));
  return {
    ...f,
    releaseId: redact(f.releaseId),
    containers: f.containers.map((c) => ({ name: c.name, oldImage: redact(c.oldImage), newImage: redact(c.newImage) })),
    failedStep: r(f.failedStep),
    error: r(f.error),
  };
}

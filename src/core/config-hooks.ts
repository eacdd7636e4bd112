// The `hooks:` and `notify:` config blocks: commands around a release and where its outcome is sent.
import { z } from 'zod';
import { parseDuration } from './human.ts';
import { ConfigError } from './errors.ts';

const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: 'expected a duration such as 60s, 2m or 500ms' })
  .transform((v) => parseDuration(v) as number)
  .refine((ms) => ms >= 1000, { message: 'expected at least 1s' });
// the operator's own text, run by sh: one non-empty string without NUL (it cannot pass through argv)
const command = z
  .string()
  .min(1, 'expected a shell command')
  .refine((v) => !v.includes('\0'), { message: 'expected a command without NUL bytes' });
const webhookUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^\s'"`\\]+$/.test(v), { message: 'expected an http:// or https:// URL without spaces or quotes' });

const hookSchema = z.union([
  command,
  z.strictObject({
    command,
    /** `local` (the operator's machine, the default) or a host name under hosts: (`prod`). */
    on: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, 'expected local or a host name').default('local'),
    timeout: duration.optional(),
  }),
]);

/** `migrate`: a one-off container of the new image on the target, before any swap. */
const migrateSchema = z.union([
  command,
  z.strictObject({
    command,
    /** Whose env, networks and mounts it runs with (default: the first of containers:). */
    container: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a container name').optional(),
  }),
]);

export const hooksSchema = z.strictObject({
  timeout: duration.default(300_000),
  pre: hookSchema.optional(),
  post: hookSchema.optional(),
  rollback: hookSchema.optional(),
  migrate: migrateSchema.optional(),
});

export const notifySchema = z
  .strictObject({
    webhook: z.union([webhookUrl, z.array(webhookUrl)]).optional(),
    command: command.optional(),
    timeout: duration.default(10_000),
  })
  .refine((n) => n.webhook !== undefined || n.command !== undefined, { message: 'set webhook: (one URL or a list) and/or command:' });

export type HookName = 'pre' | 'post' | 'rollback';

export interface HookConfig {
  command: string;
  /** `local` or a configured host's name. */
  on: string;
  timeoutMs: number;
}

/** The migrate hook: its command, run by the image's `sh` in a one-off container of the new image. */
export interface MigrateConfig {
  command: string;
  container?: string;
}

export type HooksConfig = Partial<Record<HookName, HookConfig>> & { migrate?: MigrateConfig };

export interface NotifyConfig {
  webhooks: string[];
  command?: string;
  timeoutMs: number;
}

/** The hooks with defaults filled in; a hook `on:` a host that is not configured is a config error. */
export function normaliseHooks(raw: z.infer<typeof hooksSchema> | undefined, hosts: readonly string[], file: string): HooksConfig {
  const out: HooksConfig = {};
  if (!raw) return out;
  for (const name of ['pre', 'post', 'rollback'] as const) {
    const h = raw[name];
    if (h === undefined) continue;
    const hook = typeof h === 'string' ? { command: h, on: 'local', timeoutMs: raw.timeout } : { command: h.command, on: h.on, timeoutMs: h.timeout ?? raw.timeout };
    if (hook.on !== 'local' && !hosts.includes(hook.on)) {
      throw new ConfigError(`${file}: hooks.${name}.on: names host '${hook.on}', which is not under hosts (known: ${hosts.join(', ') || 'none'})`, {
        fix: `set hooks.${name}.on: to local (this machine) or a host name listed under hosts:`,
      });
    }
    out[name] = hook;
  }
  if (raw.migrate !== undefined) out.migrate = typeof raw.migrate === 'string' ? { command: raw.migrate } : { command: raw.migrate.command, container: raw.migrate.container };
  return out;
}

export function normaliseNotify(raw: z.infer<typeof notifySchema> | undefined): NotifyConfig | undefined {
  if (!raw) return undefined;
  const webhooks = raw.webhook === undefined ? [] : Array.isArray(raw.webhook) ? raw.webhook : [raw.webhook];
  return { webhooks, command: raw.command, timeoutMs: raw.timeout };
}

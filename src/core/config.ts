// The YAML configuration: schema, defaults, and errors that name the key path and the fix.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './human.ts';
import { readConfigText, shortKey, shortText } from './config-file.ts';
import { ConfigError } from './errors.ts';
import { hostKeyOptOut } from './host-keys.ts';
import { crossChecks } from './config-checks.ts';
import { type CreateConfig, createKey, normaliseCreate } from './config-create.ts';
import { type HooksConfig, hooksSchema, type NotifyConfig, normaliseHooks, normaliseNotify, notifySchema } from './config-hooks.ts';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: 'expected a duration such as 60s, 2m or 500ms' })
  .transform((v) => parseDuration(v) as number);
/** A timeout: a duration of at least `minMs` (0 would mean "wait forever"). */
const timeout = (minMs: number) => duration.refine((ms) => ms >= minMs, { message: `expected at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`}` });
const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^\s'"`$\\]+$/.test(v), { message: 'expected an http:// or https:// URL without spaces or quotes' });
const sshOptionValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !/[\x00-\x1f\x7f]/.test(v), { message: 'expected a value on one line, without control characters' });

const hostSchema = z.strictObject({
  address: z
    .string()
    .min(1)
    .refine((v) => /^[A-Za-z0-9_.:%[\]-]+$/.test(v) && !v.startsWith('-'), {
      message: 'expected an IP, DNS name or ~/.ssh/config alias (letters, digits, . - _ : only)',
    }),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'expected a user name').optional(),
  port: z.number().int().min(1).max(65535).optional(),
  identityFile: z.string().min(1).optional(),
  sshOptions: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'expected an ssh_config keyword'), sshOptionValue).optional(),
  sudo: z.boolean().default(false),
  stateDir: z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]+$/, 'expected an absolute path')
    .refine((v) => !v.split('/').includes('..'), { message: 'expected an absolute path without ..' })
    .default('/var/lib/releaseflow'),
  /** The one way to switch host key checking off for a host; logged as a warning on every run. */
  insecureIgnoreHostKeys: z.boolean().default(false),
  /** This host's health URL of a container, by container name (a fleet host whose app answers elsewhere). */
  health: z.record(z.string(), httpUrl).optional(),
});

const healthSchema = z.strictObject({
  url: httpUrl.optional(),
  timeout: timeout(1000).default(60_000),
  interval: timeout(100).default(1000),
});

const containerSchema = z.union([
  z.string().regex(NAME, 'expected a container name (letters, digits, _ . -)'),
  z.strictObject({
    name: z.string().regex(NAME, 'expected a container name (letters, digits, _ . -)'),
    health: z.strictObject({ url: httpUrl.optional(), timeout: timeout(1000).optional() }).optional(),
    /** Bootstrap: promote may create it on a target that lacks it, from the source's inspect (config-create.ts). */
    create: createKey,
    /** The swarm service that runs this container on the target (a manager), when it is not named after it: e.g. a stack's `app_backend`. */
    service: z.string().regex(NAME, 'expected a swarm service name (letters, digits, _ . -)').optional(),
  }),
]);

/** A swarm service on the target manager (issue 14's `services:`): sugar for a `containers:` entry with `service:`. */
const serviceSchema = z.union([
  z.string().regex(NAME, 'expected a swarm service name (letters, digits, _ . -)'),
  z.strictObject({
    name: z.string().regex(NAME, 'expected a swarm service name (letters, digits, _ . -)'),
    /** TEST's container whose image the service gets; default: the service's name. */
    container: z.string().regex(NAME, 'expected a container name (letters, digits, _ . -)').optional(),
    health: z.strictObject({ url: httpUrl.optional(), timeout: timeout(1000).optional() }).optional(),
  }),
]);

export const configSchema = z
  .strictObject({
    app: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a lower-case name (it names the state folder on hosts)'),
    hosts: z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, 'expected a host name'), hostSchema),
    from: z.string().default('test'),
    /** The target host, or several (a fleet, released by rollout:). */
    to: z.union([z.string(), z.array(z.string()).min(1, 'list at least one host')]).default('prod'),
    /** How a release goes over several target hosts: a canary first, then batches, with a pause between. */
    rollout: z
      .strictObject({
        canary: z.number().int().min(0).default(1),
        batch: z.union([z.number().int().min(1), z.string().regex(/^([1-9][0-9]?|100)%$/, 'expected a number of hosts or a percentage such as 25%')]).default(1),
        pause: duration.default(0),
      })
      .default({ canary: 1, batch: 1, pause: 0 }),
    containers: z.array(containerSchema).default([]),
    /** Swarm services to release on the target manager, each from TEST's container of its name (or `container:`). */
    services: z.array(serviceSchema).default([]),
    health: healthSchema.default({ timeout: 60_000, interval: 1000 }),
    log: z.strictObject({ file: z.string().min(1).default('releaseflow.log') }).default({ file: 'releaseflow.log' }),
    secrets: z.array(z.string().min(1)).default([]),
    keepReleases: z.number().int().min(1).max(50).default(3),
    /** Settings every release takes from the source (as promote --carry): `env:NAME`. */
    carry: z.array(z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'expected env:NAME')).default([]),
    /** Commands around a release and where its outcome is sent (config-hooks.ts). */
    hooks: hooksSchema.optional(),
    notify: notifySchema.optional(),
    transfer: z
      .strictObject({
        /** The target pulls images from the source over its own SSH (promote --direct). */
        direct: z.boolean().default(false),
        /** A rollout's hosts that lack the same layers share one read of the source; with direct, they pass each image on to each other (promote --relay). */
        relay: z.boolean().default(false),
        /** How the target reaches the source; unset fields come from the source host's entry. */
        directSsh: z
          .strictObject({
            address: hostSchema.shape.address.optional(),
            port: z.number().int().min(1).max(65535).optional(),
            user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'expected a user name').optional(),
            identityFile: z
              .string()
              .regex(/^\/[A-Za-z0-9_./-]+$/, 'expected an absolute path on the target host (letters, digits, _ . / - only)')
              .optional(),
          })
          .default({}),
      })
      .default({ direct: false, relay: false, directSsh: {} }),
    ssh: z
      .strictObject({
        connectTimeout: timeout(1000).default(10_000),
        commandTimeout: timeout(1000).default(300_000),
        controlMaster: z.boolean().default(process.platform !== 'win32'),
        /** PROD's crash guard restores the previous containers when it hears nothing from releaseflow this long. */
        heartbeatTimeout: timeout(2000).default(60_000),
      })
      .default({ connectTimeout: 10_000, commandTimeout: 300_000, controlMaster: process.platform !== 'win32', heartbeatTimeout: 60_000 }),
  })
  .superRefine(crossChecks);

export type RawConfig = z.infer<typeof configSchema>;
export type HostConfig = RawConfig['hosts'][string] & { name: string };

export interface ContainerConfig {
  name: string;
  healthUrl?: string;
  healthTimeoutMs: number;
  /** `create: true` or `create: { auto: true, … }`: promote creates it on a target that lacks it, without --create. */
  createAllowed?: boolean;
  /** What a bootstrap sets on the target instead of the source's values (`create: { … }`; per host: overridesFor). */
  create?: CreateConfig;
  /** The swarm service that runs it on the target (docs/swarm.md). */
  service?: string;
}

/** The health URL of a container on a host: the host's own (`hosts.<host>.health`), else the container's, else the global one. */
export function healthUrlOn(config: Pick<Config, 'hosts' | 'containers'>, container: string, host: string): string | undefined {
  const own = config.hosts[host]?.health;
  return (own && Object.hasOwn(own, container) ? own[container] : undefined) ?? config.containers.find((c) => c.name === container)?.healthUrl;
}

/** The validated configuration with paths resolved and containers normalised. */
export interface Config {
  file: string;
  app: string;
  hosts: Record<string, HostConfig>;
  from: string;
  /** The target host; with several (a fleet), the first of them. */
  to: string;
  /** Every target host, in rollout order (one for a single target). */
  fleet: string[];
  rollout: { canary: number; batch: number | string; pauseMs: number };
  containers: ContainerConfig[];
  health: { url?: string; timeoutMs: number; intervalMs: number };
  logFile: string;
  secrets: string[];
  keepReleases: number;
  carry: string[];
  hooks: HooksConfig;
  notify?: NotifyConfig;
  transfer: { direct: boolean; relay: boolean; directSsh: { address?: string; port?: number; user?: string; identityFile?: string } };
  ssh: { connectTimeoutMs: number; commandTimeoutMs: number; controlMaster: boolean; heartbeatTimeoutMs?: number };
}

const FIXES: Record<string, string> = {
  app: 'set app: to a short lower-case name, e.g. app: ragflowauth',
  carry: 'list env vars to take from the source, e.g. carry: [env:FEATURE_X]',
  hosts: 'list each server under hosts: with at least an address:',
  containers: 'list the app containers, e.g. containers: [ragflowauth-backend]',
  services: 'list swarm services, e.g. services: [ragflowauth-backend] or services: [{ name: app_backend, container: ragflowauth-backend }]',
  from: 'set from: to a host name listed under hosts:',
  to: 'set to: to a host name listed under hosts:, or a list of them (a fleet)',
  rollout: 'e.g. rollout: { canary: 1, batch: 25%, pause: 30s }',
};

/** Find the config file: --config, then RELEASEFLOW_CONFIG, then ./releaseflow.yml. */
export function locateConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const chosen = flag ?? env.RELEASEFLOW_CONFIG ?? resolve(cwd, 'releaseflow.yml');
  const source = flag ? '--config' : env.RELEASEFLOW_CONFIG ? 'RELEASEFLOW_CONFIG' : 'the default location';
  const file = resolve(cwd, chosen);
  if (!existsSync(file)) {
    throw new ConfigError(`config file ${file} (from ${source}) does not exist`, {
      fix: 'pass --config FILE, set RELEASEFLOW_CONFIG, or create ./releaseflow.yml (see the README, "Configuration")',
    });
  }
  return file;
}

/** Read, parse and validate a config file (a regular file of at most 1 MiB). */
export function loadConfig(file: string): Config {
  return parseConfig(readConfigText(file), file);
}

/** YAML text to plain data; every failure (syntax, alias bomb, too deep) is a config error naming the file. */
function parseYaml(text: string, file: string): unknown {
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = e.linePos?.[0];
      throw new ConfigError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: YAML syntax error: ${e.message.split('\n')[0]}`, {
        fix: 'fix the YAML syntax at that line (indentation with spaces, a colon after each key)',
      });
    }
    // a config needs no aliases to speak of: a few are fine, a "billion laughs" is refused
    return doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: not a usable YAML config: ${shortText((e as Error).message ?? String(e))}`, { fix: 'pass --config the releaseflow YAML file (see the README, "Configuration")' });
  }
}

/** Parse and validate config text; `file` resolves relative paths. */
export function parseConfig(text: string, file: string): Config {
  const data = parseYaml(text, file);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}: expected a mapping of keys (app:, hosts:, containers: …)`, { fix: 'see the README, "Configuration"' });
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    // an unknown key is reported at its own path (hosts.prod.usr), not at its parent's; of the file's own
    // keys at most one, shortened, is echoed (--config /etc/shadow must not print the file)
    let unknownMore = 0;
    const issues = parsed.error.issues.slice(0, 5).flatMap((i) => {
      const path = i.path.map((k) => shortKey(String(k)));
      if (i.code === 'unrecognized_keys') {
        unknownMore += i.keys.length;
        return [{ path: [...path, shortKey(i.keys[0]!)].join('.'), msg: 'unknown key', unknown: true }];
      }
      const msg = i.code === 'invalid_type' && /received undefined/.test(i.message) ? 'is required' : i.message;
      return [{ path: path.join('.') || '(top level)', msg, unknown: false }];
    });
    const firstUnknown = issues.findIndex((i) => i.unknown);
    const shown = issues.filter((i, n) => !i.unknown || n === firstUnknown);
    const more = unknownMore > 1 ? ` (and ${unknownMore - 1} more unknown key${unknownMore > 2 ? 's' : ''})` : '';
    const first = shown[0]!;
    const top = first.path.split('.')[0] ?? '';
    throw new ConfigError(`${file}: ${shown.map((i) => `${i.path}: ${i.msg}${i.unknown ? more : ''}`).join('; ')}`, {
      fix: first.unknown
        ? `remove ${first.path} or correct its spelling (see the README, "Configuration")`
        : first.path === top || first.msg === 'is required'
          ? (FIXES[top] ?? `correct ${first.path} (see the README, "Configuration")`)
          : `correct ${first.path} (see the README, "Configuration")`,
    });
  }
  const config = normalise(parsed.data, file);
  checkHostKeys(config);
  return config;
}

/** Every sshOption that weakens host key checking (paths resolved first) needs insecureIgnoreHostKeys: true. */
function checkHostKeys(config: Config): void {
  for (const h of Object.values(config.hosts)) {
    const off = hostKeyOptOut(h.sshOptions ?? {});
    if (!off || h.insecureIgnoreHostKeys) continue;
    throw new ConfigError(`${config.file}: hosts.${h.name}.sshOptions: ${off} turns host key checking off or weakens it (a server's key not checked against known_hosts); releaseflow refuses that unless you also set insecureIgnoreHostKeys: true for the host`, {
      fix: `keep host key checking on: remove that option and add the server's key to known_hosts after checking its fingerprint (ssh-keyscan, then compare with the server's console); to accept the risk anyway, set insecureIgnoreHostKeys: true under hosts.${h.name}`,
    });
  }
}

function resolvePath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

function createOf(raw: z.infer<typeof createKey>): Pick<ContainerConfig, 'createAllowed' | 'create'> {
  if (raw === undefined) return {};
  const n = normaliseCreate(raw);
  return { createAllowed: n.allowed, create: n.overrides };
}

function normalise(c: RawConfig, file: string): Config {
  const base = dirname(resolve(file));
  // no prototype: a host named on the command line (`constructor`, `__proto__`) is found only if configured
  const hosts: Record<string, HostConfig> = Object.create(null);
  for (const [name, h] of Object.entries(c.hosts)) {
    const sshOptions = { ...(h.sshOptions ?? {}) };
    for (const k of Object.keys(sshOptions)) {
      if (/^(IdentityFile|CertificateFile)$/i.test(k)) sshOptions[k] = resolvePath(sshOptions[k]!, base);
      // a list of files, like ssh reads it; `none` is a keyword, not a file
      if (/^UserKnownHostsFile$/i.test(k)) sshOptions[k] = sshOptions[k]!.trim().split(/\s+/).map((f) => (f.toLowerCase() === 'none' ? f : resolvePath(f, base))).join(' ');
    }
    hosts[name] = { ...h, name, identityFile: h.identityFile && resolvePath(h.identityFile, base), sshOptions };
  }
  return {
    file: resolve(file),
    app: c.app,
    hosts,
    from: c.from,
    to: Array.isArray(c.to) ? c.to[0]! : c.to,
    fleet: Array.isArray(c.to) ? [...c.to] : [c.to],
    rollout: { canary: c.rollout.canary, batch: c.rollout.batch, pauseMs: c.rollout.pause },
    containers: [
      ...c.containers.map((ct) =>
        typeof ct === 'string'
          ? { name: ct, healthUrl: c.health.url, healthTimeoutMs: c.health.timeout }
          : { name: ct.name, healthUrl: ct.health?.url ?? c.health.url, healthTimeoutMs: ct.health?.timeout ?? c.health.timeout, ...createOf(ct.create), ...(ct.service ? { service: ct.service } : {}) },
      ),
      // services: are containers: entries with service: (TEST's container is where the image comes from)
      ...c.services.map((sv) =>
        typeof sv === 'string'
          ? { name: sv, service: sv, healthUrl: c.health.url, healthTimeoutMs: c.health.timeout }
          : { name: sv.container ?? sv.name, service: sv.name, healthUrl: sv.health?.url ?? c.health.url, healthTimeoutMs: sv.health?.timeout ?? c.health.timeout },
      ),
    ],
    health: { url: c.health.url, timeoutMs: c.health.timeout, intervalMs: c.health.interval },
    logFile: resolvePath(c.log.file, base),
    secrets: c.secrets,
    keepReleases: c.keepReleases,
    carry: c.carry,
    hooks: normaliseHooks(c.hooks, Object.keys(c.hosts), resolve(file)),
    notify: normaliseNotify(c.notify),
    transfer: { direct: c.transfer.direct, relay: c.transfer.relay, directSsh: { ...c.transfer.directSsh } },
    ssh: { connectTimeoutMs: c.ssh.connectTimeout, commandTimeoutMs: c.ssh.commandTimeout, controlMaster: c.ssh.controlMaster, heartbeatTimeoutMs: c.ssh.heartbeatTimeout },
  };
}

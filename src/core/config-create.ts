// The `create:` key of a container (bootstrap): may promote create the container on a target that lacks
// it, and what differs on the target from the source's settings (env, env file, ports, binds, networks).
import { z } from 'zod';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `[ip:]hostPort:containerPort[/proto]` or `containerPort[/proto]`, as `docker run -p` takes it (IPv6 host IPs in brackets). */
export const PUBLISH = /^(?:(?:\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const absolute = z.string().regex(/^\/[^\0\n]*$/, 'expected an absolute path on the target host');
const netName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a network name (letters, digits, _ . -)');

/** The overrides: what a bootstrap sets on the target instead of the source's values. */
const overrideShape = {
  /** Env values on the target (also the only way, besides envFile, to give a secret: the source's are never copied). */
  env: z.record(z.string().regex(ENV_NAME, 'expected an env name (letters, digits, _)'), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** An env file ON THE TARGET host (docker --env-file): its names win over the source's and env:; read for its names only. */
  envFile: absolute.optional(),
  /** The published ports on the target, replacing the source's (`[]`: none). */
  ports: z.array(z.string().regex(PUBLISH, 'expected a docker -p value such as 8001:8001 or 127.0.0.1:8080:80/tcp')).optional(),
  /** Source's bind path (or volume name) → the target's. */
  binds: z.record(z.string().min(1), z.string().min(1).regex(/^[^\0\n:]+$/, 'expected a path or volume name without ":"')).default({}),
  /** Source's network name → the target's. */
  networks: z.record(z.string().min(1), netName).default({}),
};

export const createSchema = z.strictObject({
  /** Create the container whenever the target lacks it, without --create (as `create: true`). */
  auto: z.boolean().default(false),
  ...overrideShape,
  /** One target host's own values (a fleet): merged over the ones above for that host. */
  hosts: z.record(z.string(), z.strictObject(overrideShape)).default({}),
});

/** `create: true` (create when missing) or `create: { … }` (the overrides; creates without --create only with `auto: true`). */
export const createKey = z.union([z.boolean(), createSchema]).optional();

export type CreateOverrides = Omit<z.infer<typeof createSchema>, 'auto' | 'hosts'>;
export type CreateConfig = Omit<z.infer<typeof createSchema>, 'auto'>;

/** The normalised `create:` of a container: whether the config allows it, and its overrides. */
export function normaliseCreate(raw: z.infer<typeof createKey>): { allowed: boolean; overrides: CreateConfig } {
  const empty: CreateConfig = { env: {}, binds: {}, networks: {}, hosts: {} };
  if (raw === undefined || raw === false) return { allowed: false, overrides: empty };
  if (raw === true) return { allowed: true, overrides: empty };
  const { auto, ...overrides } = raw;
  return { allowed: auto, overrides };
}

/** The overrides for one target host: its `hosts.<name>` entry merged over the shared ones (maps merged by key, envFile and ports replaced). */
export function overridesFor(c: CreateConfig | undefined, host: string): CreateOverrides {
  const base: CreateOverrides = { env: { ...c?.env }, binds: { ...c?.binds }, networks: { ...c?.networks }, ...(c?.envFile ? { envFile: c.envFile } : {}), ...(c?.ports ? { ports: [...c.ports] } : {}) };
  const h = c?.hosts && Object.hasOwn(c.hosts, host) ? c.hosts[host] : undefined;
  if (!h) return base;
  return {
    env: { ...base.env, ...h.env },
    binds: { ...base.binds, ...h.binds },
    networks: { ...base.networks, ...h.networks },
    ...((h.envFile ?? base.envFile) ? { envFile: h.envFile ?? base.envFile } : {}),
    ...((h.ports ?? base.ports) ? { ports: h.ports ?? base.ports } : {}),
  };
}

// The `create:` key of a container (bootstrap): may promote create the container on a target that lacks
// it, and what differs on the target from the source's settings (env, env file, ports, binds, networks).
import { z } from 'zod';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `[ip:]hostPort:containerPort[/proto]` or `containerPort[/proto]`, as `docker run -p` takes it (IPv6 host IPs in brackets). */
export const PUBLISH = /^(?:(?:\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const absolute = z.string().regex(/^\/[^\0\n]*$/, 'expected an absolute path on the target host');
const netName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a network name (letters, digits, _ . -)');

/** What a bootstrap sets on the target instead of the source's values. */
export const createSchema = z.strictObject({
  /** Create the container whenever the target lacks it, without --create (as `create: true`). */
  auto: z.boolean().default(false),
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
});

/** `create: true` (create when missing) or `create: { … }` (the overrides; creates without --create only with `auto: true`). */
export const createKey = z.union([z.boolean(), createSchema]).optional();

export type CreateOverrides = Omit<z.infer<typeof createSchema>, 'auto'>;

/** The normalised `create:` of a container: whether the config allows it, and its overrides. */
export function normaliseCreate(raw: z.infer<typeof createKey>): { allowed: boolean; overrides: CreateOverrides } {
  const empty: CreateOverrides = { env: {}, binds: {}, networks: {} };
  if (raw === undefined || raw === false) return { allowed: false, overrides: empty };
  if (raw === true) return { allowed: true, overrides: empty };
  const { auto, ...overrides } = raw;
  return { allowed: auto, overrides };
}

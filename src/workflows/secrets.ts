// Register the secrets of the observed containers with the bus, and the names releaseflow prints itself.
import type { Config } from '../core/config.ts';
import { secretEntries, urlCredentials } from '../core/redact.ts';
import type { EventBus } from '../events/bus.ts';

interface ContainerLike {
  Name?: string;
  Config: { Env?: string[] | null; Image?: string; Labels?: Record<string, string> | null };
}

/** The names releaseflow prints: containers, compose projects and services, images (and their repository parts), hosts, the app. */
export function printedNames(config: Pick<Config, 'app'>, containers: readonly (ContainerLike | undefined)[], hosts: readonly string[]): string[] {
  const out = new Set<string>([config.app, ...hosts]);
  for (const c of containers) {
    if (!c) continue;
    if (c.Name) out.add(c.Name.replace(/^\//, ''));
    const l = c.Config.Labels ?? {};
    for (const k of ['com.docker.compose.project', 'com.docker.compose.service']) if (l[k]) out.add(l[k]);
    if (c.Config.Image) out.add(c.Config.Image);
  }
  return [...out].filter((n) => n.length > 0);
}

/**
 * Secrets of both hosts' containers are scrubbed from every event from here on. A secret that is also
 * part of a printed name is weak: it is masked only where it stands as a value, and the log says so
 * once per env name (without the value).
 */
const warned = new WeakMap<EventBus, Set<string>>();

export function registerSecrets(bus: EventBus, config: Pick<Config, 'app' | 'secrets'>, containers: readonly (ContainerLike | undefined)[], hosts: readonly string[]): void {
  const entries = containers.flatMap((c) => (c ? secretEntries(c.Config.Env ?? [], config.secrets) : []));
  bus.redactor.add(entries.map((e) => e.value));
  // a URL's password may also stand alone (a client's error message, docker logs)
  bus.redactor.add(containers.flatMap((c) => (c ? urlCredentials(c.Config.Env ?? []) : [])));
  const weak = new Set(bus.redactor.protect(printedNames(config, containers, hosts)));
  const seen = warned.get(bus) ?? new Set<string>();
  warned.set(bus, seen);
  const names = [...new Set(entries.filter((e) => weak.has(e.value) && !seen.has(e.name)).map((e) => e.name))];
  for (const n of names) {
    seen.add(n);
    bus.warn(`the secret ${n} is weak: its value is also part of a container, service, project, image or host name, so it is masked only where it stands as a value (NAME=value, JSON, quoted, a line of its own); choose a value that is not a name`);
  }
}

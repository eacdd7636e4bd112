// The config's checks across keys (zod checks each key alone): hosts named by from/to exist, a fleet
// lists a host once and never the source, a migrate hook names a configured container, containers once,
// a bootstrap's per-host overrides name configured hosts, a host's health URLs configured containers,
// services: take a container no other entry takes.
import type { z } from 'zod';
import { shortKey } from './config-file.ts';

/** The raw config as the schema parsed it, as far as the checks read it. */
interface Raw {
  hosts: Record<string, { health?: Record<string, string> }>;
  from: string;
  to: string | string[];
  containers: (string | { name: string; create?: boolean | { hosts?: Record<string, unknown> } })[];
  services: (string | { name: string; container?: string })[];
  hooks?: { migrate?: string | { container?: string } };
}

export function crossChecks(c: Raw, ctx: z.RefinementCtx): void {
  const targets = Array.isArray(c.to) ? c.to : [c.to];
  for (const [key, name, path] of [['from', c.from, ['from']], ...targets.map((t, i) => ['to', t, Array.isArray(c.to) ? ['to', i] : ['to']] as const)] as const) {
    // own keys only: `from: toString` must not find Object.prototype.toString
    if (!Object.hasOwn(c.hosts, name)) {
      ctx.addIssue({ code: 'custom', path: [...path], message: `names host '${shortKey(name)}', which is not under hosts (known: ${Object.keys(c.hosts).join(', ') || 'none'})` });
    } else if (key === 'to' && name === c.from) ctx.addIssue({ code: 'custom', path: [...path], message: `is the same host as from ('${c.from}')` });
  }
  targets.forEach((t, i) => {
    if (targets.indexOf(t) !== i) ctx.addIssue({ code: 'custom', path: ['to', i], message: `lists '${shortKey(t)}' twice` });
  });
  const migrateOf = c.hooks?.migrate;
  const migrateIn = typeof migrateOf === 'object' ? migrateOf.container : undefined;
  if (migrateIn && !c.containers.some((ct) => (typeof ct === 'string' ? ct : ct.name) === migrateIn)) {
    ctx.addIssue({ code: 'custom', path: ['hooks', 'migrate', 'container'], message: `names container '${shortKey(migrateIn)}', which is not under containers:` });
  }
  if (c.containers.length + c.services.length === 0) ctx.addIssue({ code: 'custom', path: ['containers'], message: 'list at least one container (or a swarm service under services:)' });
  // a host's own health URLs name configured containers (a service's TEST container among them)
  const fromServices = c.services.map((sv) => (typeof sv === 'string' ? sv : (sv.container ?? sv.name)));
  const names = [...c.containers.map((ct) => (typeof ct === 'string' ? ct : ct.name)), ...fromServices];
  for (const [h, host] of Object.entries(c.hosts)) {
    for (const n of Object.keys(host.health ?? {}).filter((n) => !names.includes(n))) {
      ctx.addIssue({ code: 'custom', path: ['hosts', h, 'health', n], message: `names container '${shortKey(n)}', which is not under containers: (known: ${names.join(', ')})` });
    }
  }
  const seen = new Set<string>();
  fromServices.forEach((name, i) => {
    if (fromServices.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['services', i], message: `takes container '${shortKey(name)}' twice (set container: to TEST's container of each service)` });
    else if (c.containers.some((ct) => (typeof ct === 'string' ? ct : ct.name) === name)) ctx.addIssue({ code: 'custom', path: ['services', i], message: `takes container '${shortKey(name)}', which is also under containers: (list it once)` });
  });
  c.containers.forEach((ct, i) => {
    const name = typeof ct === 'string' ? ct : ct.name;
    if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['containers', i], message: `lists '${name}' twice` });
    seen.add(name);
    // a bootstrap's per-host overrides name configured hosts
    const perHost = typeof ct === 'object' && typeof ct.create === 'object' ? Object.keys(ct.create.hosts ?? {}) : [];
    for (const h of perHost.filter((h) => !Object.hasOwn(c.hosts, h))) {
      ctx.addIssue({ code: 'custom', path: ['containers', i, 'create', 'hosts', h], message: `names host '${shortKey(h)}', which is not under hosts (known: ${Object.keys(c.hosts).join(', ')})` });
    }
  });
}

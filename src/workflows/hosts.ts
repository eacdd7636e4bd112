// The SSH hosts of a run: opened by name from the config, always closed by the caller.
import { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';

/** Look up a host by name (own keys only), with an error that lists the known ones. */
export function hostConfig(config: Config, name: string) {
  const h = Object.hasOwn(config.hosts, name) ? config.hosts[name] : undefined;
  if (!h) throw new ConfigError(`unknown host '${name}'`, { fix: `use one of: ${Object.keys(config.hosts).join(', ')} (hosts: in ${config.file})` });
  return h;
}

/** Open SSH hosts by name; the caller closes them with closeHosts. */
export function openHosts(config: Config, names: readonly string[]): Map<string, SshHost> {
  const m = new Map<string, SshHost>();
  for (const n of names) if (!m.has(n)) m.set(n, new SshHost(hostConfig(config, n), config.ssh));
  // host key checking switched off (insecureIgnoreHostKeys): said loudly on every run
  for (const h of m.values()) for (const w of h.warnings()) process.stderr.write(`WARNING ${w}\n`);
  return m;
}

/** Every other configured host too, connected only when a step runs there (a swarm's nodes receive the image). */
export function addConfiguredHosts(config: Config, hosts: Map<string, SshHost>): Map<string, SshHost> {
  for (const n of Object.keys(config.hosts)) if (!hosts.has(n)) hosts.set(n, new SshHost(hostConfig(config, n), config.ssh));
  return hosts;
}

export async function closeHosts(hosts: Iterable<SshHost>): Promise<void> {
  await Promise.all([...hosts].map((h) => h.close()));
}

/** Open the named hosts for `fn` and always close them. */
export async function withHosts<T>(config: Config, names: readonly string[], fn: (hosts: Map<string, SshHost>) => Promise<T>): Promise<T> {
  const hosts = openHosts(config, names);
  try {
    return await fn(hosts);
  } finally {
    await closeHosts(hosts.values());
  }
}

/** Open one host, connect, run `fn`, and always close it: the frame of read-mostly commands. */
export function withHost<T>(config: Config, name: string, fn: (host: SshHost) => Promise<T>): Promise<T> {
  return withHosts(config, [name], async (hosts) => {
    const h = hosts.get(name)!;
    await h.connect();
    return await fn(h);
  });
}

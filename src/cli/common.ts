// What every command shares: config lookup, host connections, and turning errors into exit codes.
import type { Command } from '@commander-js/extra-typings';
import { type Config, loadConfig, locateConfig } from '../core/config.ts';
import { ConfigError, ExitCode, ReleaseflowError, renderError } from '../core/errors.ts';
import { SshHost } from '../adapters/ssh.ts';

export interface GlobalOptions {
  config?: string;
}

/** The config named by --config, RELEASEFLOW_CONFIG or ./releaseflow.yml. */
export function configFrom(cmd: Command<unknown[], Record<string, unknown>, Record<string, unknown>>): Config {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return loadConfig(locateConfig(opts.config));
}

/** Look up a host by name, with an error that lists the known ones. */
export function hostConfig(config: Config, name: string) {
  const h = config.hosts[name];
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

export async function closeHosts(hosts: Iterable<SshHost>): Promise<void> {
  await Promise.all([...hosts].map((h) => h.close()));
}

/** Run a command body; print errors the operator can act on; return the exit code. */
export async function runCommand(body: () => Promise<number | undefined>): Promise<number> {
  try {
    return (await body()) ?? ExitCode.ok;
  } catch (e) {
    process.stderr.write(`${renderError(e)}\n`);
    return e instanceof ReleaseflowError ? e.exitCode : ExitCode.internal;
  }
}

/** Open one host, connect, run `fn`, and always close it: the frame of read-mostly commands. */
export async function withHost<T>(config: Config, name: string, fn: (host: SshHost) => Promise<T>): Promise<T> {
  const hosts = openHosts(config, [name]);
  try {
    const h = hosts.get(name)!;
    await h.connect();
    return await fn(h);
  } finally {
    await closeHosts(hosts.values());
  }
}

// Direct transfer (--direct): the target host pulls the image from the source with its OWN ssh
// client, so the bytes never pass through this machine. Pure parts: the route, and the known_hosts
// entry for the source that we hand to the target so its ssh still checks the source's host key.

/** How the target reaches the source (config `transfer.directSsh`, defaults from the source host). */
export interface DirectRoute {
  address: string;
  port?: number;
  user?: string;
  /** A path ON THE TARGET; unset: the target's ssh defaults (~/.ssh/id_*). */
  identityFile?: string;
}

/** The name the target's ssh looks the source's key up under (HostKeyAlias): never a real host name. */
export const DIRECT_KEY_ALIAS = 'releaseflow-direct-source';

/** The operator's resolved ssh settings for a host, from `ssh -G` (lower-case keys, first value wins). */
export function parseSshG(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!);
  }
  return out;
}

/** The name a known_hosts entry is recorded under: HostKeyAlias, else host or [host]:port. */
export function knownHostsName(hostname: string, port: number, hostKeyAlias?: string): string {
  if (hostKeyAlias && hostKeyAlias !== 'none') return hostKeyAlias;
  return port === 22 ? hostname : `[${hostname}]:${port}`;
}

/**
 * `ssh-keygen -F NAME` output → known_hosts lines for the alias. Markers (@cert-authority,
 * @revoked) are kept, so a CA-signed or revoked key means the same on the target as here.
 */
export function knownHostsForAlias(keygenOutput: string, alias = DIRECT_KEY_ALIAS): string[] {
  const lines: string[] = [];
  for (const raw of keygenOutput.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const f = l.split(/\s+/);
    const marker = f[0]!.startsWith('@') ? f.shift() : undefined;
    // hosts, key type, base64 key (a comment, if any, is dropped)
    if (f.length < 3 || !/^[A-Za-z0-9@._+-]+$/.test(f[1]!) || !/^[A-Za-z0-9+/=]+$/.test(f[2]!)) continue;
    lines.push([marker, alias, f[1], f[2]].filter(Boolean).join(' '));
  }
  return [...new Set(lines)];
}

/** The route as the target's ssh command names it, for plans and logs. */
export function describeRoute(r: DirectRoute): string {
  return `${r.user ? `${r.user}@` : ''}${r.address}${r.port && r.port !== 22 ? `:${r.port}` : ''}${r.identityFile ? ` (key ${r.identityFile})` : ''}`;
}

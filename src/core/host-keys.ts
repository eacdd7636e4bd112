// Which sshOptions weaken host key checking. Every weakening needs insecureIgnoreHostKeys: true (and then
// warns on every run): a key accepted on first sight (accept-new) or a known_hosts that is /dev/null under
// another spelling is as open to a man in the middle as StrictHostKeyChecking=no on the first connection.
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';

/** Where a known_hosts path really points: normalised (/dev//null, /dev/./null), symlinks followed when it exists. */
function resolvesTo(path: string): string {
  const p = posix.normalize(path);
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** A UserKnownHostsFile value that records no key: `none`, or only files that resolve to /dev/null. */
function knownHostsOff(value: string): boolean {
  const files = value.trim().split(/\s+/).filter(Boolean);
  return files.length > 0 && files.every((f) => f.toLowerCase() === 'none' || resolvesTo(f) === '/dev/null');
}

/**
 * The first sshOption that weakens host key checking, as `Key: value`, or undefined. Paths must already be
 * absolute (the config resolves them against its own folder). StrictHostKeyChecking other than yes/ask
 * (accept-new, no, off, anything unknown) and a UserKnownHostsFile/GlobalKnownHostsFile that keeps no key.
 */
export function hostKeyOptOut(opts: Readonly<Record<string, string>>): string | undefined {
  for (const [k, v] of Object.entries(opts)) {
    if (/^stricthostkeychecking$/i.test(k) && !/^(yes|ask|true)$/i.test(v.trim())) return `${k}: ${v}`;
    if (/^(userknownhostsfile|globalknownhostsfile)$/i.test(k) && knownHostsOff(v)) return `${k}: ${v}`;
  }
  return undefined;
}

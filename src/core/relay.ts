// --relay (with --direct): a rollout's hosts pass an image on to each other while they load it
// (TEST → prod → prod2 → prod3), so that TEST is read once and each link carries the image once.
// Pure: which host follows which, and the file a host passes the stream on through.
import { shortId } from './host-facts.ts';

/** One host's transfer of one image, with what decides the bytes it needs. */
export interface RelayCandidate {
  host: string;
  imageId: string;
  /** Equal keys: one stream serves both hosts (same image store, same layers missing, same compression). */
  key: string;
}

/** A transfer's place in a chain: the file it writes for the next host, and the host it takes its stream from. */
export interface RelayLink {
  /** Marker lines of the stream: one for the whole chain, as the followers read the head's lines. */
  marker: string;
  /** This host writes the stream it receives into this file (on itself) for the next one. */
  passOn?: string;
  /** This host reads the stream from that host's pass-on file instead of asking TEST. */
  follow?: { host: string; fan: string };
}

/** Where a host passes one image on: under the transfer temp prefix (its clean-up glob removes it). */
export function fanPath(tmpPrefix: string, imageId: string): string {
  return `${tmpPrefix}fan-${imageId.replace(/^sha256:/, '').slice(0, 16)}`;
}

/** The key of a link, by host and image. */
export function relayKey(host: string, imageId: string): string {
  return `${host}\u0000${imageId}`;
}

/**
 * Chains, in the hosts' order: the candidates of one image with the same key form one chain, each
 * host following the one before it. A host alone in its group pulls from TEST as without --relay.
 * `fanOutFrom` (through this machine): the first host's save on that source host writes the file,
 * and every other host of the group reads it there.
 */
export function planRelay(cands: readonly RelayCandidate[], tmpPrefix: string, marker: string, fanOutFrom?: string): Map<string, RelayLink> {
  const groups = new Map<string, RelayCandidate[]>();
  for (const c of cands) {
    const g = `${c.imageId}\u0000${c.key}`;
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const out = new Map<string, RelayLink>();
  let n = 0;
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // one file per chain and host: two chains of one image never share a file, nor do hosts that share a /tmp
    const fan = (c: RelayCandidate) => `${fanPath(tmpPrefix, c.imageId)}-${n}-${c.host.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    n++;
    group.forEach((c, i) => {
      const next = group[i + 1];
      const prev = group[i - 1];
      if (fanOutFrom) {
        // through this machine: the first host's save on the source writes the file; the others read it there
        out.set(relayKey(c.host, c.imageId), { marker, ...(i === 0 ? { passOn: fan(group[0]!) } : { follow: { host: fanOutFrom, fan: fan(group[0]!) } }) });
        return;
      }
      out.set(relayKey(c.host, c.imageId), {
        marker,
        ...(next ? { passOn: fan(c) } : {}),
        ...(prev ? { follow: { host: prev.host, fan: fan(prev) } } : {}),
      });
    });
  }
  return out;
}

/** The chains for the log: `sha256:…: test → prod → prod2`. */
export function describeRelay(cands: readonly RelayCandidate[], links: ReadonlyMap<string, RelayLink>, from: string): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const c of cands) {
    const k = relayKey(c.host, c.imageId);
    const l = links.get(k);
    if (!l || l.follow || seen.has(k)) continue;
    // a fan-out: every follower reads the head's file on the source
    const fans = cands.filter((x) => x.imageId === c.imageId && links.get(relayKey(x.host, x.imageId))?.follow?.host === from && links.get(relayKey(x.host, x.imageId))?.follow?.fan === l.passOn);
    if (fans.length) {
      lines.push(`image ${shortId(c.imageId)}: ${from} → ${[c, ...fans].map((x) => x.host).join(', ')}`);
      continue;
    }
    const chain = [from, c.host];
    let cur = c;
    for (;;) {
      const passOn = links.get(relayKey(cur.host, cur.imageId))?.passOn;
      const next = passOn ? cands.find((x) => x.imageId === cur.imageId && links.get(relayKey(x.host, x.imageId))?.follow?.fan === passOn) : undefined;
      if (!next) break;
      chain.push(next.host);
      seen.add(relayKey(next.host, next.imageId));
      cur = next;
    }
    lines.push(`image ${shortId(c.imageId)}: ${chain.join(' → ')}`);
  }
  return lines;
}

// --relay: before a rollout moves its images, decide which host takes each image from which
// (core/relay.ts) and, with --direct, check every hop can connect, changing nothing. After the
// moves, remove the pass-on files.
import { randomBytes } from 'node:crypto';
import { type RelayCandidate, describeRelay, planRelay, relayKey } from '../core/relay.ts';
import type { Plan, Step } from '../core/step.ts';
import { buildAbandonScript, buildCleanupScript, tempDirPrefix } from '../adapters/image-scripts.ts';
import { planTransfer } from '../adapters/transfer.ts';
import type { SshHost } from '../adapters/ssh.ts';
import { probeDirect, resolveDirect } from '../adapters/transfer-direct.ts';
import type { Ports } from './ports.ts';

type TransferStep = Extract<Step, { kind: 'transfer' }>;

/** The transfer steps of each host, with their places in the chains; the token names the pass-on files. */
export async function chainTransfers(ports: Ports, moving: { h: string; steps: Step[] }[]): Promise<{ token: string; relaying: string[] }> {
  const token = randomBytes(8).toString('hex');
  const host = (name: string) => ports.hosts.get(name)!;
  // what each host lacks of each image decides whether one stream serves several hosts (reads only)
  const cands: RelayCandidate[] = (
    await Promise.all(
      moving.flatMap((m) =>
        m.steps.filter((s): s is TransferStep => s.kind === 'transfer').map(async (s) => {
          const p = await planTransfer(host(s.from), host(m.h), s.imageId);
          if (p.layers.kind === 'present') return [];
          return [{ host: m.h, imageId: s.imageId, key: [p.target.store, p.layers.kind, p.compression, ...p.layers.missing].join(' ') }];
        }),
      ),
    )
  ).flat();
  const from = moving[0]?.steps.find((s): s is TransferStep => s.kind === 'transfer')?.from ?? '';
  const direct = ports.config.transfer.direct;
  // --direct: the hosts pass the image on to each other; through this machine: one save on the source, read by every stream
  const links = planRelay(cands, tempDirPrefix('/tmp', token), `@@rfx-${randomBytes(6).toString('hex')}`, direct ? undefined : from);
  // every hop proven before anything moves: a host that cannot reach the one before it is a set-up problem
  const hops = new Map<string, [string, string]>();
  for (const c of cands) {
    const prev = links.get(relayKey(c.host, c.imageId))?.follow?.host;
    if (prev) hops.set(`${prev} ${c.host}`, [prev, c.host]);
  }
  const identityFile = ports.config.transfer.directSsh.identityFile;
  if (direct) for (const [prev, to] of hops.values()) await probeDirect(host(prev), host(to), await resolveDirect(host(prev), { identityFile }));
  for (const m of moving) {
    m.steps = m.steps.map((s) => {
      const l = s.kind === 'transfer' ? links.get(relayKey(m.h, s.imageId)) : undefined;
      return l ? { ...s, relay: l } : s;
    });
  }
  const lines = describeRelay(cands, links, from);
  const how = direct ? 'each host passes the images on as it loads them' : `one docker save on ${from} for all hosts, streamed to them through this machine`;
  ports.bus.info(lines.length ? `relay: ${how}: ${lines.join('; ')}` : 'relay: no two hosts lack the same layers of an image; each host gets its own stream from the source');
  const relaying = [...new Set([...links.values()].flatMap((l) => (l.follow ? [l.follow.host] : [])))];
  return { token, relaying };
}

/** Remove the pass-on files of a rollout's transfers (best effort: they live under /tmp). */
export async function removePassOn(ports: Ports, token: string, hosts: readonly string[]): Promise<void> {
  await Promise.all(hosts.map((h) => ports.hosts.get(h)!.run({ script: buildCleanupScript('/tmp', token) }, { timeoutMs: 20_000 }).catch(() => undefined)));
}

/**
 * A host whose transfers ended (done, or stopped by a failure) never starts the pass-on files it has
 * not started yet: mark them finished and empty, so that the hosts waiting on them fall back to their
 * own read of the source at once instead of waiting for the follow script's limit.
 */
export async function abandonPassOn(hosts: ReadonlyMap<string, SshHost>, steps: readonly Step[]): Promise<void> {
  for (const s of steps) {
    if (s.kind !== 'transfer' || !s.relay?.passOn) continue;
    // the file is on the host that writes it: the target with --direct, the source through this machine
    await hosts
      .get(s.direct ? s.to : s.from)!
      .run({ script: buildAbandonScript(s.relay.passOn) }, { timeoutMs: 20_000 })
      .catch(() => undefined);
  }
}

/**
 * One host's release whose transfers go to several hosts (a swarm's nodes): the same places in the
 * chains as a fleet's (undefined when fewer than two hosts receive an image).
 */
export async function relayPlan(ports: Ports, plan: Plan): Promise<{ plan: Plan; token: string; relaying: string[] } | undefined> {
  const transfers = plan.steps.filter((s): s is TransferStep => s.kind === 'transfer');
  const hosts = [...new Set(transfers.map((s) => s.host))];
  if (hosts.length < 2) return undefined;
  const moving = hosts.map((h) => ({ h, steps: transfers.filter((s) => s.host === h) as Step[] }));
  const chain = await chainTransfers(ports, moving);
  const placed = new Map(moving.flatMap((m) => m.steps.flatMap((s) => (s.kind === 'transfer' ? [[relayKey(m.h, s.imageId), s] as const] : []))));
  const steps = plan.steps.map((s) => (s.kind === 'transfer' ? (placed.get(relayKey(s.host, s.imageId)) ?? s) : s));
  return { plan: { ...plan, steps }, ...chain };
}

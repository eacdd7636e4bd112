// recover of a fleet: first each host's own interrupted release (its journal: the crash guard may
// already have restored it), then a rollout that was killed halfway: the hosts it had released are
// rolled back, newest first, so that the fleet runs one version again.
import { buildReadMarksScript, type FleetMark, fleetDir, parseMarks } from '../core/fleet.ts';
import { ExitCode } from '../core/errors.ts';
import { readHistory } from '../adapters/state/history.ts';
import type { Ports } from './ports.ts';
import { type RecoverOptions, recover } from './recover.ts';
import { rollbackHost } from './rollback.ts';
import { markFleet } from './rollout.ts';

/** The rollouts marked on the hosts that never ended. */
async function unfinished(ports: Ports, hosts: readonly string[]): Promise<FleetMark[]> {
  const byId = new Map<string, FleetMark>();
  for (const h of hosts) {
    const host = ports.hosts.get(h)!;
    const r = await host.run({ script: buildReadMarksScript(fleetDir(host.config.stateDir, ports.config.app)) });
    for (const m of parseMarks(r.stdout)) if (m.state === 'started') byId.set(m.releaseId, m);
  }
  return [...byId.values()].sort((a, b) => a.releaseId.localeCompare(b.releaseId));
}

/** Recover every host of the fleet, then finish the rollouts killed halfway. Returns the worst exit code. */
export async function recoverFleet(ports: Ports, opts: RecoverOptions & { hosts: string[] }): Promise<number> {
  let worst: number = ExitCode.ok;
  for (const h of opts.hosts) worst = Math.max(worst, await recover(ports, { ...opts, to: h }));
  if (worst !== ExitCode.ok) return worst;
  for (const m of await unfinished(ports, opts.hosts)) {
    const hosts = m.hosts.filter((h) => ports.hosts.has(h));
    const released: string[] = [];
    for (const h of hosts) {
      const last = (await readHistory(ports.hosts.get(h)!, ports.config)).at(-1);
      if (last?.releaseId === m.releaseId && last.kind === 'promote' && last.result === 'released') released.push(h);
    }
    ports.bus.info(`rollout ${m.releaseId} was interrupted: ${released.length ? `rolling back the hosts it released (${released.slice().reverse().join(', ')})` : 'no host had been released by it'}`);
    let ok = true;
    for (const h of released.reverse()) {
      const code = await rollbackHost(ports, { to: h, confirm: opts.confirm });
      if (code !== ExitCode.ok) ok = false;
      worst = Math.max(worst, code);
    }
    if (ok && hosts.length === m.hosts.length) await markFleet(ports, { ...m, state: 'done' });
  }
  return worst;
}

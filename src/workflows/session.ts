// A run that may change hosts (CLI or dashboard): the event bus with its sinks, the hosts, and Ctrl-C.
import { systemClock } from '../adapters/clock.ts';
import type { Config } from '../core/config.ts';
import { renderPlan } from '../core/render-plan.ts';
import type { Plan } from '../core/step.ts';
import { EventBus } from '../events/bus.ts';
import { logFileSink } from '../events/logfile.ts';
import { terminalSink } from '../events/terminal.ts';
import type { ReleaseEvent } from '../events/types.ts';
import { addConfiguredHosts, closeHosts, openHosts } from './hosts.ts';
import type { Ports } from './ports.ts';

export interface Session {
  ports: Ports;
  signal: AbortSignal;
  events: ReleaseEvent[];
  /** The plan as the operator may see it: commands from masked argv, the observed secret values scrubbed. */
  showPlan: (plan: Plan) => string;
  close: () => Promise<void>;
}

/** Open the hosts and the sinks: log file always, terminal unless --json. */
export function openSession(config: Config, hostNames: string[], opts: { json?: boolean; verbose?: boolean; log?: boolean }): Session {
  const bus = new EventBus();
  if (opts.log !== false) bus.add(logFileSink(config.logFile));
  if (!opts.json) bus.add(terminalSink(process.stdout, { verbose: opts.verbose }));
  // the release's hosts, then the other configured ones (nodes of a swarm), connected when first used
  const hosts = addConfiguredHosts(config, openHosts(config, hostNames));
  const ac = new AbortController();
  let interrupts = 0;
  // Ctrl-C, and a stop from systemd/CI (SIGTERM) or a closed terminal (SIGHUP): finish the current
  // command, then roll back. A second signal does not skip that; SIGKILL is covered by PROD's crash guard.
  const onSigint = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n[ReleaseFlow] interrupted (${sig}): finishing the current command, then restoring the previous state (Ctrl-C again does not skip this)\n`);
      ac.abort();
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSigint);
  return {
    ports: { config, hosts, bus, clock: systemClock },
    signal: ac.signal,
    events: bus.history,
    showPlan: (plan) => bus.redactor.redact(renderPlan(plan, { secrets: config.secrets })),
    close: async () => {
      for (const sig of signals) process.off(sig, onSigint);
      await closeHosts(hosts.values());
    },
  };
}

/** A session for `fn`, always closed after. */
export async function withSession<T>(config: Config, hostNames: string[], opts: { json?: boolean; verbose?: boolean; log?: boolean }, fn: (s: Session) => Promise<T>): Promise<T> {
  const s = openSession(config, hostNames, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

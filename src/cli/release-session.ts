// Shared set-up for commands that change hosts: the event bus with its sinks, hosts, and Ctrl-C.
import { createInterface } from 'node:readline/promises';
import type { Config } from '../core/config.ts';
import { renderPlan } from '../core/render-plan.ts';
import type { Plan } from '../core/step.ts';
import { EventBus } from '../events/bus.ts';
import { logFileSink } from '../events/logfile.ts';
import { terminalSink } from '../events/terminal.ts';
import type { ReleaseEvent } from '../events/types.ts';
import type { Ports } from '../workflows/promote.ts';
import { closeHosts, openHosts } from './common.ts';

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
  const hosts = openHosts(config, hostNames);
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
    ports: { config, hosts, bus, clock: () => new Date() },
    signal: ac.signal,
    events: bus.history,
    showPlan: (plan) => bus.redactor.redact(renderPlan(plan, { secrets: config.secrets })),
    close: async () => {
      for (const sig of signals) process.off(sig, onSigint);
      await closeHosts(hosts.values());
    },
  };
}

/** Ask on a terminal; without one, refuse (the caller must pass --yes). `show`: the session's showPlan. */
export function confirmer(yes: boolean | undefined, what: (plan: Plan) => string, show: (plan: Plan) => string): (plan: Plan) => Promise<boolean> {
  return async (plan) => {
    if (yes) return true;
    if (!process.stdin.isTTY) {
      process.stderr.write('error: no terminal to confirm on; nothing was changed\n  fix: review with `releaseflow plan`, then pass --yes\n');
      return false;
    }
    process.stdout.write(`${show(plan)}\n`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`${what(plan)} [y/N] `);
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
  };
}

// The dashboard's release runner: one release at a time, run through the CLI's workflows and session,
// its events kept in memory for replay and broadcast to every open page.
import { openSession, type Session } from '../workflows/session.ts';
import type { Config } from '../core/config.ts';
import { ExitCode, renderError } from '../core/errors.ts';
import type { Plan } from '../core/step.ts';
import type { ReleaseEvent } from '../events/types.ts';
import { promote } from '../workflows/promote.ts';
import { rollback } from '../workflows/rollback.ts';
import { HttpError } from './http.ts';

export type RunKind = 'promote' | 'rollback';

/** What every page is told about the current (or last) run. */
export interface RunState {
  run: number;
  kind: RunKind;
  running: boolean;
  startedAt: string;
  exitCode?: number;
}

/** A message for the pages: a run's state changed, or one of its events. */
export type RunMessage = { type: 'state'; state: RunState } | { type: 'event'; run: number; event: ReleaseEvent };

interface Run {
  state: RunState;
  events: ReleaseEvent[];
  done: Promise<void>;
}

/** Image IDs the operator saw in the plan they confirmed, by container name. */
export type Expected = Record<string, string>;

/** Runs promote and rollback for the dashboard, exactly as the CLI does, and fans their events out. */
export class ReleaseRunner {
  private current: Run | undefined;
  /** Run numbers come from the clock, so a page that outlived a server restart never mixes two runs. */
  private lastRun = 0;
  private readonly listeners = new Set<(m: RunMessage) => void>();

  constructor(
    private readonly config: Config,
    private readonly open: typeof openSession = openSession,
  ) {}

  /** The current or last run's state, if any run was started. */
  state(): RunState | undefined {
    return this.current && { ...this.current.state };
  }

  /** Events of the current or last run after `afterSeq` (for a page that reconnects). */
  eventsSince(run: number | undefined, afterSeq: number): { run: number; events: ReleaseEvent[] } | undefined {
    const c = this.current;
    if (!c) return undefined;
    const from = run === c.state.run ? afterSeq : 0;
    return { run: c.state.run, events: c.events.filter((e) => e.seq > from) };
  }

  /** Receive every later message; returns the unsubscribe function. */
  subscribe(listener: (m: RunMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    await this.current?.done;
  }

  /** Start a promotion (TEST → PROD, or to every host of a fleet: a rollout) in the background; refuses while a run is in progress. */
  startPromote(expected?: Expected): RunState {
    const { from, fleet } = this.config;
    const to = fleet.join(',');
    return this.start('promote', [from, ...fleet], async (s) => {
      const r = await promote(s.ports, { from, to, signal: s.signal, assumeYes: true, confirm: async (plan) => this.matches(s, plan, expected) });
      return r.code;
    });
  }

  /** Start a rollback of the last successful release on the target (a fleet: every host, the last first, as the CLI does); refuses while a run is in progress. */
  startRollback(): RunState {
    const hosts = [...this.config.fleet].reverse();
    return this.start('rollback', hosts, async (s) => {
      let worst = 0;
      for (const to of hosts) worst = Math.max(worst, await rollback(s.ports, { to, signal: s.signal, confirm: async () => true }));
      return worst;
    });
  }

  private start(kind: RunKind, hostNames: string[], body: (s: Session) => Promise<number>): RunState {
    const busy = this.current?.state;
    if (busy?.running) {
      throw new HttpError(409, `a ${busy.kind} started at ${busy.startedAt} is still running from this dashboard`, 'wait for it to finish: the Release tab shows its progress');
    }
    const session = this.open(this.config, hostNames, {});
    this.lastRun = Math.max(Date.now(), this.lastRun + 1);
    const state: RunState = { run: this.lastRun, kind, running: true, startedAt: new Date().toISOString() };
    const run: Run = { state, events: session.events, done: Promise.resolve() };
    this.current = run;
    session.ports.bus.add((event) => this.broadcast({ type: 'event', run: state.run, event }));
    this.broadcast({ type: 'state', state: { ...state } });
    run.done = (async () => {
      let code: number;
      try {
        code = await body(session);
      } catch (e) {
        // workflows report operator errors as events; this is a bug, still shown on every page
        code = ExitCode.internal;
        session.ports.bus.emit({ type: 'release-finished', result: 'failed', exitCode: code, durationMs: Date.now() - Date.parse(state.startedAt), message: renderError(e) });
      } finally {
        await session.close().catch(() => undefined);
      }
      state.running = false;
      state.exitCode = code;
      this.broadcast({ type: 'state', state: { ...state } });
    })();
    return { ...state };
  }

  /** Go on only when TEST still runs the images the operator confirmed on the page. */
  private matches(s: Session, plan: Plan, expected: Expected | undefined): boolean {
    if (!expected) return true;
    const changed = plan.containers.filter((c) => expected[c.name] !== undefined && expected[c.name] !== c.fromId);
    if (changed.length === 0) return true;
    s.ports.bus.warn(
      `${plan.from?.name ?? 'the source'} changed since the plan you confirmed (${changed.map((c) => `${c.name} now runs ${c.fromRef}`).join(', ')}): review the new plan on the Release tab and release again`,
    );
    return false;
  }

  private broadcast(m: RunMessage): void {
    for (const l of this.listeners) {
      try {
        l(m);
      } catch {
        /* a closed page must not stop the others */
      }
    }
  }
}

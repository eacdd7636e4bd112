// What every workflow runs against: the config, the open hosts, the event bus, the clock and the release targets.
import type { Clock } from '../adapters/clock.ts';
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import type { EventBus } from '../events/bus.ts';
import { TARGETS } from '../targets/index.ts';
import type { AnyTarget } from '../targets/target.ts';

export interface Ports {
  config: Config;
  hosts: Map<string, SshHost>;
  bus: EventBus;
  clock: Clock;
  /** The release targets (default: src/targets/index.ts); a test may add its own. */
  targets?: readonly AnyTarget[];
}

/** The release targets of this run. */
export function targetsOf(ports: Ports): readonly AnyTarget[] {
  return ports.targets ?? TARGETS;
}

// What every workflow runs against: the config, the open hosts, the event bus and the clock.
import type { SshHost } from '../adapters/ssh.ts';
import type { Config } from '../core/config.ts';
import type { EventBus } from '../events/bus.ts';

export interface Ports {
  config: Config;
  hosts: Map<string, SshHost>;
  bus: EventBus;
  clock: () => Date;
}

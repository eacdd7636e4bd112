// The release targets, in step order: a container goes to the first that claims it, else to run (the fallback).
// Adding a target: a folder under src/targets/ with a ReleaseTarget (target.ts), and one line here.
import { composeTarget } from './compose/index.ts';
import { runTarget } from './run/index.ts';
import { swarmTarget } from './swarm/index.ts';
import type { AnyTarget } from './target.ts';

export const TARGETS: readonly AnyTarget[] = [runTarget, composeTarget, swarmTarget];

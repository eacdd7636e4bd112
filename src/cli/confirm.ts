// Asking the operator before a change: on a terminal, or not at all (--yes).
import { createInterface } from 'node:readline/promises';
import type { Plan } from '../core/step.ts';

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

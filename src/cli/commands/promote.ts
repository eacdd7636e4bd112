// `releaseflow promote` and `releaseflow plan` (the same, dry run).
import { Command } from '@commander-js/extra-typings';
import { terminalSink } from '../../events/terminal.ts';
import type { Sink } from '../../events/types.ts';
import { promote } from '../../workflows/promote.ts';
import { openSession } from '../../workflows/session.ts';
import { act } from '../common.ts';
import { confirmer } from '../confirm.ts';
import type { Register } from './register.ts';

/** The terminal view without the header and the plan itself (plan prints those on stdout). */
function observationSink(out: NodeJS.WriteStream): Sink {
  const term = terminalSink(out);
  return (e) => {
    if (e.type !== 'release-started' && e.type !== 'plan') term(e);
  };
}

function releaseCommand(name: 'promote' | 'plan', holder: { code: number }) {
  const cmd = new Command(name)
    .description(name === 'promote' ? 'release TEST\'s images to PROD: plan, confirm, move images, swap containers, health-check; roll back on failure' : 'show what promote would do, changing nothing')
    .option('--from <host>', 'source host (default: from: in the config)')
    .option('--to <host>', 'target host, or several: a,b,c (default: to: in the config)')
    .option('--direct', 'the target pulls images from the source over its own SSH (nothing through this machine); see transfer.directSsh')
    .option('--relay', 'with several target hosts: one docker save on the source for all of them; with --direct, each host passes the images on to the next as it loads them (test → prod → prod2 …); see transfer.relay')
    .option('--carry <settings>', "take these settings from the source instead of the target's own, e.g. env:FEATURE_X,env:API_URL (shown as drift; rollback restores the target's)")
    .option('--create', "create a configured container the target lacks, from the source's inspect with the overrides under create: in the config (bootstrap; rollback removes it)")
    .option('--json', 'print the result as JSON on stdout')
    .option('-v, --verbose', name === 'promote' ? 'show the plan and every command as it runs' : 'also show what was observed on the way (layers the target has, checks, timing) on stderr');
  if (name === 'promote') cmd.option('-y, --yes', 'do not ask for confirmation').option('--dry-run', 'plan only, change nothing');
  return cmd.action(async (opts, c) => {
    await act(holder, c, async (loaded) => {
      const config = opts.direct || opts.relay ? { ...loaded, transfer: { ...loaded.transfer, direct: loaded.transfer.direct || Boolean(opts.direct), relay: loaded.transfer.relay || Boolean(opts.relay) } } : loaded;
      const o = opts as typeof opts & { yes?: boolean; dryRun?: boolean };
      const from = o.from ?? config.from;
      // one target host, or several (to: [a, b] in the config, or --to a,b): a fleet, released by rollout
      const fleet = o.to ? o.to.split(',').map((h) => h.trim()).filter(Boolean) : config.fleet;
      const to = fleet.join(',');
      const dry = name === 'plan' || Boolean(o.dryRun);
      // plan prints the plan itself; the live step view is for changes
      const s = openSession(config, [from, ...fleet], { json: o.json || name === 'plan', verbose: o.verbose, log: !dry });
      // plan -v: what was observed and decided on the way (layers PROD has, checks, timing) on stderr; the plan stays on stdout
      if (name === 'plan' && o.verbose && !o.json) s.ports.bus.add(observationSink(process.stderr));
      try {
        const r = await promote(s.ports, {
          from,
          to,
          dryRun: dry,
          signal: s.signal,
          assumeYes: Boolean(o.yes),
          carry: o.carry ? [o.carry] : [],
          create: Boolean(o.create),
          confirm: confirmer(o.yes, (p) => `Release ${[...new Set(p.containers.map((x) => x.fromRef))].join(', ')} from ${from} (${p.from?.address}) to ${fleet.length > 1 ? `${fleet.length} hosts: ${to}` : `${to} (${p.to.address})`}?`, s.showPlan),
        });
        if (name === 'plan' && !o.json) {
          const fin = s.events.filter((e) => e.type === 'release-finished').at(-1);
          if (r.plan && r.code === 0) process.stdout.write(`${s.showPlan(r.plan)}\n`);
          else if (fin?.type === 'release-finished') process.stderr.write(`${fin.message}\n`);
        } else if (dry && r.plan && !o.json && !r.plan.upToDate) process.stdout.write(`${s.showPlan(r.plan)}\n`);
        if (o.json) {
          const fin = s.events.filter((e) => e.type === 'release-finished').at(-1);
          process.stdout.write(`${JSON.stringify({ exitCode: r.code, result: fin?.type === 'release-finished' ? fin.result : undefined, message: fin?.type === 'release-finished' ? fin.message : undefined, plan: r.plan ? { releaseId: r.plan.releaseId, upToDate: r.plan.upToDate, drift: r.plan.drift ?? [], carried: r.plan.carried ?? [], containers: r.plan.containers.map(({ runCommand: _rc, ...x }) => x), steps: r.plan.steps.map((st) => ({ name: st.name, host: st.host, kind: st.kind, cause: st.cause })) } : undefined, events: s.events }, null, 2)}\n`);
        }
        return r.code;
      } finally {
        await s.close();
      }
    });
  });
}

export const registerPromote: Register = (program, holder) => {
  program.addCommand(releaseCommand('promote', holder) as unknown as Command);
  program.addCommand(releaseCommand('plan', holder) as unknown as Command);
};

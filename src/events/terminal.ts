// The terminal view: the same step lines as the log, live; a byte/rate bar for transfers on a TTY.
import cliProgress from 'cli-progress';
import { formatBytes } from '../core/human.ts';
import { formatEventLines } from './logfile.ts';
import type { Sink } from './types.ts';

/** A sink writing step lines to a stream; `verbose` adds each command. */
export function terminalSink(out: NodeJS.WriteStream, opts: { verbose?: boolean } = {}): Sink {
  const tty = Boolean(out.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  // transfers to several hosts at once (a swarm's nodes) share the bar: their sums
  const moving = new Map<number, { bytes: number; total: number; rate: number }>();
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    moving.clear();
  };
  return (e) => {
    if (e.type === 'progress') {
      if (!tty) return;
      moving.set(e.index, { bytes: e.bytes, total: e.totalBytes ?? 0, rate: e.rateBps });
      const all = [...moving.values()];
      const [bytes, total, rate] = (['bytes', 'total', 'rate'] as const).map((k) => all.reduce((a, m) => a + m[k], 0)) as [number, number, number];
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: out, format: '  transfer {value_h} {total_h} {rate}/s', hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { value_h: '0 B', total_h: '', rate: '0 B' });
      }
      bar.setTotal(total);
      bar.update(bytes, { value_h: formatBytes(bytes), total_h: total ? `of ~${formatBytes(total)}` : '', rate: formatBytes(rate) });
      return;
    }
    if ((e.type === 'command' || e.type === 'plan') && !opts.verbose) return;
    stopBar();
    for (const line of formatEventLines(e)) out.write(`[ReleaseFlow] ${line}\n`);
  };
}

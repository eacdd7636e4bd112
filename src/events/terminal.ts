// The terminal view: the same step lines as the log, live; a byte/rate bar for transfers on a TTY.
import cliProgress from 'cli-progress';
import { formatBytes } from '../core/human.ts';
import { formatEventLines } from './logfile.ts';
import type { Sink } from './types.ts';

/** A sink writing step lines to a stream; `verbose` adds each command. */
export function terminalSink(out: NodeJS.WriteStream, opts: { verbose?: boolean } = {}): Sink {
  const tty = Boolean(out.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return (e) => {
    if (e.type === 'progress') {
      if (!tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: out, format: '  transfer {value_h} {total_h} {rate}/s', hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.totalBytes ?? 0, 0, { value_h: '0 B', total_h: '', rate: '0 B' });
      }
      bar.update(e.bytes, { value_h: formatBytes(e.bytes), total_h: e.totalBytes ? `of ~${formatBytes(e.totalBytes)}` : '', rate: formatBytes(e.rateBps) });
      return;
    }
    if ((e.type === 'command' || e.type === 'plan') && !opts.verbose) return;
    stopBar();
    for (const line of formatEventLines(e)) out.write(`[ReleaseFlow] ${line}\n`);
  };
}

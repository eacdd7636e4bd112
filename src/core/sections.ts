// One round trip, many answers: a remote script prints each part between marker lines; parseSections splits them.
import { shQuote } from './quote.ts';

/** A script fragment that prints BODY's output as section NAME (with BODY's exit code), for parseSections. */
export function section(marker: string, name: string, body: string): string {
  const [m, n] = [shQuote(marker), shQuote(name)];
  return `printf '%s begin %s\\n' ${m} ${n}\n${body}\nprintf '\\n%s end %s %s\\n' ${m} ${n} $?`;
}

/** Split the script's output into its sections; anything before the first marker (a banner) is ignored. */
export function parseSections(stdout: string, marker: string): Map<string, { text: string; rc: number }> {
  const out = new Map<string, { text: string; rc: number }>();
  let name: string | undefined;
  let body: string[] = [];
  for (const line of stdout.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (!l.startsWith(`${marker} `)) {
      if (name !== undefined) body.push(l);
      continue;
    }
    const [, kind, sec, rc] = l.split(' ');
    if (kind === 'begin' && sec) {
      name = sec;
      body = [];
    } else if (kind === 'end' && sec !== undefined && sec === name) {
      out.set(sec, { text: body.join('\n'), rc: Number(rc ?? 1) });
      name = undefined;
    }
  }
  return out;
}

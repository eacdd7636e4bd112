// Pruning what earlier releases kept on the target: their previous containers and image tags (a pure builder).
import { shQuote } from './quote.ts';

/**
 * Keep the previous containers (`<name>-rf-prev-<release id>`) and the previous image tags (the
 * repository of `prevTag`) of the last `keep` releases; remove older ones. An image still in use is
 * never removed (`docker rmi` refuses it). Prints `rf-pruned removed NAME` and `rf-pruned untagged TAG`.
 */
export function buildPruneScript(name: string, prevTag: string, keep: number): string {
  const pattern = `^${name.replace(/\./g, '\\.')}-rf-prev-[0-9]{8}T[0-9]{6}Z$`;
  const repo = prevTag.split(':')[0]!;
  return [
    `docker ps -a --format '{{.Names}}' | grep -E ${shQuote(pattern)} | sort -r | tail -n +${keep + 1} | while read -r n; do docker rm "$n" >/dev/null && echo "rf-pruned removed $n"; done`,
    `docker images --format '{{.Repository}}:{{.Tag}}' ${shQuote(repo)} | sort -r | tail -n +${keep + 1} | while read -r t; do docker rmi "$t" >/dev/null 2>&1 && echo "rf-pruned untagged $t"; done`,
    'true',
  ].join('\n');
}

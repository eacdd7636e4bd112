// The no-drift checks of a compose release (pure script builders): what would a plain `up -d` recreate?
import { type ComposeCli, inProject } from './compose.ts';
import { shJoin, shQuote } from './quote.ts';

/** `docker` as the compose CLI runs it (with its `sudo -n`, when the host needs one). */
function dockerArgv(cli: ComposeCli): string[] {
  const at = cli.argv.findIndex((a) => a.startsWith('docker'));
  return [...cli.argv.slice(0, Math.max(0, at)), 'docker'];
}

/** The lines that report the outcome; `$bad` says whether a container would be recreated that must not be. */
function report(when: 'before' | 'after'): string[] {
  const fail =
    when === 'before'
      ? "the pinned files change it, but this release does not recreate it (does it read the .env as env_file, or were the project's files changed since its last up?)"
      : 'a plain up -d would recreate it';
  return [`if [ -n "$bad" ]; then printf 'drift: %s: %s\\n' "\${bad# }" ${shQuote(fail)} >&2; exit 1; fi`, `echo ${shQuote(when === 'before' ? 'no other service changes: a plain up -d would recreate only the released ones' : 'no drift: a plain up -d recreates nothing')}`];
}

/**
 * v2: `--dry-run up -d` (2.14+) reports what the operator's plain `up -d` would do. `config --hash` is
 * not enough there: on 2.26 it differs from the label of any service with an env_file, although `up`
 * leaves the service alone (measured: docs/compose.md).
 */
function dryRunCheck(cli: ComposeCli, project: string, released: readonly { container: string }[], when: 'before' | 'after'): string[] {
  const allowed = when === 'before' ? ` ${released.map((r) => r.container).join(' ')} ` : '  ';
  return [
    `out=$(${shJoin([...cli.argv, '-p', project, '--dry-run', 'up', '-d', '--no-build'])} 2>&1) || { printf '%s\\n' "$out" >&2; exit 1; }`,
    `allowed=${shQuote(allowed)}`,
    'bad=""',
    `for c in $(printf '%s\\n' "$out" | sed -n -E 's/.*Container ([^ ]+) +Recreate$/\\1/p'); do case "$allowed" in *" $c "*) ;; *) bad="$bad $c" ;; esac; done`,
    ...report(when),
  ];
}

/**
 * v1: the config-hash label of every container of the project (one-off `run` containers aside) against
 * `config --hash '*'`, which is what v1's `up` compares. A service without a hash (a profile not enabled)
 * is left out: a plain `up -d` does not touch it either. After `up`, the released ones must have one.
 */
function hashCheck(cli: ComposeCli, project: string, released: readonly { container: string; service: string }[], when: 'before' | 'after'): string[] {
  const ps = shJoin([
    ...dockerArgv(cli),
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    'label=com.docker.compose.oneoff=False',
    '--format',
    '{{.Names}} {{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.config-hash"}}',
  ]);
  return [
    `hashes=$(${shJoin([...cli.argv, '-p', project, 'config', '--hash', '*'])}) || exit 1`,
    `list=$(${ps}) || exit 1`,
    `mine=${shQuote(` ${released.map((r) => r.service).join(' ')} `)}`,
    'bad=""',
    'while read -r name svc label; do',
    '  [ -n "$name" ] || continue',
    `  h=$(printf '%s\\n' "$hashes" | awk -v s="$svc" 'NF == 2 && $1 == s { print $2 }')`,
    '  case "$mine" in *" $svc "*) rel=1 ;; *) rel=0 ;; esac',
    when === 'before' ? '  [ $rel = 0 ] && [ -n "$h" ] || continue' : '  [ $rel = 1 ] || [ -n "$h" ] || continue',
    '  [ -n "$h" ] && [ "$h" = "$label" ] || bad="$bad $name"',
    'done <<EOF',
    '$list',
    'EOF',
    ...report(when),
  ];
}

/**
 * `before` (files pinned, nothing recreated yet): only the released services may change; anything else
 * stops the release before a container is touched. `after` (after `up`): nothing may change at all.
 */
export function buildDriftCheckScript(cli: ComposeCli, workingDir: string, project: string, released: readonly { container: string; service: string }[], when: 'before' | 'after'): string {
  const body = cli.flavor === 'v2' ? dryRunCheck(cli, project, released, when) : hashCheck(cli, project, released, when);
  return [inProject(workingDir), ...body].join('\n');
}

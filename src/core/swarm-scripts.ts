// The remote scripts of the swarm target (pure builders): observe a manager, update a service and wait
// for swarm's own verdict (UpdateStatus and every task's image, never the CLI's exit code), and a
// node's health check of the tasks it runs. Facts: research/swarm-lab.md (Q5, Q6).
import { buildHttpProbeLines } from './health.ts';
import { shJoin, shQuote } from './quote.ts';
import { section } from './sections.ts';

/** One round trip on the manager: its swarm state, the services asked for, every node. */
export function buildSwarmObserveScript(services: readonly string[], marker: string): string {
  return [
    section(marker, 'swarm', `docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'`),
    section(marker, 'services', services.length ? `${shJoin(['docker', 'service', 'inspect', ...services])} 2>/dev/null` : 'echo "[]"'),
    section(marker, 'nodes', 'ids=$(docker node ls -q 2>/dev/null) && [ -n "$ids" ] && docker node inspect $ids'),
    // running/desired tasks per service (status, doctor): swarm's own count
    section(marker, 'replicas', `docker service ls --format '{{.Name}} {{.Replicas}}' 2>/dev/null`),
  ].join('\n');
}

/** The `docker service update` that pins a service to one image by ID: no registry contact, nothing else of the spec changed. */
export function serviceUpdateArgv(service: string, imageId: string, failureAction?: string): string[] {
  return ['docker', 'service', 'update', '--detach', '--quiet', '--image', imageId, '--no-resolve-image', ...(failureAction ? ['--update-failure-action', failureAction] : []), service];
}

export interface SwarmUpdate {
  service: string;
  imageId: string;
  /** Set the update's failure action too (releaseflow's `pause`, or the operator's own back on undo). */
  failureAction?: string;
  /** Tasks that must run the image at the end (replicas, or eligible nodes of a global service). */
  tasks: number;
  timeoutS: number;
}

/**
 * Update the service and wait until swarm says it is done: its spec names the image, every task that
 * should run is running that image, and the update (if one started) is `completed`. A `paused` or
 * rolled-back update fails at once with swarm's message. The status before the update is remembered:
 * a status left by an earlier update is never taken for this one's. An update that changes nothing
 * (an undo run twice: the guard, then recover) clears UpdateStatus: no status and every task on the
 * image is done.
 */
export function buildSwarmUpdateScript(u: SwarmUpdate): string {
  const svc = shQuote(u.service);
  const id = shQuote(u.imageId);
  const fmt = shQuote('{{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt}}{{end}}');
  return [
    `svc=${svc}; id=${id}; fmt=${fmt}; want=${u.tasks}`,
    'before=$(docker service inspect -f "$fmt" "$svc") || exit 1',
    `${shJoin(serviceUpdateArgv(u.service, u.imageId, u.failureAction))} >/dev/null || { echo "rf-swarm: docker service update $svc was refused"; exit 1; }`,
    `deadline=$(( $(date +%s) + ${u.timeoutS} )); last=`,
    'while :; do',
    '  now=$(docker service inspect -f "$fmt" "$svc") || exit 1; st=$(echo "$now" | cut -d " " -f 1); [ -n "$st" ] || st=none',
    `  spec=$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$svc")`,
    '  total=0; good=0',
    '  for t in $(docker service ps -q --filter desired-state=running "$svc"); do',
    `    total=$((total + 1)); line=$(docker inspect -f '{{.Status.State}} {{.Spec.ContainerSpec.Image}}' "$t" 2>/dev/null)`,
    '    [ "$line" = "running $id" ] && good=$((good + 1))',
    '  done',
    '  msg="$svc: update $st; $good of $want task(s) running $id"',
    '  [ "$msg" = "$last" ] || echo "rf-swarm: $msg"; last=$msg',
    '  if [ "$now" != "$before" ]; then',
    '    case $st in paused|rollback_paused|rollback_started|rollback_completed)',
    `      echo "rf-swarm: the update of $svc is $st: $(docker service inspect -f '{{.UpdateStatus.Message}}' "$svc")"; docker service ps --no-trunc "$svc" | head -n 12; exit 1;;`,
    '    esac',
    '  fi',
    '  done_=no; [ "$now" != "$before" ] && [ "$st" = completed ] && done_=yes',
    // an update that changes nothing clears UpdateStatus (null), even one in progress: no update runs then
    '  [ "$st" = none ] && done_=yes',
    '  [ "$now" = "$before" ] && [ "$st" != updating ] && [ "$st" != rollback_started ] && done_=yes',
    '  if [ "$spec" = "$id" ] && [ $done_ = yes ] && [ $total -ge $want ] && [ $good = $total ]; then echo "rf-swarm: $svc runs $id on all $good task(s)"; exit 0; fi',
    `  [ $(date +%s) -lt $deadline ] || { echo "rf-swarm: $svc not done after ${u.timeoutS}s: $msg"; docker service ps --no-trunc "$svc" | head -n 12; exit 1; }`,
    '  sleep 1',
    'done',
  ].join('\n');
}

/** Several services' update-and-wait scripts at once, each in a subshell of its own; fails when any of them fails. */
export function buildAtOnceScript(scripts: readonly string[]): string {
  if (scripts.length === 1) return scripts[0]!;
  return [
    ...scripts.map((x, i) => `(\n${x}\n) & rf_p${i}=$!`),
    `rf_rc=0; for rf_p in ${scripts.map((_, i) => `$rf_p${i}`).join(' ')}; do wait "$rf_p" || rf_rc=1; done; exit $rf_rc`,
  ].join('\n');
}

export interface TaskHealth {
  service: string;
  imageId: string;
  url?: string;
  timeoutS: number;
  intervalS: number;
}

/**
 * On one node: every task container of the service there that runs the image is running, healthy by
 * its Docker HEALTHCHECK (when it has one) and the URL answers from the node; `unhealthy` fails at once.
 * A node without a task of the service passes (the manager's wait counted the tasks).
 */
export function buildTaskHealthScript(h: TaskHealth): string {
  const url = h.url ? buildHttpProbeLines(h.url).join('\n') : 'echo http=ok';
  return [
    `svc=${shQuote(h.service)}; id=${shQuote(h.imageId)}; deadline=$(( $(date +%s) + ${h.timeoutS} )); last=`,
    'while :; do',
    '  why=; n=0',
    '  for c in $(docker ps -q --filter "label=com.docker.swarm.service.name=$svc"); do',
    `    set -- $(docker inspect -f '{{.Image}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c" 2>/dev/null)`,
    '    [ "$1" = "$id" ] || continue',
    '    n=$((n + 1))',
    '    case $3 in unhealthy) echo "rf-swarm: task container $c of $svc is unhealthy on $(hostname)"; exit 1;; healthy|none) ;; *) why="docker health of $c is $3";; esac',
    '    [ "$2" = running ] || why="task container $c is $2"',
    '  done',
    '  [ $n = 0 ] && { echo "rf-swarm: no task of $svc on $(hostname)"; exit 0; }',
    `  if [ -z "$why" ]; then h=$(${url}); case $h in http=ok*) ;; *) why="health URL: \${h#http=}";; esac; fi`,
    `  [ -z "$why" ] && { echo "rf-swarm: $n task(s) of $svc healthy on $(hostname)${h.url ? `, ${h.url.replace(/["$`\\]/g, '')} answered` : ''}"; exit 0; }`,
    '  [ "$why" = "$last" ] || echo "rf-swarm: $why"; last=$why',
    `  [ $(date +%s) -lt $deadline ] || { echo "rf-swarm: $svc not healthy on $(hostname) after ${h.timeoutS}s: $why"; exit 1; }`,
    `  sleep ${h.intervalS}`,
    'done',
  ].join('\n');
}

/** The spec of a service saved in the release folder before anything changes. */
export function buildSaveServiceScript(service: string, path: string): string {
  return `umask 077; docker service inspect ${shQuote(service)} >${shQuote(path)}`;
}

# shellcheck shell=bash
# lab/scenarios/swarm.sh - `lab.sh swarm [down]` and `lab.sh seed-swarm [vN]`: the PRODs as one Docker Swarm
# (the first PROD the manager, the others workers) and the app's backend as a 3-replica swarm service
# (sourced by lab/lab.sh). Facts behind every choice: /work/shared/research/swarm-lab.md
# (no IPVS on this kernel: no ingress mesh, no VIP; host-mode ports, images pinned by sha256 ID).

# the swarm state of a host: inactive, active, pending, error, locked
swarm_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
ipvs_available() { [[ -e /proc/net/ip_vs ]]; }

# lab.json's "swarm": the manager and the workers (null when the lab is not a swarm)
swarm_record() {
  local json=$LAB_DIR/lab.json value=${1:-null}
  [[ -f $json ]] || return 0
  jq --argjson s "$value" '.swarm = $s' "$json" >"$json.tmp" && mv "$json.tmp" "$json"
}

# lab.sh swarm: init on the first PROD, join the others as workers (idempotent), wait all Ready
cmd_swarm() {
  [[ ${1:-} != down ]] || { need_root swarm; require_up; lock; swarm_leave_all; swarm_record null; return 0; }
  local t0 m w tok state n ready deadline workers=()
  t0=$(now_ms)
  need_root swarm; require_up; two_hosts
  (( ${#DSTS[@]} >= 2 )) || die "swarm: needs a manager and at least one worker: LAB_HOSTS=\"test prod prod2 prod3\""
  lock
  ipvs_available || log "WARNING: this kernel has no IPVS (/proc/net/ip_vs missing): the ingress routing mesh and VIP endpoints cannot work; use --publish mode=host and --endpoint-mode dnsrr (docs/swarm.md)"
  m=${DSTS[0]}
  state=$(swarm_state "$m")
  if [[ $state != active ]]; then
    dk "$m" swarm init --advertise-addr "$(haddr "$m")" >/dev/null || die "swarm: docker swarm init on $m failed"
    log "swarm: initialised on $m ($(haddr "$m"))"
  fi
  tok=$(dk "$m" swarm join-token -q worker)
  for w in "${DSTS[@]:1}"; do
    workers+=("$w")
    state=$(swarm_state "$w")
    [[ $state == active ]] && continue
    [[ $state == inactive ]] || dk "$w" swarm leave --force >/dev/null 2>&1 || true
    dk "$w" swarm join --token "$tok" "$(haddr "$m"):2377" >/dev/null || die "swarm: $w could not join $m"
    log "swarm: $w joined as a worker"
  done
  n=${#DSTS[@]}
  deadline=$(( $(now_ms) + 60000 ))
  while :; do
    ready=$(dk "$m" node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
    (( ready >= n )) && break
    (( $(now_ms) < deadline )) || die "swarm: only $ready of $n nodes Ready after 60 s (docker node ls on $m)"
    sleep 0.3
  done
  swarm_record "$(jq -nc --arg m "$m" --argjson ipvs "$(ipvs_available && echo true || echo false)" '{manager: $m, workers: $ARGS.positional, ipvs: $ipvs}' --args "${workers[@]}")"
  log "swarm: $n nodes Ready (manager $m; workers ${workers[*]}) in $(secs "$t0")s"
  echo "swarm_seconds=$(secs "$t0")"
}

# every host leaves its swarm: workers first, then the manager (used by down too)
swarm_leave_all() {
  local h hs=($LAB_HOSTS) i
  for (( i = ${#hs[@]} - 1; i >= 0; i-- )); do
    h=${hs[i]}
    dockerd_pid "$h" >/dev/null || continue
    [[ $(swarm_state "$h") == inactive ]] && continue
    timeout 30 "$LAB_DOCKER" -H "unix://$(hdir "$h")/docker.sock" swarm leave --force >/dev/null 2>&1 || log "swarm: $h could not leave its swarm"
    log "swarm: $h left the swarm"
  done
}

# a clean start for a swarm scenario on every PROD: no app service or stack, no docker-run app container
# (the services own ports 8001 and 8080), no releaseflow state, and no image of the app but the refs to keep
swarm_clean() {
  local m=$1 h names other keep r title i; shift
  dk "$m" stack rm "$APP" >/dev/null 2>&1 || true
  dk "$m" service rm "$APP-backend" >/dev/null 2>&1 || true
  for h in "${DSTS[@]}"; do
    # the tasks of removed services stop on their own: wait for them, then remove the rest
    for (( i = 0; i < 100; i++ )); do
      [[ -z $(dk "$h" ps -q --filter label=com.docker.swarm.service.name) ]] && break
      sleep 0.2
    done
    names=$(dk "$h" ps -a --format '{{.Names}}' | grep "^$APP" || true)
    [[ -z $names ]] || dk "$h" rm -f $names >/dev/null
    host_sh "$h" 'rm -rf "'"$RF_STATE/$APP"'"'
    keep=""; for r in "$@"; do keep+=" $(image_id "$h" "$r")"; done
    for title in "$APP-backend" "$APP-frontend"; do
      for other in $(dk "$h" image ls -q --no-trunc --filter "label=org.opencontainers.image.title=$title" | sort -u); do
        [[ " $keep " == *" $other "* ]] || dk "$h" image rm -f "$other" >/dev/null 2>&1 || true
      done
    done
  done
}

# lab.sh seed-stack [vN]: backend and frontend as one stack `ragflowauth` (docker stack deploy
# --resolve-image never): services ragflowauth_backend (port 8001) and ragflowauth_frontend (port 8080),
# 3 replicas each, at most 1 per node, host-mode ports, dnsrr (no IPVS here), pinned by vN's sha256 IDs
# wait_tasks MANAGER SERVICE N DEADLINE_MS WHAT: until N tasks of SERVICE run, else die naming WHAT
wait_tasks() {
  local m=$1 svc=$2 want=$3 deadline=$4 what=$5 n
  while :; do
    n=$(dk "$m" service ps "$svc" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
    (( n >= want )) && return 0
    (( $(now_ms) < deadline )) || { dk "$m" service ps --no-trunc "$svc" >&2; die "$what: $svc has $n of $want tasks Running"; }
    sleep 0.3
  done
}

cmd_seed_stack() {
  local v=${1:-v1} t0 m h b f file deadline svc
  t0=$(now_ms)
  need_root seed-stack; require_up; two_hosts
  m=${DSTS[0]}
  [[ $(swarm_state "$m") == active ]] || die "seed-stack: $m is not a swarm manager: run lab.sh swarm first"
  b=$(image_id "$m" "$APP-backend:$v"); f=$(image_id "$m" "$APP-frontend:$v")
  [[ -n $b && -n $f ]] || die "seed-stack: $m lacks $APP-backend:$v or $APP-frontend:$v: run lab.sh images"
  lock
  swarm_clean "$m" "$APP-backend:$v" "$APP-frontend:$v"
  file=$LAB_DIR/stack.yml
  {
    echo 'version: "3.8"'
    echo 'services:'
    echo '  backend:'
    echo "    image: $b"
    echo '    hostname: "{{.Node.Hostname}}"'
    echo '    ports: [{ target: 8001, published: 8001, protocol: tcp, mode: host }]'
    echo '    deploy: &deploy'
    echo '      replicas: 3'
    echo '      endpoint_mode: dnsrr'
    echo '      placement: { max_replicas_per_node: 1 }'
    echo '      update_config: { parallelism: 1, delay: 1s, monitor: 2s, failure_action: pause, order: stop-first }'
    echo '  frontend:'
    echo "    image: $f"
    echo '    environment: [BACKEND_URL=http://backend:8001]'
    echo '    ports: [{ target: 8080, published: 8080, protocol: tcp, mode: host }]'
    echo '    deploy: *deploy'
  } >"$file"
  dk "$m" stack deploy --resolve-image never -c "$file" "$APP" >/dev/null || die "seed-stack: docker stack deploy failed"
  deadline=$(( $(now_ms) + ${LAB_SEED_TIMEOUT:-60} * 1000 ))
  for svc in "${APP}_backend" "${APP}_frontend"; do wait_tasks "$m" "$svc" 3 "$deadline" seed-stack; done
  for h in "${DSTS[@]}"; do
    until [[ $(host_http "$h" "http://$(haddr "$h"):8001/version") == "200 $v"* && $(host_http "$h" "http://$(haddr "$h"):8080/") == 200* ]]; do
      (( $(now_ms) < deadline )) || die "seed-stack: $h does not answer on 8001 and 8080"
      sleep 0.3
    done
  done
  log "seed-stack: stack $APP (${APP}_backend, ${APP}_frontend) runs $v with 3 tasks each on ${DSTS[*]} in $(secs "$t0")s"
  echo "seed_stack_seconds=$(secs "$t0")"
}

# lab.sh seed-swarm [vN]: the backend as swarm service $APP-backend on every PROD: 3 replicas (max 1 per
# node), host-mode port 8001, pinned by the full sha256 ID of backend vN (default v1), which every node
# has by the same ID (`lab.sh images` loads it with docker save | docker load). TEST keeps its docker run.
cmd_seed_swarm() {
  local v=${1:-v1} t0 m h id svc=$APP-backend deadline
  t0=$(now_ms)
  need_root seed-swarm; require_up; two_hosts
  m=${DSTS[0]}
  [[ $(swarm_state "$m") == active ]] || die "seed-swarm: $m is not a swarm manager: run lab.sh swarm first"
  id=$(image_id "$m" "$APP-backend:$v")
  [[ -n $id ]] || die "seed-swarm: $m lacks $APP-backend:$v: run lab.sh images"
  for h in "${DSTS[@]}"; do
    [[ $(image_id "$h" "$id") == "$id" ]] || die "seed-swarm: $h lacks image $id ($APP-backend:$v) by that ID: run lab.sh images"
  done
  lock
  swarm_clean "$m" "$APP-backend:$v" "$APP-frontend:$v"
  dk "$m" service create -q --detach --name "$svc" --replicas 3 --replicas-max-per-node 1 \
    --no-resolve-image --publish mode=host,target=8001,published=8001 --hostname '{{.Node.Hostname}}' \
    --update-parallelism 1 --update-delay 1s --update-monitor 2s --update-failure-action pause --update-order stop-first \
    --rollback-parallelism 1 --rollback-delay 1s --rollback-monitor 2s \
    --label team=auth "$id" >/dev/null || die "seed-swarm: docker service create $svc failed"
  deadline=$(( $(now_ms) + ${LAB_SEED_TIMEOUT:-60} * 1000 ))
  wait_tasks "$m" "$svc" 3 "$deadline" seed-swarm
  for h in "${DSTS[@]}"; do
    until [[ $(host_http "$h" "http://$(haddr "$h"):8001/version") == "200 $v"* ]]; do
      (( $(now_ms) < deadline )) || die "seed-swarm: $h:8001/version does not answer $v"
      sleep 0.3
    done
  done
  log "seed-swarm: $svc runs $v (${id:7:12}) with 3 tasks on ${DSTS[*]} in $(secs "$t0")s"
  echo "seed_swarm_seconds=$(secs "$t0")"
}

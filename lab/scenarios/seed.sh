# shellcheck shell=bash
# lab/scenarios/seed.sh - `lab.sh seed [vN]`: reset the demo. prod runs ragflowauth v1, test runs vN (default v2),
# each by plain `docker run`; returns once the apps answer inside the hosts (sourced by lab/lab.sh)

# the app containers of one host, started by plain `docker run` (no compose labels)
seed_host() {
  local h=$1 v=$2 role=$3 names
  names=$(dk "$h" ps -a --format '{{.Names}}' | grep "^$APP-" || true)
  [[ -z $names ]] || dk "$h" rm -f $names >/dev/null
  if [[ $role == prod ]]; then
    prune_prod_images "$h"
    dk "$h" image prune -f >/dev/null    # dangling previous images of earlier releases
  fi
  dk "$h" network inspect "$APP-net" >/dev/null 2>&1 || dk "$h" network create "$APP-net" >/dev/null
  dk "$h" volume inspect "$APP-data" >/dev/null 2>&1 || dk "$h" volume create "$APP-data" >/dev/null
  local vol; vol=$(dk "$h" volume inspect -f '{{.Mountpoint}}' "$APP-data")
  # host files, in the host's own mount namespace: the read-only config dir, the
  # volume's seed file (written once, so data kept across releases is observable),
  # and releaseflow's state of the app (history, lock, snapshots) reset with the containers
  host_sh "$h" '
    rm -rf "'"$RF_STATE/$APP"'"
    rm -f /opt/ragflowauth/docker-compose.yml /opt/ragflowauth/docker-compose.releaseflow.yml /opt/ragflowauth/.env
    mkdir -p /opt/ragflowauth/conf
    printf "# ragflowauth demo config on %s (bind-mounted read-only at /app/conf)\nmode=demo\nhost=%s\n" "$1" "$1" >/opt/ragflowauth/conf/app.conf
    [ -f "$2/seed.txt" ] || printf "ragflowauth seed data: written once by lab.sh seed\n" >"$2/seed.txt"' sh "$h" "$vol"
  local pw=s3cr3t-Pa55 extra=another-secret-value
  [[ $role == prod ]] || { pw=test-Pa55-$h; extra=test-secret-value; }
  if ! dk "$h" run -d --name "$APP-backend" \
      -p 8001:8001 \
      -v "$APP-data:/data" \
      -v /opt/ragflowauth/conf:/app/conf:ro \
      -e 'GREETING=hello "world" $HOME it'\''s' \
      -e "DB_PASSWORD=$pw" \
      -e "EXTRA_SECRET_NAME=$extra" \
      --network "$APP-net" --network-alias backend \
      --restart unless-stopped \
      -l team=auth -l 'note=a b' \
      --log-opt max-size=10m \
      --memory 256m \
      --hostname ragflow-backend \
      "$APP-backend:$v" >"$(hdir "$h")/seed.out" 2>&1; then
    cat "$(hdir "$h")/seed.out" >&2; die "$h: docker run $APP-backend:$v failed"
  fi
  if ! dk "$h" run -d --name "$APP-frontend" \
      -p 8080:8080 \
      -e BACKEND_URL=http://backend:8001 \
      --network "$APP-net" --network-alias frontend \
      --restart always \
      "$APP-frontend:$v" >"$(hdir "$h")/seed.out" 2>&1; then
    cat "$(hdir "$h")/seed.out" >&2; die "$h: docker run $APP-frontend:$v failed"
  fi
}

# wait until HOST's app at version V answers (deadline: LAB_SEED_TIMEOUT)
wait_app() {
  local h=$1 v=$2 deadline=$(( $(now_ms) + ${LAB_SEED_TIMEOUT:-60} * 1000 )) st c r fatal
  while :; do
    r="" fatal=""
    for c in backend frontend; do
      st=$(dk "$h" inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$APP-$c" 2>/dev/null || echo missing)
      if [[ $st != running* ]]; then
        r="$APP-$c is $st"
        if [[ $st == exited* || $st == dead* || $st == missing ]]; then fatal=1; fi
        break
      fi
      if [[ $c == frontend && $st != "running healthy" ]]; then r="$APP-frontend health: ${st#running }"; fi
    done
    if [[ -z $r ]]; then
      if [[ $(host_http "$h" http://127.0.0.1:8001/version) != "200 $v" ]]; then r="backend :8001/version is not $v"
      elif [[ $(host_http "$h" http://127.0.0.1:8080/health) != "200 ok" ]]; then r="frontend :8080/health is not ok"
      fi
    fi
    if [[ -z $r || -n $fatal ]] || (( $(now_ms) >= deadline )); then break; fi
    sleep 0.2
  done
  if [[ -n $r ]]; then
    log "$h: not ready: $r"
    dk "$h" ps -a >&2; dk "$h" logs --tail 20 "$APP-backend" >&2 || true
    return 1
  fi
  # /health: ok from v1 and v2; the v3 backend is the bad release and must NOT be healthy
  local health; health=$(host_http "$h" http://127.0.0.1:8001/health)
  if [[ $v == v3 ]]; then
    [[ $health != "200"* ]] || { log "$h: v3 /health answered 200, expected a failure"; return 1; }
    log "$h: v3 running; backend /health -> ${health%% *} (the bad release, as designed)"
  else
    [[ $health == "200 ok" ]] || { log "$h: backend /health -> $health"; return 1; }
  fi
}

cmd_seed() {
  local tv=${1:-v2} t0 p pids=() rc=0 h
  t0=$(now_ms)
  [[ " $VERSIONS " == *" $tv "* ]] || die "seed: version must be one of: $VERSIONS"
  need_root seed; require_up; two_hosts
  local d; for h in "$SRC:$tv" "${DSTS[@]/%/:v1}"; do
    [[ -n $(image_id "${h%:*}" "$APP-backend:${h#*:}") && -n $(image_id "${h%:*}" "$APP-frontend:${h#*:}") ]] ||
      { log "${h%:*}: app images ${h#*:} missing, running images first"; cmd_images >/dev/null; break; }
  done
  lock
  for d in "${DSTS[@]}"; do seed_host "$d" v1 prod & pids+=($!); done
  seed_host "$SRC" "$tv" test & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "seed failed"
  pids=()
  for d in "${DSTS[@]}"; do wait_app "$d" v1 & pids+=($!); done
  wait_app "$SRC" "$tv" & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "seed: apps did not become ready"
  local took; took=$(secs "$t0")
  log "seed done in ${took}s: ${DSTS[*]} on v1, $SRC on $tv"
  echo "seed_seconds=$took"
}

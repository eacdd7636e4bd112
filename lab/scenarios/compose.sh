# shellcheck shell=bash
# lab/scenarios/compose.sh - `lab.sh compose-v2 [off]` (docker compose v2 on every host) and
# `lab.sh seed-compose [--compose 1|2] [vN]` (prod runs v1 through a compose project) (sourced by lab/lab.sh)

# Compose v2 for the hosts: Debian 13 (trixie) ships docker-compose 2.26.1 (plugin + standalone
# symlink; needs only libc6 >= 2.34, which Debian 12 has). It is fetched with a private apt config
# from the machine's own Debian mirror (the system's apt sources and state are not touched) and
# cached outside LAB_DIR, so `down` keeps it and other labs reuse it.
COMPOSE_DEB_VERSION=${LAB_COMPOSE_DEB_VERSION:-2.26.1-4}
compose_cache() { echo "${LAB_CACHE:-/var/cache/releaseflow-lab}/compose-v2"; }
compose_bin() { echo "$(compose_cache)/x/usr/libexec/docker/cli-plugins/docker-compose"; }

# the private apt config and the mirror lookup are shared with the engine trees (lib/engines.sh: debian_fetch)
compose_fetch() {
  local C deb
  C=$(compose_cache)
  log "compose-v2: fetching docker-compose $COMPOSE_DEB_VERSION (trixie) with a private apt config"
  rm -rf "$C/dl"
  debian_fetch trixie "$C/dl" "docker-compose=$COMPOSE_DEB_VERSION"
  deb=$(ls "$C/dl"/docker-compose_"${COMPOSE_DEB_VERSION}"_*.deb | head -n 1)
  rm -rf "$C/x"; dpkg -x "$deb" "$C/x"
}

# lab.sh compose-v2 [off]: docker compose v2 on every host (their own ~/.docker/cli-plugins); prints the binary
cmd_compose_v2() {
  local action=${1:-on} bin h H v
  need_root compose-v2
  bin=$(compose_bin)
  if [[ $action == off ]]; then
    for h in $LAB_HOSTS; do rm -f "$(hdir "$h")/root/.docker/cli-plugins/docker-compose"; done
    log "compose-v2: removed from the hosts (they keep Debian's docker-compose v1)"; return 0
  fi
  [[ $action == on ]] || die "usage: lab.sh compose-v2 [on|off]"
  [[ -x $bin ]] || compose_fetch
  v=$("$bin" version --short 2>&1) || die "compose-v2: $bin does not run here: $v"
  if [[ -f $LAB_DIR/lab.env ]]; then
    local b e
    for h in $LAB_HOSTS; do
      H=$(hdir "$h"); [[ -d $H/root ]] || continue
      mkdir -p "$H/root/.docker/cli-plugins"
      # a fetched engine keeps the compose v2 of its own tree
      b=$bin; e=$(host_engine "$h"); [[ $e == 20.10 ]] || b=$(engine_tree "$e")/usr/libexec/docker/cli-plugins/docker-compose
      # a copy: the hosts see the machine's /var but the cache may be moved under a private dir
      cp -f "$b" "$H/root/.docker/cli-plugins/docker-compose.tmp" && mv -f "$H/root/.docker/cli-plugins/docker-compose.tmp" "$H/root/.docker/cli-plugins/docker-compose"
    done
    log "compose-v2: docker compose $v on $LAB_HOSTS"
  fi
  echo "LAB_COMPOSE_PLUGIN=$bin"
}

# The seed's compose file for prod (lab.sh seed-compose): the same settings as seed_host's docker run.
# Compose v1 needs a file format version (2.4 has every key used here); v2 warns about one, so it gets none.
compose_seed_file() {
  local version=""
  if [[ $1 == 1 ]]; then version='version: "2.4"'; fi
  render seed-compose.yml VERSION="$version" APP="$APP"
}

# lab.sh seed-compose [--compose 1|2] [vN]: like seed, but prod runs v1 through a compose project at
# /opt/ragflowauth/docker-compose.yml (+ .env with the secrets); test runs vN by docker run.
cmd_seed_compose() {
  local flavor="" tv=v2 cmd v
  while (( $# )); do
    case $1 in
      --compose) flavor=${2:-}; shift 2 || true ;;
      --compose=*) flavor=${1#*=}; shift ;;
      v[0-9]*) tv=$1; shift ;;
      *) die "usage: lab.sh seed-compose [--compose 1|2] [vN]" ;;
    esac
  done
  cmd_seed "$tv" >/dev/null
  two_hosts
  if [[ -z $flavor ]]; then
    if lab_ssh "$DST" docker compose version >/dev/null 2>&1; then flavor=2; else flavor=1; fi
  fi
  case $flavor in
    2) cmd="docker compose"
       lab_ssh "$DST" docker compose version >/dev/null 2>&1 || die "seed-compose: no docker compose v2 on $DST: run lab.sh compose-v2 first" ;;
    1) cmd="docker-compose"
       v=$(lab_ssh "$DST" docker-compose version --short 2>/dev/null) || die "seed-compose: no docker-compose (v1) on $DST (apt-get install docker-compose)"
       [[ $v == 1.* ]] || die "seed-compose: docker-compose on $DST is $v, not compose v1" ;;
    *) die "seed-compose: --compose must be 1 or 2" ;;
  esac
  compose_seed_file "$flavor" | lab_ssh "$DST" "cat > /opt/$APP/docker-compose.yml"
  printf 'DB_PASSWORD=s3cr3t-Pa55\nEXTRA_SECRET_NAME=another-secret-value\n' | lab_ssh "$DST" "umask 077 && cat > /opt/$APP/.env"
  lab_ssh "$DST" "docker rm -f $APP-backend $APP-frontend >/dev/null && cd /opt/$APP && $cmd up -d" >"$(hdir "$DST")/seed-compose.out" 2>&1 ||
    { cat "$(hdir "$DST")/seed-compose.out" >&2; die "seed-compose: $cmd up -d failed on $DST"; }
  wait_app "$DST" v1 || die "seed-compose: the compose project on $DST did not become ready"
  log "seed-compose done: $DST runs v1 by $cmd (/opt/$APP/docker-compose.yml), $SRC runs $tv by docker run"
  echo "seed_compose=$flavor"
}

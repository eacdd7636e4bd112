# shellcheck shell=bash
# lab/scenarios/fixtures.sh - `lab.sh fixtures [DIR]`: docker inspect JSON of the seeded lab for the unit tests
# (sourced by lab/lab.sh)

# inspect JSON of the seeded lab, read over ssh like releaseflow does, for unit-test fixtures
cmd_fixtures() {
  local dir=${1:-} repo tv
  repo=$(dirname "$(dirname "$SELF")")
  if [[ -z $dir ]]; then
    [[ -f $repo/package.json && $(basename "$(dirname "$SELF")") == lab ]] || die "usage: lab.sh fixtures DIR"
    dir=$repo/test/fixtures
  fi
  need_root fixtures; require_up; two_hosts
  tv=$(dk "$SRC" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$APP-backend" | sed -n 's/^APP_VERSION=//p')
  [[ -n $tv ]] || die "fixtures: seed first"
  mkdir -p "$dir"
  fx() { local f=$dir/$1 h=$2; shift 2; lab_ssh "$h" "$@" >"$f.tmp" && mv "$f.tmp" "$f" && log "wrote $f"; }
  fx "prod-backend-v1.inspect.json" "$DST" docker inspect "$APP-backend"
  fx "prod-frontend-v1.inspect.json" "$DST" docker inspect "$APP-frontend"
  fx "test-backend-$tv.inspect.json" "$SRC" docker inspect "$APP-backend"
  fx "test-frontend-$tv.inspect.json" "$SRC" docker inspect "$APP-frontend"
  fx "image-backend-v1.inspect.json" "$DST" docker image inspect "$APP-backend:v1"
  fx "image-backend-v2.inspect.json" "$SRC" docker image inspect "$APP-backend:v2"
  fx "image-frontend-v1.inspect.json" "$DST" docker image inspect "$APP-frontend:v1"
  fx "prod-network.inspect.json" "$DST" docker network inspect "$APP-net"
}

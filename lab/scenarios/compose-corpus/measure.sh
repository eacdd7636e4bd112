#!/bin/sh
# measure.sh CLI...: the measurements behind docs/compose.md's per-version table (issue 19).
# Runs ON a lab host (lab.sh ssh test sh -s -- 'docker compose' < measure.sh). For each project kind
# (depends_on list, condition service_healthy, env_file .env), recreate command and pin mechanism:
# release app (app:v1 -> app:v2) the way releaseflow would, then roll back, and after each print
# whether the other services kept their container IDs, whether every container's config-hash label
# equals `config --hash`, and whether the operator's plain `up -d` then recreated nothing.
set -u
CLI=${1:-docker compose}
docker tag ragflowauth-backend:v1 app:v1 && docker tag ragflowauth-backend:v2 app:v2 && docker tag ragflowauth-frontend:v1 db:1
v=$($CLI version --short)
tag=$(echo "$v" | cut -c1)
root=/tmp/measure-v$tag
rm -rf "$root"; mkdir -p "$root"

compose_file() { # kind
  echo 'version: "2.4"'
  echo 'services:'
  echo '  db:'
  echo '    image: db:1'
  [ "$1" = envfile ] && echo '    env_file: .env'
  echo '  app:'
  echo '    image: app:v1'
  [ "$1" = envfile ] && echo '    env_file: .env'
  case $1 in
    deps|envfile) printf '    depends_on: [db]\n' ;;
    healthy) printf '    depends_on:\n      db:\n        condition: service_healthy\n' ;;
  esac
  echo '  side:'
  echo '    image: db:1'
}
ids() { docker ps -a --filter "label=com.docker.compose.project=$1" --format '{{.Label "com.docker.compose.service"}}={{.ID}}' | sort | tr '\n' ' '; }
others() { ids "$1" | tr ' ' '\n' | grep -v '^app=' | tr '\n' ' '; }
hash_ok() { # all containers' labels equal config --hash
  for c in $(docker ps -aq --filter "label=com.docker.compose.project=$1"); do
    s=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$c")
    l=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' "$c")
    h=$($CLI config --hash "$s" 2>/dev/null | awk 'NF==2{print $2}')
    [ "$h" = "$l" ] || { printf 'no(%s)' "$s"; return; }
  done
  printf yes
}
recreate() { # cmd pin
  case $1 in nodeps) a='--no-deps' ;; deps) a='' ;; force) a='--no-deps --force-recreate' ;; esac
  if [ "$2" = cmdenv ]; then
    COMPOSE_FILE=docker-compose.yml:docker-compose.releaseflow.yml $CLI -p "$p" up -d $a --no-build app >/dev/null 2>&1
  else
    (unset COMPOSE_FILE; $CLI -p "$p" up -d $a --no-build app) >/dev/null 2>&1
  fi
}
check() { # label
  o1=$(others "$p"); hk=$(hash_ok "$p"); i1=$(ids "$p")
  $CLI up -d >/dev/null 2>&1; i2=$(ids "$p")
  img=$(docker inspect -f '{{.Config.Image}}' "$(docker ps -aq --filter "label=com.docker.compose.project=$p" --filter label=com.docker.compose.service=app)")
  kept=no; [ "$o0" = "$o1" ] && kept=yes
  noop=no; [ "$i1" = "$i2" ] && noop=yes
  printf '%s:others-kept=%s,hash=%s,plain-up-noop=%s,app=%s ' "$1" "$kept" "$hk" "$noop" "$img"
}
for kind in deps healthy envfile; do
  for cmd in nodeps deps force; do
    for pin in env override cmdenv; do
      [ "$pin" = cmdenv ] && [ "$cmd" != nodeps ] && continue
      p=m$tag$(echo "$kind$cmd$pin" | tr -dc a-z); d=$root/$p
      mkdir -p "$d"; cd "$d" || exit 1
      compose_file "$kind" >docker-compose.yml
      printf 'FOO=bar\n' >.env
      $CLI up -d >/dev/null 2>&1 || { echo "$v $kind $cmd $pin: first up failed"; continue; }
      o0=$(others "$p")
      printf 'version: "2.4"\nservices:\n  app:\n    image: app:v2\n' >pin.yml
      case $pin in
        env) cp .env env.orig; mv pin.yml docker-compose.releaseflow.yml; printf 'COMPOSE_FILE=docker-compose.yml:docker-compose.releaseflow.yml\n' >>.env ;;
        override) mv pin.yml docker-compose.override.yml ;;
        cmdenv) mv pin.yml docker-compose.releaseflow.yml ;;
      esac
      recreate "$cmd" "$pin"
      printf '%s %s %s %s | ' "$v" "$kind" "$cmd" "$pin"; check release
      # rollback: files back, recreate the same way
      case $pin in env) mv env.orig .env; rm -f docker-compose.releaseflow.yml ;; override) rm -f docker-compose.override.yml ;; cmdenv) rm -f docker-compose.releaseflow.yml ;; esac
      o0=$(others "$p")
      (unset COMPOSE_FILE; $CLI -p "$p" up -d $( [ "$cmd" = deps ] || echo --no-deps ) $( [ "$cmd" = force ] && echo --force-recreate ) --no-build app) >/dev/null 2>&1
      check rollback; echo
      $CLI -p "$p" down -t 1 >/dev/null 2>&1
    done
  done
done

# shellcheck shell=bash
# lab/lib/common.sh - logging, timing, root check, the lab lock and the template renderer (sourced by lab/lab.sh)

log() { printf '[lab %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (namespaces, mounts, dockerd): sudo bash $SELF ${1:-}"; }
lock() { exec 9>"$LAB_DIR/.lock"; flock -w 300 9 || die "lock busy ($LAB_DIR/.lock)"; }

# render NAME KEY=VALUE...: lab/templates/NAME on stdout with every @KEY@ replaced by VALUE (taken
# literally: no other expansion happens). A line that is only @KEY@ becomes VALUE (which may hold
# several lines), or is left out when VALUE is empty.
render() {
  local tpl=$TEMPLATES/$1 line kv k v; shift
  [[ -f $tpl ]] || die "missing template $tpl"
  while IFS= read -r line || [[ -n $line ]]; do
    for kv in "$@"; do
      k=${kv%%=*}; v=${kv#*=}
      if [[ $line == "@$k@" && -z $v ]]; then continue 2; fi
      line=${line//"@$k@"/"$v"}
    done
    printf '%s\n' "$line"
  done <"$tpl"
}

# shellcheck shell=bash
# lab/lib/common.sh - logging, timing, root check and the lab lock (sourced by lab/lab.sh)

log() { printf '[lab %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (namespaces, mounts, dockerd): sudo bash $SELF ${1:-}"; }
lock() { exec 9>"$LAB_DIR/.lock"; flock -w 300 9 || die "lock busy ($LAB_DIR/.lock)"; }

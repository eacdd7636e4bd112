# shellcheck shell=bash
# lab/lib/procs.sh - the lab's processes: pidfile checks, stopping, fds a daemon must not inherit (sourced by lab/lab.sh)

netns_ino() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }
proc_state() {  # one-letter state of a pid, empty if gone (bash builtins only: cheap in loops)
  local st
  { read -r st </proc/"$1"/stat; } 2>/dev/null || return 0
  st=${st##*) }; echo "${st%% *}"
}
# pid_ok PIDFILE EXE NETNS: pid from PIDFILE is alive, runs EXE and sits in our netns
pid_ok() {
  local pid st ino
  [[ -s $1 ]] || return 1
  pid=$(<"$1"); [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(proc_state "$pid"); [[ -n $st && $st != Z ]] || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$2" ]] || return 1
  ino=$(netns_ino "$3") || return 1
  [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "net:[$ino]" ]] || return 1
  echo "$pid"
}
gone() { local st; st=$(proc_state "$1"); [[ -z $st || $st == Z ]]; }
# stop_pid PID LABEL TIMEOUT: SIGTERM, wait, SIGKILL
stop_pid() {
  local pid=$1 what=$2 t=$(( $3 * 10 )) i
  gone "$pid" && return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < t; i++)); do gone "$pid" && { log "  stopped $what (pid $pid)"; return 0; }; sleep 0.1; done
  log "  $what (pid $pid) ignored SIGTERM for $3s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do gone "$pid" && return 0; sleep 0.1; done
  log "  WARNING: $what (pid $pid) still present"
}

# Daemons must not inherit the caller's fds (a CI log pipe held open by dockerd
# makes the CI step hang; our flock fd would keep the lab locked).
close_fds() {
  local fd
  for fd in $(ls /proc/$$/fd); do
    (( fd > 2 && fd != 255 )) && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

# shellcheck shell=bash
# lab/lib/hosts.sh - one host: its daemons (pids, start, wait, stop), and access to it: ssh, nsenter,
# docker on its admin socket, a shell in its mount namespace, HTTP from its netns (sourced by lab/lab.sh)

dockerd_pid() { pid_ok "$(hdir "$1")/dockerd.pid" "$(engine_dockerd "$(host_engine "$1")")" "$(nsof "$1")"; }
sshd_pid()    { pid_ok "$(hdir "$1")/sshd.pid" /usr/sbin/sshd "$(nsof "$1")"; }
any_pid()     { dockerd_pid "$1" || sshd_pid "$1"; }

declare -A BOOT_T0=()
host_start() {
  local h=$1 dp sp anchor ns p; ns=$(nsof "$1")
  dp=$(dockerd_pid "$h" || true); sp=$(sshd_pid "$h" || true)
  if [[ -n $dp && -n $sp ]]; then log "$h: already running (dockerd $dp, sshd $sp)"; return; fi
  BOOT_T0[$h]=$(now_ms)
  if [[ -z $dp && -z $sp ]]; then
    # processes in our netns without valid pidfiles: stale leftovers of an earlier run of ours
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      log "$h: stale process $p in $ns ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-50)), stopping it"
      stop_pid "$p" "stale $p" 10
    done
    log "$h: booting (new mount+uts namespace in netns $ns)"
    rm -f "$(hdir "$h")/dockerd.pid" "$(hdir "$h")/sshd.pid"
    nsenter --net="/run/netns/$ns" -- \
      unshare --mount --uts --propagation slave -- \
      env -i PATH="$SYS_PATH" LAB_DIR="$LAB_DIR" bash "$LAB_DIR/bin/lab.sh" __boot "$h" 9>&-
    return
  fi
  anchor=${dp:-$sp}
  [[ -z $dp ]] && { log "$h: dockerd missing, restarting it in the host's namespaces"; host_nsenter "$anchor" bash "$LAB_DIR/bin/lab.sh" __start "$h" dockerd; }
  [[ -z $sp ]] && { log "$h: sshd missing, restarting it in the host's namespaces"; host_nsenter "$anchor" bash "$LAB_DIR/bin/lab.sh" __start "$h" sshd; }
  return 0
}

host_nsenter() { local p=$1; shift; nsenter -t "$p" -n -m -u -- env -i PATH="$SYS_PATH" HOME=/root LANG=C.UTF-8 LAB_DIR="$LAB_DIR" "$@" 9>&-; }

wait_host() {
  local h=$1 H t0 n=$(( ${LAB_DOCKERD_TIMEOUT:-90} * 5 )) i v
  H=$(hdir "$h"); t0=${BOOT_T0[$h]:-$(now_ms)}
  for ((i = 0; i < n; i++)); do
    if v=$("$LAB_DOCKER" -H "unix://$H/docker.sock" version --format '{{.Server.Version}}' 2>/dev/null); then
      if [[ -n ${BOOT_T0[$h]:-} ]]; then log "$h: dockerd $v (engine $(host_engine "$h")) answering $(secs "$t0")s after start (pid $(dockerd_pid "$h"))"
      else log "$h: dockerd $v answering (pid $(dockerd_pid "$h"))"; fi
      break
    fi
    if (( i > 10 )) && ! dockerd_pid "$h" >/dev/null; then
      tail -n 15 "$H/dockerd.log" >&2; die "$h: dockerd exited, see $H/dockerd.log"
    fi
    sleep 0.2
  done
  (( i < n )) || { tail -n 15 "$H/dockerd.log" >&2; die "$h: dockerd not ready after ${LAB_DOCKERD_TIMEOUT:-90}s"; }
  for ((i = 0; i < 50; i++)); do sshd_pid "$h" >/dev/null && return 0; sleep 0.1; done
  tail -n 5 "$H/sshd.log" >&2; die "$h: sshd did not start, see $H/sshd.log"
}

lab_ssh() { ssh -F "$LAB_DIR/ssh_config" "$@"; }

# docker on a host's admin socket (no ssh)
dk() { local h=$1; shift; "$LAB_DOCKER" -H "unix://$(hdir "$h")/docker.sock" "$@"; }
require_up() {
  [[ -f $LAB_DIR/lab.env ]] || die "no lab in $LAB_DIR: run lab.sh up first"
  local h; for h in $LAB_HOSTS; do dockerd_pid "$h" >/dev/null || die "$h: dockerd is not running: run lab.sh up"; done
}
# SRC and DST: the first two hosts, for the scenarios
# shellcheck disable=SC2034
# SRC is the first host (TEST), DST the second (PROD); DSTS every host after the first (a fleet of PRODs)
two_hosts() { local hs=($LAB_HOSTS); (( ${#hs[@]} >= 2 )) || die "needs two hosts"; SRC=${hs[0]}; DST=${hs[1]}; DSTS=("${hs[@]:1}"); }
image_id() { dk "$1" image inspect -f '{{.Id}}' "$2" 2>/dev/null || true; }
# the image's layers (diffIDs): the same on every image store, unlike the Id (config digest on a
# classic store, manifest digest on the containerd store); empty when missing or incomplete
image_layers() { dk "$1" image inspect -f '{{json .RootFS.Layers}}' "$2" 2>/dev/null || true; }
# run a shell snippet in a host's mount namespace (its private /opt, /var/lib/releaseflow ...)
host_sh() { local h=$1 p; shift; p=$(any_pid "$h") || die "$h is not running"; nsenter -t "$p" -m -- sh -c "$@"; }

# HTTP from inside a host's network namespace: prints "CODE BODY" (CODE 000: no answer)
host_http() {
  local ns=/run/netns/$(nsof "$1") out
  if command -v curl >/dev/null; then
    out=$(nsenter --net="$ns" -- curl -s --max-time 2 -w '\n%{http_code}' "$2" 2>/dev/null) || true
    printf '%s %s' "${out##*$'\n'}" "${out%$'\n'*}"
  else
    local code body
    code=$(nsenter --net="$ns" -- /bin/busybox wget -S -O /dev/null -T 2 "$2" 2>&1 | sed -n 's|^ *HTTP/[0-9.]* \([0-9][0-9]*\).*|\1|p' | tail -n 1)
    body=$(nsenter --net="$ns" -- /bin/busybox wget -q -O - -T 2 "$2" 2>/dev/null) || true
    printf '%s %s' "${code:-000}" "$body"
  fi
}

# stop one host: its containers, dockerd, sshd, leftovers in its netns and cgroups; then its netns and state
host_down() {
  local h=$1 H ns p ids; H=$(hdir "$1"); ns=$(nsof "$1")
  if [[ -e /run/netns/$ns ]]; then
    if p=$(dockerd_pid "$h"); then
      ids=$(timeout 20 "$LAB_DOCKER" -H "unix://$H/docker.sock" ps -aq 2>/dev/null || true)
      # rm -f kills at once; a graceful daemon shutdown would wait shutdown-timeout per container
      [[ -z $ids ]] || timeout 60 "$LAB_DOCKER" -H "unix://$H/docker.sock" rm -f $ids >/dev/null 2>&1 || true
      stop_pid "$p" "$h dockerd" 20
    fi
    if p=$(sshd_pid "$h"); then stop_pid "$p" "$h sshd" 5; fi
    # whatever is still in OUR netns was started by our daemons (shims, docker-proxy, ssh sessions)
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      log "  leftover in $ns: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-60))"
      stop_pid "$p" "leftover $p" 3
    done
  fi
  # container processes sit in their own netns but in our cgroup parent
  local d
  for d in $(find /sys/fs/cgroup -maxdepth 2 -type d -name "$ns" 2>/dev/null); do
    for p in $(cat $(find "$d" -name cgroup.procs) 2>/dev/null | sort -u); do
      log "  leftover container process $p in cgroup $d"; stop_pid "$p" "container process $p" 3
    done
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || log "  WARNING: could not remove cgroup $d"
  done
  ip -n "$ns" link del eth0 2>/dev/null || true
  [[ -e /run/netns/$ns ]] && ip netns del "$ns"
  if [[ -d $H ]]; then
    # our daemons mount only inside their private mount ns; unmount anything that leaked anyway
    { findmnt -rn -o TARGET | grep -F "$H/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf "$H"
  fi
  log "$h: down"
}

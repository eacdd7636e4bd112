# shellcheck shell=bash
# lab/lib/lifecycle.sh - the host simulator's commands: up (packages, preflight, network, files, boot,
# checks), down, status, env, exec (sourced by lab/lab.sh)

busybox_static() { [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; }

# the one thing the lab installs by itself: the Debian packages it runs on
ensure_packages() {
  local missing=() c
  for c in dockerd ip; do command -v "$c" >/dev/null || missing+=("$c"); done
  [[ -x /usr/sbin/sshd ]] || missing+=(sshd)
  busybox_static || missing+=("busybox (static)")
  (( ${#missing[@]} == 0 )) && return 0
  log "missing: ${missing[*]}; installing: apt-get install -y docker.io openssh-server iproute2 busybox-static docker-compose"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install docker.io openssh-server iproute2 busybox-static docker-compose"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io openssh-server iproute2 busybox-static docker-compose >&2 ||
    die "apt-get install failed"
}

preflight() {
  need_root up
  ensure_packages
  local c; for c in ip nsenter unshare mountpoint setsid flock dockerd docker ssh ssh-keygen iptables; do
    command -v "$c" >/dev/null || die "missing command: $c"
  done
  [[ -x /usr/sbin/sshd ]] || die "missing /usr/sbin/sshd (apt-get install openssh-server)"
}

cmd_up() {
  local t0 h; t0=$(now_ms)
  preflight
  engines_preflight                      # unknown engine, a switch, a failed fetch: stop before any change
  if [[ ! -f $LAB_DIR/lab.env ]]; then   # a new lab: its names and subnet must be free
    if [[ -e /run/netns/$SW_NS ]] || ip link show "$ROOT_IF" >/dev/null 2>&1; then
      die "netns $SW_NS / link $ROOT_IF exist but $LAB_DIR holds no lab: another lab uses LAB_PREFIX=$LAB_PREFIX. Pick another LAB_PREFIX (and LAB_NET), or take that lab down with its own LAB_DIR"
    fi
    net_free
  fi
  mkdir -p "$LAB_DIR"; exec 9>"$LAB_DIR/.lock"; flock -w 300 9 || die "lock busy"
  # the mount point of the per-host state folder must exist on the machine; it stays
  # (never rmdir it: other labs' hosts may have their private copy mounted on it)
  [[ -d $RF_STATE ]] || { mkdir -p "$RF_STATE"; chmod 755 "$RF_STATE"; log "created $RF_STATE (mount point for the per-host copies)"; }
  lab_files
  net_up
  for h in $LAB_HOSTS; do host_net_up "$h"; host_files "$h"; done
  # config test in a throw-away mount ns: sshd -t insists on /run/sshd, which the
  # root namespace of a CI box (no systemd, no sshd service) usually lacks
  unshare --mount --propagation private -- sh -c 'mount -t tmpfs lab-run /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -t -f "$1"' \
    sh "$(hdir "${LAB_HOSTS%% *}")/sshd_config" || die "sshd config test failed"
  client_files
  for h in $LAB_HOSTS; do host_start "$h"; done     # hosts boot in parallel
  for h in $LAB_HOSTS; do wait_host "$h"; done
  local pids=() rc=0 p                             # end-to-end: ssh -> that host's dockerd
  for h in $LAB_HOSTS; do
    ( name=$(lab_ssh "$h" docker info --format '{{.Name}}') || die "$h: ssh check failed, see $(hdir "$h")/sshd.log"
      [[ $name == "$h" ]] || die "$h: ssh reached docker of '$name'" ) & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "ssh checks failed"
  write_tool_config
  local took; took=$(secs "$t0")
  log "up done in ${took}s"
  summary
  echo "up_seconds=$took"
}

summary() {
  local h a
  echo "lab: $LAB_DIR   subnet: $LAB_NET.0/24 (root namespace: $GW on $ROOT_IF)"
  for h in $LAB_HOSTS; do
    a=${ADDR[$h]}
    printf '%-6s %-15s ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes root@%s\n' \
      "$h" "$a" "$LAB_DIR/id_ed25519" "$LAB_DIR/known_hosts" "$a"
  done
  echo "short form: ssh -F $LAB_DIR/ssh_config ${LAB_HOSTS%% *} docker ps      env: . $LAB_DIR/env.sh"
  echo "no-ssh admin: docker -H unix://$(hdir "${LAB_HOSTS%% *}")/docker.sock ps"
}

cmd_env() {
  local h
  echo "export LAB_DIR=$LAB_DIR"
  echo "export LAB_SSH_KEY=$LAB_DIR/id_ed25519 LAB_KNOWN_HOSTS=$LAB_DIR/known_hosts LAB_SSH_CONFIG=$LAB_DIR/ssh_config"
  for h in $LAB_HOSTS; do
    echo "export LAB_ADDR_$(envname "$h")=${ADDR[$h]} LAB_DOCKER_$(envname "$h")=unix://$LAB_DIR/hosts/$h/docker.sock"
  done
  echo "export RELEASEFLOW_CONFIG=$LAB_DIR/releaseflow.yml"
  echo "# tools that exec plain 'ssh' (docker -H ssh://root@test, docker-compose) need: PATH=$LAB_DIR/bin:\$PATH"
}

cmd_down() {
  local t0 h all; t0=$(now_ms)
  need_root down
  # only what $LAB_DIR/lab.env names is ours: without it, the default prefix could be
  # another lab's, and its netns, processes and cgroups must not be touched
  if [[ ! -f $LAB_DIR/lab.env ]]; then
    [[ ! -d $LAB_DIR/hosts ]] || die "$LAB_DIR has host state but no lab.env: not touching anything; inspect it by hand"
    log "no lab in $LAB_DIR: nothing to do"; echo "down_seconds=$(secs "$t0")"; return 0
  fi
  exec 9>"$LAB_DIR/.lock"; flock -w 300 9 || die "lock busy"
  all=$LAB_HOSTS
  if [[ -d $LAB_DIR/hosts ]]; then
    for h in $(ls "$LAB_DIR/hosts"); do [[ " $all " == *" $h "* ]] || all+=" $h"; done
  fi
  LAB_HOSTS=$all
  swarm_leave_all   # workers first, then the manager (lab.sh swarm)
  local pids=() rc=0 p
  for h in $all; do host_down "$h" & pids+=($!); done     # hosts stop in parallel
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "some host did not go down cleanly; state kept in $LAB_DIR (run down again)"
  ip link del "$ROOT_IF" 2>/dev/null || true
  [[ -e /run/netns/$SW_NS ]] && ip netns del "$SW_NS"
  rm -rf "$LAB_DIR"
  local took; took=$(secs "$t0")
  log "down done in ${took}s"
  echo "down_seconds=$took"
}

cmd_status() {
  local h dp sp n
  [[ -f $LAB_DIR/lab.env ]] || { echo "lab: not up ($LAB_DIR)"; return 0; }
  summary
  for h in $LAB_HOSTS; do
    dp=$(dockerd_pid "$h" || echo -); sp=$(sshd_pid "$h" || echo -)
    n=$("$LAB_DOCKER" -H "unix://$(hdir "$h")/docker.sock" ps -q 2>/dev/null | wc -l || true)
    printf '%-6s dockerd=%s sshd=%s running_containers=%s\n' "$h" "$dp" "$sp" "$n"
    [[ $dp == - ]] || engine_status "$h"
    [[ $dp == - ]] || dk "$h" ps -a --format '{{.Names}}  {{.Image}}  {{.Status}}' 2>/dev/null | sed 's/^/       /' || true
  done
}

cmd_exec() {
  local h=$1 p; shift
  p=$(any_pid "$h") || die "$h is not running"
  trap - ERR
  host_nsenter "$p" "$@"
}

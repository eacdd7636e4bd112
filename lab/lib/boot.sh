# shellcheck shell=bash
# lab/lib/boot.sh - inside a host: what `lab.sh __boot` and `lab.sh __start` run in the host's
# namespaces (private /sys, /run, /root, /etc/hosts, per-host dirs; then dockerd and sshd) (sourced by lab/lab.sh)

# Runs as: nsenter --net=HOSTNS unshare --mount --uts --propagation slave lab.sh __boot HOST
# i.e. in the host's netns and in a NEW mount+UTS namespace that lives as long as
# dockerd/sshd do. Mounts made here never show up in the root namespace.
boot_inside() {
  local h=$1 H; H=$(hdir "$1")
  echo "$h" >/proc/sys/kernel/hostname
  # 1) a sysfs that shows THIS netns (/sys/class/net), keeping the cgroup mounts
  #    (plain `ip netns exec` remounts /sys and loses /sys/fs/cgroup ->
  #    dockerd: "Devices cgroup isn't mounted")
  if mountpoint -q /sys/fs/cgroup; then
    mkdir -p "$H/mnt/cgroup"
    if mount --rbind /sys/fs/cgroup "$H/mnt/cgroup" &&
       mount -t sysfs -o nosuid,nodev,noexec sysfs /sys; then
      mount --move "$H/mnt/cgroup" /sys/fs/cgroup || log "$h: WARNING: could not restore /sys/fs/cgroup"
    else
      log "$h: WARNING: keeping the root namespace's /sys"
    fi
  else
    mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || true
  fi
  # 2) private /run: /var/run/docker.sock, /run/docker (exec-root), /run/containerd
  #    (shim sockets), /run/sshd (privsep dir) are per host, and a system
  #    containerd at /run/containerd/containerd.sock is NOT picked up by dockerd
  local rc_target=""
  [[ -L /etc/resolv.conf ]] && rc_target=$(readlink -m /etc/resolv.conf)
  mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m lab-run /run
  mkdir -p -m 0755 /run/sshd /run/lock
  # 3) per-host /root (authorized_keys, ~/.docker, uploaded files), /etc/hosts, /etc/resolv.conf
  mount --bind "$H/root" /root
  mount --bind "$H/etc/hosts" /etc/hosts
  if [[ -n $rc_target && $rc_target == /run/* ]]; then
    mkdir -p "$(dirname "$rc_target")"; cp "$H/etc/resolv.conf" "$rc_target"
  else
    mount --bind "$H/etc/resolv.conf" "${rc_target:-/etc/resolv.conf}"
  fi
  # 3b) the host's docker CLI (the engine's) over the machine's docker binaries
  engine_cli_mount "$h"
  # 4) per-host /tmp, /srv, /opt ... (LAB_PRIVATE_DIRS): files a deploy tool drops on
  #    "test" must not appear on "prod". The lab state itself is re-bound at the same
  #    path when it lives below such a dir (dockerd keeps using its data-root there).
  local d state_hidden=""
  for d in $(private_dirs); do
    [[ -d $d && ! -L $d ]] || { log "$h: WARNING: private dir $d missing on the machine, shared instead"; continue; }
    [[ $LAB_DIR/ == "$d"/* ]] && state_hidden=$d
    if [[ -n $state_hidden && ! -d /run/lab-state ]]; then
      mkdir -p /run/lab-state; mount --bind "$LAB_DIR" /run/lab-state
    fi
    mkdir -p "$H/fs$d"; chmod --reference="$d" "$H/fs$d"
    mount --bind "$H/fs$d" "$d"
    if [[ $state_hidden == "$d" ]]; then
      mkdir -p "$LAB_DIR"; mount --bind /run/lab-state "$LAB_DIR"; umount /run/lab-state; rmdir /run/lab-state
      state_hidden=""
    fi
  done
  start_inside "$h" dockerd
  start_inside "$h" sshd
}

start_inside() {
  local h=$1 what=$2 H; H=$(hdir "$1")
  case $what in
    dockerd)
      echo "=== $(date -Is) dockerd start" >>"$H/dockerd.log"
      local e; e=$(host_engine "$h")
      echo "=== engine $e: $(engine_dockerd "$e")" >>"$H/dockerd.log"
      env -i PATH="$(engine_path "$e")" HOME=/root LANG=C.UTF-8 \
        setsid "$(engine_dockerd "$e")" --config-file "$H/daemon.json" >>"$H/dockerd.log" 2>&1 </dev/null &
      ;;
    sshd)
      env -i PATH="$SYS_PATH" LANG=C.UTF-8 /usr/sbin/sshd -f "$H/sshd_config" -E "$H/sshd.log" \
        </dev/null >>"$H/sshd.log" 2>&1
      ;;
  esac
}

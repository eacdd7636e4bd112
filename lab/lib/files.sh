# shellcheck shell=bash
# lab/lib/files.sh - the files the lab writes: $LAB_DIR/bin (the copy that runs inside the hosts), the
# client key, lab.env, each host's keys and configs, ssh_config, known_hosts, releaseflow.yml and lab.json.
# The config files come from lab/templates (sourced by lab/lab.sh)

lab_files() {
  local f
  mkdir -p "$LAB_DIR/bin"; chmod 755 "$LAB_DIR"
  # the copy that runs inside the hosts: the original may sit below a per-host private /tmp
  if [[ $SELF != "$LAB_DIR/bin/lab.sh" ]]; then
    install -m 755 "$SELF" "$LAB_DIR/bin/lab.sh"
    for f in "$HERE"/lib/*.sh "$HERE"/scenarios/*.sh "$TEMPLATES"/*; do
      install -D -m 644 "$f" "$LAB_DIR/bin/${f#"$HERE"/}"
    done
  fi
  [[ -f $LAB_DIR/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C "lab-client" -f "$LAB_DIR/id_ed25519"
  render lab.env LAB_HOSTS="$LAB_HOSTS" LAB_PREFIX="$LAB_PREFIX" LAB_NET="$LAB_NET" \
    LAB_PRIVATE_DIRS="$(private_dirs)" LAB_CACHE="$(lab_cache)" >"$LAB_DIR/lab.env"
}

host_files() {
  local h=$1 H; H=$(hdir "$1")
  # shellcheck disable=SC2153 # ADDR: set by load_config (lib/config.sh)
  local addr=${ADDR[$h]}
  mkdir -p "$H/root/.ssh" "$H/etc" "$H/mnt"
  chmod 700 "$H" "$H/root" "$H/root/.ssh"
  [[ -f $H/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "$h-hostkey" -f "$H/ssh_host_ed25519_key"
  install -m 600 "$LAB_DIR/id_ed25519.pub" "$H/root/.ssh/authorized_keys"
  engine_host_files "$h"
  if [[ -n ${LAB_COMPOSE_PLUGIN:-} ]]; then   # docker compose v2 for this host only (its own ~/.docker)
    [[ -x $LAB_COMPOSE_PLUGIN ]] || die "LAB_COMPOSE_PLUGIN=$LAB_COMPOSE_PLUGIN is not an executable"
    mkdir -p "$H/root/.docker/cli-plugins"
    # a copy, not a symlink: the source may sit below a per-host private dir (/tmp, /opt)
    ln -f "$(readlink -f "$LAB_COMPOSE_PLUGIN")" "$H/root/.docker/cli-plugins/docker-compose" 2>/dev/null ||
      cp -f "$(readlink -f "$LAB_COMPOSE_PLUGIN")" "$H/root/.docker/cli-plugins/docker-compose"
  fi
  local use_pam=no
  # With UsePAM no, OpenSSH refuses accounts whose password field starts with '!'
  [[ $(getent shadow root | cut -d: -f2) == '!'* ]] && use_pam=yes
  render sshd_config HOST="$h" ADDR="$addr" H="$H" USE_PAM="$use_pam" >"$H/sshd_config"
  local engine storage=""
  engine=$(engine_daemon_json "$h")
  [[ -z ${LAB_STORAGE_DRIVER:-} ]] || storage=$(printf '  "storage-driver": "%s",' "$LAB_STORAGE_DRIVER")
  render daemon.json ENGINE="$engine" H="$H" NETNS="$(nsof "$h")" STORAGE_DRIVER="$storage" >"$H/daemon.json"
  local o lines=""
  for o in $LAB_HOSTS; do lines+="${lines:+$'\n'}${ADDR[$o]} $o"; done
  render hosts GW="$GW" HOSTS="$lines" >"$H/etc/hosts"
  render resolv.conf HOST="$h" >"$H/etc/resolv.conf"
  local sock="$H/docker.sock"; (( ${#sock} < 100 )) || die "socket path too long (${#sock}): $sock; use a shorter LAB_DIR"
}

client_files() {
  local h addr pats="" entries=""
  : >"$LAB_DIR/known_hosts.tmp"
  for h in $LAB_HOSTS; do
    addr=${ADDR[$h]}; pats+=" $h $addr"
    printf '%s,%s %s\n' "$addr" "$h" "$(cut -d' ' -f1,2 "$(hdir "$h")/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts.tmp"
    entries+="${entries:+$'\n'}Host $h $addr"$'\n'"  HostName $addr"
  done
  mv "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
  render ssh_config LAB_DIR="$LAB_DIR" HOSTS="$entries" PATTERNS="$pats" >"$LAB_DIR/ssh_config"
  # PATH wrapper so tools that shell out to plain `ssh` (docker -H ssh://, docker-compose) use the lab config
  printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$LAB_DIR/ssh_config" >"$LAB_DIR/bin/ssh"
  chmod 755 "$LAB_DIR/bin/ssh"
  cmd_env >"$LAB_DIR/env.sh"
}

# $LAB_DIR/releaseflow.yml (a ready releaseflow config) and $LAB_DIR/lab.json (facts for tests)
write_tool_config() {
  local hosts=($LAB_HOSTS) h cfg=$LAB_DIR/releaseflow.yml entries="" entry
  for h in "${hosts[@]}"; do
    entry=$(render releaseflow-host.yml HOST="$h" ADDR="${ADDR[$h]}" LAB_DIR="$LAB_DIR")
    entries+="${entries:+$'\n'}$entry"
  done
  render releaseflow.yml LAB_DIR="$LAB_DIR" APP="$APP" HOSTS="$entries" FROM="${hosts[0]}" TO="${hosts[1]:-${hosts[0]}}" >"$cfg.tmp"
  mv "$cfg.tmp" "$cfg"
  local sep="" hj=""
  for h in "${hosts[@]}"; do
    hj+=$(printf '%s\n    "%s": {"address": "%s", "dockerSock": "unix://%s", "netns": "%s", "engine": "%s"}' \
      "$sep" "$h" "${ADDR[$h]}" "$(hdir "$h")/docker.sock" "$(nsof "$h")" "$(host_engine "$h")")
    sep=,
  done
  render lab.json LAB_DIR="$LAB_DIR" LAB_PREFIX="$LAB_PREFIX" LAB_NET="$LAB_NET" APP="$APP" HOSTS="$hj" \
    CONFIG="$cfg" RF_STATE="$RF_STATE" IPVS="$( [[ -e /proc/net/ip_vs ]] && echo true || echo false)" >"$LAB_DIR/lab.json.tmp"
  mv "$LAB_DIR/lab.json.tmp" "$LAB_DIR/lab.json"
}

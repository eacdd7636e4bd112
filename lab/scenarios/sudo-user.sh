# shellcheck shell=bash
# lab/scenarios/sudo-user.sh - `lab.sh sudo-user [HOST]`: a non-root SSH user that may run docker only through
# passwordless sudo (sourced by lab/lab.sh)

# lab.sh sudo-user [HOST]: the "deploy user" set-up of a server where the SSH user is not root and
# may run only docker as root, through `sudo -n` (releaseflow's hosts.<name>.sudo: true):
#  - user rfdeploy (machine-wide: the hosts share /etc/passwd and /home), key-only login with the
#    lab's key, NOT in the docker group (plain `docker` gets "permission denied" on the socket)
#  - /etc/sudoers.d/releaseflow-lab-rfdeploy: NOPASSWD for the docker binaries only (visudo-checked)
#  - HOST's own /var/lib/releaseflow (releaseflow's state folder, private per host) owned by rfdeploy,
#    as an operator would prepare it once: sudo install -d -o rfdeploy -m 0750 /var/lib/releaseflow
SUDO_USER_NAME=rfdeploy
SUDOERS_FILE=/etc/sudoers.d/releaseflow-lab-$SUDO_USER_NAME
cmd_sudo_user() {
  local h=${1:-} u=$SUDO_USER_NAME home pw bins="" b tmp t0 out
  t0=$(now_ms)
  need_root sudo-user; require_up; two_hosts
  h=${h:-$DST}
  [[ " $LAB_HOSTS " == *" $h "* ]] || die "sudo-user: unknown host '$h' (hosts: $LAB_HOSTS)"
  if ! command -v sudo >/dev/null || ! command -v visudo >/dev/null; then
    log "sudo-user: installing Debian's sudo (apt-get install -y sudo)"
    command -v apt-get >/dev/null || die "sudo-user: no sudo and no apt-get: install sudo"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >&2; } ||
      die "sudo-user: apt-get install sudo failed"
  fi
  lock
  # the user and the sudoers file are machine-wide: one lab at a time changes them
  mkdir -p /run/lock; exec 8>/run/lock/releaseflow-lab-sudo-user.lock; flock -w 60 8 || die "sudo-user: /run/lock/releaseflow-lab-sudo-user.lock busy"
  if ! getent passwd "$u" >/dev/null; then
    useradd --create-home --user-group --shell /bin/bash --comment "releaseflow lab deploy user" "$u"
    log "sudo-user: created user $u"
  fi
  # no password, but not a LOCKED account: without PAM, sshd refuses accounts whose hash starts with '!'
  pw=$(getent shadow "$u" | cut -d: -f2)
  [[ $pw != '!'* ]] || usermod -p '*' "$u"
  # docker only through sudo: never by group membership
  if id -nG "$u" | tr ' ' '\n' | grep -qx docker; then gpasswd -d "$u" docker >/dev/null; log "sudo-user: removed $u from group docker"; fi
  home=$(getent passwd "$u" | cut -d: -f6)
  [[ -d $home ]] || install -d -o "$u" -g "$u" -m 0750 "$home"
  chmod go-w "$home"   # sshd StrictModes
  install -d -o "$u" -g "$u" -m 0700 "$home/.ssh"
  touch "$home/.ssh/authorized_keys"
  # appended, not replaced: /home is shared, so another lab's key may be there too
  grep -qxF "$(cat "$LAB_DIR/id_ed25519.pub")" "$home/.ssh/authorized_keys" || cat "$LAB_DIR/id_ed25519.pub" >>"$home/.ssh/authorized_keys"
  chown "$u:$u" "$home/.ssh/authorized_keys"; chmod 600 "$home/.ssh/authorized_keys"
  # the docker CLIs sudo may resolve (its secure_path puts /usr/local/bin first), and nothing else
  for b in /usr/local/bin/docker /usr/bin/docker; do [[ -x $b ]] && bins+="${bins:+, }$b"; done
  [[ -n $bins ]] || die "sudo-user: no docker CLI in /usr/local/bin or /usr/bin"
  tmp=$(mktemp)
  render sudoers LAB_DIR="$LAB_DIR" USER="$u" BINS="$bins" >"$tmp"
  visudo -cq -f "$tmp" || { rm -f "$tmp"; die "sudo-user: visudo rejected the rule for $SUDOERS_FILE"; }
  install -m 0440 -o root -g root "$tmp" "$SUDOERS_FILE"; rm -f "$tmp"
  visudo -cq || die "sudo-user: visudo -c fails with $SUDOERS_FILE in place"
  # docker's data-root ($H/docker) must be reachable for the user's `df` (releaseflow's disk check), as
  # /var/lib/docker is on a real server: $H becomes traverse-only for others (up sets it back to 0700)
  chmod 0711 "$(hdir "$h")"
  # the state folder on that host (its private copy) belongs to the deploy user
  host_sh "$h" 'chown "$1:$1" /var/lib/releaseflow && chmod 0750 /var/lib/releaseflow' sh "$u"
  # proof, over ssh as the user: docker through sudo works; plain docker and any other sudo do not
  local ssh_u=(ssh -F "$LAB_DIR/ssh_config" -l "$u")
  out=$("${ssh_u[@]}" "$h" 'sudo -n docker version --format "{{.Server.Version}}"' 2>&1) ||
    die "sudo-user: $u@$h cannot run sudo -n docker: $out"
  if "${ssh_u[@]}" "$h" 'docker version --format "{{.Server.Version}}"' >/dev/null 2>&1; then die "sudo-user: $u@$h can use docker WITHOUT sudo"; fi
  if "${ssh_u[@]}" "$h" 'sudo -n true' >/dev/null 2>&1; then die "sudo-user: $u@$h may sudo more than docker"; fi
  "${ssh_u[@]}" "$h" 'test -w /var/lib/releaseflow' || die "sudo-user: $u@$h cannot write /var/lib/releaseflow"
  log "sudo-user: $u@$h (${ADDR[$h]}) runs docker $out only through sudo -n; owns $h's /var/lib/releaseflow ($(secs "$t0")s)"
  echo "sudo_user=$u"
  echo "sudo_host=$h"
}

#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: apt packages, npm packages. Idempotent and quick
# when everything is there. Used by `npm run demo` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  cat >&2 <<'MSG'
releaseflow set-up must run as root: the built-in lab creates network namespaces and starts
its own dockerd and sshd per simulated host, and installs Debian packages when missing.
Run it again as root, e.g.:  sudo npm run demo   (or: sudo npm test)
MSG
  exit 1
fi

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
{ [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v curl >/dev/null || need+=(curl)
command -v tar-split >/dev/null || need+=(tar-split)   # the lab TEST rebuilds only the missing layers with it, as an operator installs it on TEST
command -v visudo >/dev/null || need+=(sudo)   # lab.sh sudo-user: a non-root PROD user with docker through sudo
if [[ ${RELEASEFLOW_BROWSER:-1} == 1 ]]; then command -v chromium >/dev/null || need+=(chromium); fi
if ((${#need[@]})); then
  echo "[setup] installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -d node_modules/.bin || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[setup] installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# shellcheck shell=bash
# lab/lib/config.sh - the lab's settings (LAB_HOSTS, LAB_PREFIX, LAB_NET ... and what lab.env recorded),
# host names, addresses and paths (sourced by lab/lab.sh)

# SW_NS, ROOT_IF and GW are used by lib/network.sh and lib/lifecycle.sh
# shellcheck disable=SC2034
load_config() {
  # values recorded by the first `up` win, so `down`/`status` act on what exists
  if [[ -f $LAB_DIR/lab.env ]]; then
    # shellcheck disable=SC1091
    . "$LAB_DIR/lab.env"
    if [[ -n ${LAB_HOSTS_REQ:-} ]]; then
      local h; for h in $LAB_HOSTS_REQ; do [[ " $LAB_HOSTS " == *" $h "* ]] || LAB_HOSTS+=" $h"; done
    fi
  fi
  LAB_HOSTS=${LAB_HOSTS:-${LAB_HOSTS_REQ:-test prod}}
  LAB_PREFIX=${LAB_PREFIX:-${LAB_PREFIX_REQ:-rfl}}
  LAB_NET=${LAB_NET:-${LAB_NET_REQ:-10.213.7}}
  [[ -z ${LAB_PREFIX_REQ:-} || $LAB_PREFIX_REQ == "$LAB_PREFIX" ]] || die "lab in $LAB_DIR uses LAB_PREFIX=$LAB_PREFIX; run down first"
  [[ -z ${LAB_NET_REQ:-} || $LAB_NET_REQ == "$LAB_NET" ]] || die "lab in $LAB_DIR uses LAB_NET=$LAB_NET; run down first"
  [[ $LAB_DIR =~ ^/[A-Za-z0-9._/-]+$ && $LAB_DIR != / ]] || die "LAB_DIR must be an absolute path without spaces"
  [[ $LAB_PREFIX =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "LAB_PREFIX must match [a-z][a-z0-9]{0,7}"
  [[ $LAB_NET =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || die "LAB_NET must look like 10.213.7"
  local h; for h in $LAB_HOSTS; do
    [[ $h =~ ^[a-z][a-z0-9-]{0,11}$ && $h != sw ]] || die "bad host name '$h' ([a-z][a-z0-9-]{0,11}, not 'sw')"
  done
  local i=11; for h in $LAB_HOSTS; do ADDR[$h]=$LAB_NET.$i; i=$((i + 1)); done
  SW_NS=$LAB_PREFIX-sw          # "switch" namespace holding the bridge
  ROOT_IF=${LAB_PREFIX}0        # root-namespace end of the uplink veth
  GW=$LAB_NET.1
  # Debian's CLI (20.10, same as the daemons) when present: its `docker build` is the
  # classic builder without warnings; CLI 23+ needs DOCKER_BUILDKIT=0 without buildx
  if [[ -z ${LAB_DOCKER:-} ]]; then
    if [[ -x /usr/bin/docker ]]; then LAB_DOCKER=/usr/bin/docker; else LAB_DOCKER=$(command -v docker || echo docker); fi
  fi
}
LAB_HOSTS_REQ=${LAB_HOSTS:-}; LAB_PREFIX_REQ=${LAB_PREFIX:-}; LAB_NET_REQ=${LAB_NET:-}
unset LAB_HOSTS LAB_PREFIX LAB_NET

hdir()  { echo "$LAB_DIR/hosts/$1"; }
nsof()  { echo "$LAB_PREFIX-$1"; }
declare -A ADDR=()
haddr() { [[ -n ${ADDR[$1]:-} ]] || die "unknown host $1"; echo "${ADDR[$1]}"; }
envname() { local u=${1^^}; echo "${u//-/_}"; }

# per-host private dirs: the setting plus releaseflow's state folder, always
private_dirs() {
  local d out=""
  for d in ${LAB_PRIVATE_DIRS-/tmp /srv /opt}; do [[ " $out " == *" $d "* ]] || out+=" $d"; done
  [[ " $out " == *" $RF_STATE "* ]] || out+=" $RF_STATE"
  echo "${out# }"
}

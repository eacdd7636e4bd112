# shellcheck shell=bash
# lab/lib/engines.sh - the Docker engine of each lab host (sourced by lab/lab.sh; needs its log/die/lock helpers)
#
# Engines (LAB_ENGINE for every host, LAB_ENGINE_<HOST> for one, e.g. LAB_ENGINE_PROD=28.5-containerd):
#   20.10             the machine's own Debian 12 docker.io (/usr/sbin/dockerd): the default, as before
#   <tree>            a row of ENGINE_TABLE below, classic store (overlay2)
#   <tree>-containerd the same tree with the containerd image store ("features": {"containerd-snapshotter": true})
#
# Trees are fetched from Debian with `apt-get download` through a private apt config (own sources,
# lists and cache under $LAB_CACHE/apt/<suite>; the URI is the machine's own Debian mirror; /etc/apt,
# the system's apt state and its docker.io are never touched), unpacked with `dpkg-deb -x` into
# $LAB_CACHE/engines/<tree> and reused by every later run and every lab.
#
# To add an engine (e.g. 29.x once Debian carries it): add a row. Columns:
#   tree     name of the engine (and of its cache folder)
#   suite    Debian suite to download from
#   version  what `dockerd --version` must start with (a moved suite fails loudly instead of
#            silently giving another engine); pin with pkg=version in the package list if needed
#   packages everything unpacked into the tree: dockerd+docker-proxy (docker.io), the CLI
#            (docker-cli), containerd + shim + ctr, compose v2 (docker-compose), docker-init (tini)
# The suites' runc needs glibc 2.38 (Debian 12 has 2.36): it is not fetched, and a runc found in a
# tree is moved out of it (dockerd runs the runc next to its own binary before PATH); the hosts
# use the machine's /usr/sbin/runc (bookworm 1.1.5).
ENGINE_TABLE='
26.1  trixie  26.1.  docker.io docker-cli containerd docker-compose tini
28.5  sid     28.5.  docker.io docker-cli containerd docker-compose tini-static
'
# binaries every tree must have (relative to the tree)
ENGINE_FILES='usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr usr/bin/tini-static usr/libexec/docker/cli-plugins/docker-compose'

lab_cache() { realpath -m "${LAB_CACHE:-/var/cache/releaseflow-lab}"; }

# the URI of the machine's own Debian archive (not -security, not third-party), from its apt sources
debian_mirror() {
  local codename uri
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || return 0
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v cn="$codename" '
    function done_() { if (u != "" && (" " s " ") ~ (" " cn " ") && u !~ /security/) { print u; found = 1; exit } u = ""; s = "" }
    /^[ \t]*$/ { done_(); next }
    tolower($1) == "uris:" { u = $2 }
    tolower($1) == "suites:" { $1 = ""; s = $0 }
    END { if (!found) done_() }')
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -E 's/\[[^]]*\]//' |
      awk -v cn="$codename" '$1 == "deb" && $3 == cn && $2 !~ /security/ { print $2; exit }')
  fi
  echo "$uri"
}

# debian_fetch SUITE DIR PKG[=VER]...: the .debs of PKG from Debian SUITE into DIR (no dependencies),
# through a private apt config in $LAB_CACHE/apt/SUITE. Lists older than a day are refreshed.
# Used by `compose-v2` (trixie's docker-compose) and by the engine trees.
debian_fetch() {
  local suite=$1 dir=$2 A mirror O log; shift 2
  A=$(lab_cache)/apt/$suite
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || die "no Debian apt source for this release in /etc/apt/sources.list{,.d}: cannot fetch $* from $suite"
  mkdir -p "$A/parts" "$A/lists/partial" "$A/cache/archives/partial" "$dir"
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" >"$A/parts/$suite.sources"
  O=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts" -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
     -o APT::Sandbox::User=root)
  log=$A/apt.log
  (
    flock -w 600 7 || die "$A/.lock busy"
    if [[ -z $(find "$A/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null) ]]; then
      log "apt ($suite, private config in $A): update from $mirror"
      apt-get "${O[@]}" -q update >"$log" 2>&1 || { tail -n 5 "$log" >&2; die "apt-get update ($suite list) failed, see $log"; }
    fi
    log "apt ($suite): download $*"
    ( cd "$dir" && apt-get "${O[@]}" -q download "$@" ) >>"$log" 2>&1 ||
      { tail -n 5 "$log" >&2; die "apt-get download $* ($suite) failed, see $log"; }
  ) 7>"$A.lock"
}

# ----------------------------------------------------------- engine names ---
engine_tree_name() { echo "${1%-containerd}"; }
engine_tree() { echo "$(lab_cache)/engines/$(engine_tree_name "$1")"; }
engine_row() { awk -v t="$1" '$1 == t' <<<"$ENGINE_TABLE"; }
engine_names() { echo 20.10; awk 'NF { print $1; print $1 "-containerd" }' <<<"$ENGINE_TABLE"; }
engine_valid() { [[ $1 == 20.10 ]] || [[ -n $(engine_row "$(engine_tree_name "$1")") ]]; }
engine_snapshotter() { [[ $1 == *-containerd ]] && echo true || echo false; }

# what a host is asked to run: LAB_ENGINE_<HOST>, else LAB_ENGINE (empty: nothing asked)
engine_req() { local v; v="LAB_ENGINE_$(envname "$1")"; echo "${!v:-${LAB_ENGINE:-}}"; }
# what a host runs: recorded by `up` in hosts/<h>/engine; before that, what is asked (default 20.10)
host_engine() {
  local f; f=$(hdir "$1")/engine
  if [[ -s $f ]]; then cat "$f"; else local r; r=$(engine_req "$1"); echo "${r:-20.10}"; fi
}
# the dockerd binary of an engine (pid checks compare /proc/<pid>/exe with it)
engine_dockerd() { if [[ $1 == 20.10 ]]; then command -v dockerd; else echo "$(engine_tree "$1")/usr/sbin/dockerd"; fi; }
# PATH dockerd starts with: the tree's usr/bin first, so the managed containerd and the shim are the
# engine's (not bookworm's 1.6); NOT its usr/sbin (runc comes from the machine's /usr/sbin)
engine_path() { if [[ $1 == 20.10 ]]; then echo "$SYS_PATH"; else echo "$(engine_tree "$1")/usr/bin:$SYS_PATH"; fi; }

# the docker CLI ssh sessions on a host see: LAB_CLI_<HOST>, else LAB_CLI, else "engine" for a fetched
# engine and "system" for 20.10 (the machine's own docker, as before). A path names a docker binary.
cli_req() { local v; v="LAB_CLI_$(envname "$1")"; echo "${!v:-${LAB_CLI:-}}"; }
host_cli() {  # prints the binary to bind over the machine's docker in the host, or nothing (system)
  local e c; e=$(host_engine "$1")
  c=$(cat "$(hdir "$1")/cli" 2>/dev/null || true)
  [[ -n $c ]] || c=$(cli_req "$1")
  [[ -n $c ]] || { [[ $e == 20.10 ]] && c=system || c=engine; }
  case $c in
    system) ;;
    engine) [[ $e == 20.10 ]] || echo "$(engine_tree "$e")/usr/bin/docker" ;;
    /*) echo "$c" ;;
    *) die "LAB_CLI must be engine, system or an absolute path to a docker binary (got '$c')" ;;
  esac
}

# ------------------------------------------------------------- the trees ---
# engine_ensure ENGINE: the engine's tree in the cache (fetched and unpacked the first time)
engine_ensure() {
  local e=$1 t T row suite want pkgs C dl tmp f v t0
  [[ $e == 20.10 ]] && return 0
  engine_valid "$e" || die "unknown engine '$e' (known: $(engine_names | tr '\n' ' '))"
  t=$(engine_tree_name "$e"); T=$(engine_tree "$e")
  [[ -f $T/.complete ]] && return 0
  command -v dpkg-deb >/dev/null && command -v apt-get >/dev/null || die "engine $t: needs apt-get and dpkg-deb"
  C=$(lab_cache)/engines; mkdir -p "$C"
  (
    flock -w 900 6 || die "engine $t: $C/.lock-$t busy"
    [[ -f $T/.complete ]] && exit 0        # fetched by another lab meanwhile
    t0=$(now_ms)
    row=$(engine_row "$t"); read -r _ suite want pkgs <<<"$row"
    dl=$C/debs/$t; rm -rf "$dl"
    # shellcheck disable=SC2086
    debian_fetch "$suite" "$dl" $pkgs
    tmp=$C/.tmp-$t.$$; rm -rf "$tmp"
    for f in "$dl"/*.deb; do dpkg-deb -x "$f" "$tmp" || die "engine $t: dpkg-deb -x $f failed"; done
    if [[ -e $tmp/usr/sbin/runc ]]; then mkdir -p "$tmp/unusable-glibc2.38"; mv "$tmp/usr/sbin/runc" "$tmp/unusable-glibc2.38/"; fi
    for f in $ENGINE_FILES; do [[ -x $tmp/$f ]] || die "engine $t: $f missing after unpacking $pkgs from $suite"; done
    v=$("$tmp/usr/sbin/dockerd" --version 2>&1) || die "engine $t: dockerd does not run here: $v"
    [[ $v == "Docker version $want"* ]] ||
      die "engine $t: Debian $suite now carries '$v', not $want*: pin the packages (pkg=version) or add a row to ENGINE_TABLE in lab/lib/engines.sh"
    {
      echo "engine=$t suite=$suite fetched=$(date -u +%FT%TZ)"
      echo "dockerd: $v"
      echo "containerd: $("$tmp/usr/bin/containerd" --version 2>&1)"
      echo "cli: $("$tmp/usr/bin/docker" --version 2>&1)"
      echo "compose: $("$tmp/usr/libexec/docker/cli-plugins/docker-compose" version 2>&1)"
      for f in "$dl"/*.deb; do echo "deb: ${f##*/}"; done
    } >"$tmp/ENGINE"
    rm -rf "$T"; mv "$tmp" "$T"; touch "$T/.complete"
    log "engine $t: fetched from $suite and unpacked into $T in $(secs "$t0")s ($v)"
  ) 6>"$C/.lock-$t"
}

# before `up` changes anything: every host's engine is known and in the cache, and no running host is asked to switch
engines_preflight() {
  local h e had
  for h in $LAB_HOSTS; do
    e=$(engine_req "$h"); had=$(cat "$(hdir "$h")/engine" 2>/dev/null || true)
    [[ -z $e || -z $had || $e == "$had" ]] || die "$h runs engine $had; to switch it to $e run lab.sh down first (or leave LAB_ENGINE unset)"
    e=${had:-${e:-20.10}}
    engine_valid "$e" || die "$h: unknown engine '$e' (known: $(engine_names | tr '\n' ' '))"
    engine_ensure "$e"
  done
}

# engine_daemon_json HOST: the daemon.json lines that depend on the host's engine
engine_daemon_json() {
  local h=$1 e T H; e=$(host_engine "$h"); H=$(hdir "$h")
  if [[ $e == 20.10 ]]; then
    printf '  "data-root": "%s",\n' "$H/docker"
    printf '  "deprecated-key-path": "%s",\n' "$H/key.json"
    return
  fi
  T=$(engine_tree "$e")
  printf '  "data-root": "%s",\n' "$H/docker-$e"     # one per engine: a data-root is not shared across versions
  printf '  "userland-proxy-path": "%s",\n' "$T/usr/sbin/docker-proxy"
  printf '  "init-path": "%s",\n' "$T/usr/bin/tini-static"
  printf '  "features": {"containerd-snapshotter": %s},\n' "$(engine_snapshotter "$e")"
}

# engine_host_files HOST: record the host's engine and CLI, put the engine's compose v2 in its ~/.docker
engine_host_files() {
  local h=$1 H e req cli had; H=$(hdir "$h")
  req=$(engine_req "$h")
  if [[ -s $H/engine ]]; then
    had=$(cat "$H/engine")
    [[ -z $req || $req == "$had" ]] ||
      die "$h runs engine $had; to switch it to $req run lab.sh down first (or leave LAB_ENGINE unset)"
  fi
  e=${had:-${req:-20.10}}
  engine_valid "$e" || die "$h: unknown engine '$e' (known: $(engine_names | tr '\n' ' '))"
  engine_ensure "$e"
  echo "$e" >"$H/engine"
  cli=$(cli_req "$h"); [[ -s $H/cli ]] || echo "${cli:-}" >"$H/cli"
  [[ -z $(host_cli "$h") || -x $(host_cli "$h") ]] || die "$h: docker CLI $(host_cli "$h") is not an executable"
  if [[ $e != 20.10 && -z ${LAB_COMPOSE_PLUGIN:-} ]]; then
    local src=$(engine_tree "$e")/usr/libexec/docker/cli-plugins/docker-compose dst=$H/root/.docker/cli-plugins/docker-compose
    mkdir -p "${dst%/*}"
    cmp -s "$src" "$dst" || cp -f "$src" "$dst"   # a copy: /root is per host, the cache is the machine's
  fi
}

# inside the host's new mount namespace (boot): the host's docker CLI over the machine's docker binaries
# (a bind mount in the host's private mount namespace: every session there, ssh, sudo's secure_path,
# login shells that reset PATH, sees it; the machine and the other hosts keep theirs)
engine_cli_mount() {
  local h=$1 cli t; cli=$(host_cli "$h")
  [[ -n $cli ]] || return 0
  for t in /usr/local/bin/docker /usr/bin/docker; do
    [[ -e $t ]] || continue
    mount --bind "$cli" "$t" || log "$h: WARNING: could not bind $cli over $t"
  done
}

# one line per host for `lab.sh status`
engine_status() {
  local h=$1 e sv cv comp comp1 store
  e=$(host_engine "$h")
  sv=$(dk "$h" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo '?')
  cv=$(lab_ssh "$h" 'docker version --format "{{.Client.Version}} (API {{.Client.APIVersion}}) $(command -v docker)"' 2>/dev/null || echo '?')
  comp=$(lab_ssh "$h" docker compose version --short 2>/dev/null || echo -)
  comp1=$(lab_ssh "$h" docker-compose version --short 2>/dev/null || echo -)
  store=$(dk "$h" info --format '{{.Driver}} {{json .DriverStatus}}' 2>/dev/null || echo '?')
  printf '       engine=%s dockerd=%s\n' "$e" "$sv"
  printf '       cli(ssh)=%s compose-v2=%s docker-compose=%s\n' "$cv" "$comp" "$comp1"
  printf '       store=%s%s\n' "$store" "$([[ $store == *io.containerd.snapshotter.v1* ]] && echo ' (containerd image store)')"
}

# lab.sh engines [fetch ENGINE...]: the known engines and what the cache holds; `fetch` gets trees ahead of `up`
cmd_engines() {
  local e T t0
  if [[ ${1:-} == fetch ]]; then
    shift; (( $# )) || set -- $(awk 'NF { print $1 }' <<<"$ENGINE_TABLE")
    for e in "$@"; do
      t0=$(now_ms); engine_ensure "$e"
      log "engine $e ready in $(engine_tree "$e") ($(secs "$t0")s)"
    done
    return
  fi
  [[ -z ${1:-} ]] || die "usage: lab.sh engines [fetch [ENGINE...]]"
  for e in $(engine_names); do
    if [[ $e == 20.10 ]]; then printf '%-18s %s\n' "$e" "the machine's $(dockerd --version 2>/dev/null || echo 'dockerd: missing')"; continue; fi
    T=$(engine_tree "$e")
    if [[ -f $T/.complete ]]; then printf '%-18s %s (%s)\n' "$e" "$(sed -n 's/^dockerd: //p' "$T/ENGINE")" "$T"
    else printf '%-18s not fetched (Debian %s; lab.sh engines fetch %s)\n' "$e" "$(engine_row "$(engine_tree_name "$e")" | awk '{ print $2 }')" "$(engine_tree_name "$e")"; fi
  done
}

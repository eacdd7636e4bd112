# shellcheck shell=bash
# lab/scenarios/images.sh - `lab.sh images`: the demo images. ragflowauth-base:1 (a busybox-static rootfs plus a
# ~40 MB layer) and ragflowauth-backend|frontend:v1|v2|v3, built on test; v1 loaded on prod (sourced by lab/lab.sh)

BASE=$APP-base:1
ROOTFS=$APP-rootfs:1

# busybox-static rootfs, all applets linked, imported as one layer
make_rootfs_tar() {
  local R=$1/rootfs a
  busybox_static || die "needs a static /bin/busybox (apt-get install busybox-static)"
  rm -rf "$R"; mkdir -p "$R"/{bin,etc,tmp,root,usr/bin,var/log}
  cp /bin/busybox "$R/bin/busybox"
  for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -sf busybox "$R/bin/$a"; done
  ln -sf /bin/busybox "$R/usr/bin/env"
  chmod 1777 "$R/tmp"; chmod 700 "$R/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$R" -cf "$1/rootfs.tar" .
}

# build context of ragflowauth-<component>:<version> in $1
make_app_ctx() {
  local ctx=$1 comp=$2 v=$3 port mb hc=""
  case $comp in backend) port=8001 mb=2 ;; frontend) port=8080 mb=1 ;; esac
  [[ $comp == backend && $v != v1 ]] && mb=3
  rm -rf "$ctx"; mkdir -p "$ctx/app/www" "$ctx/app/assets"
  # PID 1 traps SIGTERM, or `docker stop` waits its full 10 s (lab gotcha G12)
  render app-start.sh APP="$APP" COMP="$comp" PORT="$port" >"$ctx/app/start"
  chmod 755 "$ctx/app/start"
  printf '<h1>%s-%s %s</h1>\n' "$APP" "$comp" "$v" >"$ctx/app/www/index.html"
  printf '%s' "$v" >"$ctx/app/www/version"
  # the bad release: backend v3 serves / and /version but /health is a 404
  [[ $comp == backend && $v == v3 ]] || printf 'ok' >"$ctx/app/www/health"
  head -c $((mb * 1024 * 1024)) /dev/urandom >"$ctx/app/assets/bundle-$v.bin"
  if [[ $comp == frontend ]]; then
    hc="HEALTHCHECK --interval=2s --timeout=2s --start-period=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:$port/health || exit 1"
  fi
  render app.Dockerfile BASE="$BASE" VERSION="$v" APP="$APP" COMP="$comp" PORT="$port" HEALTHCHECK="$hc" >"$ctx/Dockerfile"
}

# classic builder: the daemons are 20.10 and no buildx is installed; CLI 23+ would
# otherwise refuse (BuildKit without buildx) or warn on every build
# (CLI 28 without buildx: legacy builder plus a DEPRECATED notice; DOCKER_BUILDKIT=1 fails).
# dbuild HOST LOG docker-build-args...: output kept in LOG, shown on failure
dbuild() {
  local h=$1 out=$2; shift 2
  DOCKER_BUILDKIT=0 dk "$h" build -q "$@" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
}

cmd_images() {
  local t0 B h comp v tag need=() pids=() p rc=0
  t0=$(now_ms)
  need_root images; require_up; two_hosts; lock
  B=$LAB_DIR/build; mkdir -p "$B"
  if [[ -z $(image_id "$SRC" "$BASE") ]]; then
    log "$SRC: building $BASE (busybox rootfs + ~40 MB layer)"
    make_rootfs_tar "$B"
    dk "$SRC" import -m "busybox-static rootfs" \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["/bin/sh"]' \
      - "$ROOTFS" <"$B/rootfs.tar" >/dev/null
    mkdir -p "$B/base"
    render base.Dockerfile ROOTFS="$ROOTFS" APP="$APP" >"$B/base/Dockerfile"
    dbuild "$SRC" "$B/base.out" -t "$BASE" "$B/base" || die "$SRC: build of $BASE failed"
    dk "$SRC" rmi "$ROOTFS" >/dev/null   # only an untag: base keeps the layer
  fi
  for comp in backend frontend; do
    for v in $VERSIONS; do
      tag=$APP-$comp:$v
      [[ -n $(image_id "$SRC" "$tag") ]] || need+=("$tag")
    done
  done
  if (( ${#need[@]} )); then
    log "$SRC: building ${need[*]}"
    for tag in "${need[@]}"; do    # in parallel: each build is mostly daemon-side commits
      comp=${tag#"$APP"-}; comp=${comp%%:*}; v=${tag##*:}
      ( make_app_ctx "$B/$comp-$v" "$comp" "$v" && dbuild "$SRC" "$B/$comp-$v.out" -t "$tag" "$B/$comp-$v" ||
          die "$SRC: build of $tag failed" ) & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    (( rc == 0 )) || die "image build failed"
  fi
  # each PROD gets v1 by docker save | docker load, so it shares the base layer with TEST
  local load dst
  for dst in "${DSTS[@]}"; do
    load=()
    for comp in backend frontend; do
      tag=$APP-$comp:v1
      [[ -n $(image_layers "$dst" "$tag") && $(image_layers "$SRC" "$tag") == "$(image_layers "$dst" "$tag")" ]] || load+=("$tag")
    done
    if (( ${#load[@]} )); then
      log "$dst: loading ${load[*]} from $SRC (docker save | docker load)"
      dk "$SRC" save "${load[@]}" | dk "$dst" load -q >/dev/null
    fi
    prune_prod_images "$dst"
  done
  local took; took=$(secs "$t0")
  log "images done in ${took}s"
  dk "$SRC" images --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' --filter "reference=$APP-*" | sort
  echo "images_seconds=$took"
}

# PROD keeps only base and v1 of the app images (tags left by releaseflow included);
# tags still used by a container stay (seed removes the containers first)
prune_prod_images() {
  local h=$1 t
  for t in $(dk "$h" images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$APP-*"); do
    case $t in "$BASE" | "$APP"-backend:v1 | "$APP"-frontend:v1 | *:'<none>') ;; *) dk "$h" rmi "$t" >/dev/null 2>&1 || true ;; esac
  done
}

// Remote scripts of an image transfer (POSIX sh, dash-safe; every argument quoted with shQuote).
// The save side prints marker lines before the data so the operator can read facts in band:
//   <marker> layout oci|legacy|content-store, <marker> index <index.json or the manifest blob>, <marker> file <size> <path>   (delta only)
//   <marker> manifest <manifest.json on one line>   (delta only; then it reads the member list)
//   <marker> bytes <N>                               (uncompressed bytes that follow, when known)
//   <marker> start
// and everything after the `start` line is the (compressed) tar stream.
import { DIRECT_KEY_ALIAS, type DirectRoute } from '../core/direct.ts';
import { type Compression, compressorArgv } from '../core/layers.ts';
import { shJoin, shQuote } from '../core/quote.ts';
import { configFormat, dockerFn, identityFormat } from './image-facts.ts';

/** Name prefix of our temporary directories on the source host. */
export const TEMP_PREFIX = 'releaseflow-xfer-';

/** The glob-free prefix of one transfer's temporary directory (mktemp adds a random suffix). */
export function tempDirPrefix(tmpBase: string, token: string): string {
  return `${tmpBase.replace(/\/+$/, '') || '/'}/${TEMP_PREFIX}${token}.`;
}

const signalTraps = `trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE`;

function compressTo3(c: Compression): string {
  const argv = compressorArgv(c);
  return argv ? `${shJoin(argv)} >&3` : 'cat >&3';
}

/**
 * Save the whole image, compressed, to stdout. Fails with docker save's own exit code when it
 * fails (dash has no pipefail: the code travels through fd 4 out of the pipeline).
 */
export function buildSaveFullScript(opts: { imageId: string; marker: string; sudo: boolean; compression: Compression; rawBytes?: number }): string {
  const m = shQuote(opts.marker);
  return [
    'set -e',
    dockerFn(opts.sudo),
    signalTraps,
    'exec 3>&1',
    opts.rawBytes !== undefined ? `printf '%s bytes %s\\n' ${m} ${shQuote(String(opts.rawBytes))}` : ':',
    `printf '%s start\\n' ${m}`,
    `if rc=$( { { d ${shJoin(['save', opts.imageId])} </dev/null; echo $? >&4; } | ${compressTo3(opts.compression)}; } 4>&1 ); then :; else echo 'releaseflow: the compressor failed' >&2; exit 5; fi`,
    '[ "$rc" = 0 ] || { [ -n "$rc" ] || rc=1; exit "$rc"; }',
  ].join('\n');
}

/**
 * Save the image into a private temporary directory, print its manifest, read the member list
 * (one per line, ended by a line `.`) from stdin, then send only those members, compressed.
 * The directory goes on exit, on a signal, and when the operator disappears (stdin closes).
 */
export function buildSaveDeltaScript(opts: {
  imageId: string;
  marker: string;
  sudo: boolean;
  compression: Compression;
  tmpBase: string;
  token: string;
  /** containerd content stores to read the image's blobs from directly, no `docker save` (first readable wins). */
  contentStores?: readonly string[];
  /**
   * A classic overlay2 store's data-root: with `tar-split` on the source, the missing layers are rebuilt
   * byte for byte from its layer store (no `docker save` of the whole image), each checked against its diffID.
   */
  layerStore?: string;
}): string {
  const m = shQuote(opts.marker);
  const hex = opts.imageId.replace(/^sha256:/, '');
  const blob = `blobs/sha256/${hex}`;
  const stores = opts.contentStores ?? [];
  const ls = opts.layerStore && /^[0-9a-f]{64}$/.test(hex) ? opts.layerStore.replace(/\/+$/, '') : '';
  return [
    'set -e',
    'umask 077',
    dockerFn(opts.sudo),
    'exec 3>&1',
    `printf '%s pid %s\\n' ${m} $$`,
    `tmp=$(mktemp -d ${shQuote(`${tempDirPrefix(opts.tmpBase, opts.token)}XXXXXX`)})`,
    `trap 'rm -rf "$tmp"' EXIT`,
    signalTraps,
    'mkdir "$tmp/x"',
    // a containerd-store source whose content store we may read: its blobs as they are, no docker save
    `cs=; lst=${shQuote(ls)}`,
    ...(stores.length ? [`for r in ${stores.map(shQuote).join(' ')}; do if [ -r "$r/${blob}" ]; then cs=$r; break; fi; done`] : []),
    'if [ -n "$cs" ]; then',
    '  cd "$tmp/x"',
    `  printf '%s layout content-store\\n' ${m}; printf '%s index ' ${m}; tr -d '\\n' <"$cs/${blob}"; printf '\\n'`,
    `  printf '%s file %s %s\\n' ${m} "$(stat -L -c %s "$cs/${blob}")" ${shQuote(`./${blob}`)}`,
    `  printf '%s manifest []\\n' ${m}`,
    // a classic store we may read, with tar-split: the config from its image store, layers rebuilt on request
    `elif [ -n "$lst" ] && command -v tar-split >/dev/null 2>&1 && [ -r "$lst/image/overlay2/imagedb/content/sha256/${hex}" ] && [ -r "$lst/image/overlay2/layerdb/sha256" ]; then`,
    '  cd "$tmp/x"; mkdir -p blobs/sha256',
    `  cp "$lst/image/overlay2/imagedb/content/sha256/${hex}" ${shQuote(blob)}`,
    `  printf '%s layout layer-store\\n' ${m}`,
    `  printf '%s file %s %s\\n' ${m} "$(stat -L -c %s ${shQuote(blob)})" ${shQuote(`./${blob}`)}`,
    `  printf '%s manifest []\\n' ${m}`,
    'else',
    `  if rc=$( { { d ${shJoin(['save', opts.imageId])} </dev/null; echo $? >&4; } | tar -x -C "$tmp/x" -f - >&2; } 4>&1 ); then :; else [ "$rc" != 0 ] || rc=3; fi`,
    `  [ "$rc" = 0 ] || { echo "releaseflow: docker save | tar -x failed (exit $rc)" >&2; exit "\${rc:-3}"; }`,
    `  [ -f "$tmp/x/manifest.json" ] || { echo 'releaseflow: docker save wrote no manifest.json' >&2; exit 3; }`,
    '  cd "$tmp/x"',
    // what the operator needs to pick members (and, for a containerd-store target, write an OCI layout)
    `  if [ -f oci-layout ] && [ -f index.json ]; then printf '%s layout oci\\n' ${m}; printf '%s index ' ${m}; tr -d '\\n' <index.json; printf '\\n'; else printf '%s layout legacy\\n' ${m}; fi`,
    `  find . \\( -type f -o -type l \\) -print | while IFS= read -r f; do printf '%s file %s %s\\n' ${m} "$(stat -L -c %s "$f")" "$f"; done`,
    `  printf '%s manifest ' ${m}; tr -d '\\n' <manifest.json; printf '\\n'`,
    'fi',
    // the reply: `+path content` (write), `=path from` (hard link), member names, then `.`
    'set --; m=',
    'while IFS= read -r m; do',
    '  case $m in',
    '  .) break ;;',
    `  +*) l=\${m#+}; p=\${l%% *}; mkdir -p "$(dirname "$p")"; printf '%s' "\${l#* }" >"$p" ;;`,
    `  =*) l=\${m#=}; p=\${l%% *}; f=\${l#* }; mkdir -p "$(dirname "$p")"; ln -f "$(readlink -f "$f")" "$p" 2>/dev/null || cp -L "$f" "$p" ;;`,
    // `~path`: a blob of the content store, linked (tar -h sends its bytes); gone → the source fails, the caller falls back
    `  ~*) p=\${m#?}; [ -n "$cs" ] && [ -r "$cs/$p" ] || { echo "releaseflow: $p is not in the content store" >&2; exit 7; }; mkdir -p "$(dirname "$p")"; ln -s "$cs/$p" "$p" ;;`,
    // `*path chain`: a layer rebuilt from the layer store by tar-split, checked against its diffID (the file's name)
    `  [*]*) l=\${m#?}; p=\${l%% *}; c=\${l#* }; L="$lst/image/overlay2/layerdb/sha256/$c"; mkdir -p "$(dirname "$p")"`,
    `    tar-split asm --input "$L/tar-split.json.gz" --path "$lst/overlay2/$(cat "$L/cache-id")/diff" --output "$p" 2>/dev/null || { echo "releaseflow: tar-split could not rebuild layer $c" >&2; exit 8; }`,
    `    sum=$(sha256sum "$p"); [ "\${sum%% *}" = "\${p##*/}" ] || { echo "releaseflow: the layer rebuilt from chain $c does not match its diffID" >&2; exit 8; } ;;`,
    '  *) set -- "$@" "$m" ;;',
    '  esac',
    'done',
    `[ "$m" = . ] || { echo 'releaseflow: the operator went away before sending the member list' >&2; exit 4; }`,
    `printf '%s bytes %s\\n' ${m} "$(ls -lnL "$@" | awk '{ s += $5 } END { printf "%d", s }')"`,
    `printf '%s start\\n' ${m}`,
    'h=; [ -z "$cs" ] || h=-h',
    `if rc=$( { { tar -c $h -f - "$@"; echo $? >&4; } | ${compressTo3(opts.compression)}; } 4>&1 ); then :; else echo 'releaseflow: the compressor failed' >&2; exit 5; fi`,
    `[ "$rc" = 0 ] || { echo "releaseflow: tar of the selected members failed (exit $rc)" >&2; exit "\${rc:-1}"; }`,
  ].join('\n');
}

/**
 * Load from stdin, then print the identity of every image the load names and of `imageId`: the
 * caller finds which one is the source's image (on another image store it has another ID) and
 * checks its layers (a containerd-store load can exit 0 with an incomplete image).
 */
export function buildLoadScript(opts: { imageId: string; marker: string; sudo: boolean; decompress?: string[] }): string {
  const load = opts.decompress ? `${shJoin(opts.decompress)} | d load` : 'd load';
  return [
    dockerFn(opts.sudo),
    `out=$(${load}); rc=$?`,
    `printf '%s\\n' "$out"`,
    '[ "$rc" = 0 ] || exit "$rc"',
    buildIdentityLines(opts.marker, `${shQuote(opts.imageId)} $(printf '%s\\n' "$out" | grep -o 'sha256:[0-9a-f]\\{64\\}')`),
  ].join('\n');
}

/** Print the identity and config lines of each image in WORDS (a shell word list of IDs), skipping missing ones. */
export function buildIdentityLines(marker: string, words: string): string {
  return `for i in ${words}; do d image inspect -f ${shQuote(identityFormat(marker, 'got'))} "$i" 2>/dev/null; d image inspect -f ${shQuote(configFormat(marker))} "$i" 2>/dev/null; done; true`;
}

/**
 * The operator's side of the clean-up of a cut delta stream: stop the save script's process group
 * (only while its directory exists, so a reused PID is never signalled), then remove the directory.
 */
export function buildCleanupScript(tmpBase: string, token: string, pid?: number): string {
  const glob = `${shQuote(tempDirPrefix(tmpBase, token))}*`;
  const lines = [`found=; for f in ${glob}; do [ -d "$f" ] && found=1; done`];
  if (pid !== undefined && Number.isInteger(pid) && pid > 1) {
    // dash's builtin kill takes no process group: the external one does (procps needs --, busybox refuses it)
    const g = `-${pid}`;
    lines.push(`if [ -n "$found" ]; then env kill -s TERM -- ${g} 2>/dev/null || env kill -s TERM ${g} 2>/dev/null || kill -s TERM ${pid} 2>/dev/null || true; sleep 0.2 2>/dev/null || sleep 1; fi`);
  }
  lines.push(`rm -rf -- ${glob}`);
  return lines.join('\n');
}

/** --relay: a pass-on file that was never started, marked empty and ended (the pid of a process that has exited). */
export function buildAbandonScript(fan: string): string {
  return `f=${shQuote(fan)}; umask 077; [ -e "$f.pid" ] || { : >>"$f"; sh -c 'echo $$' >"$f.pid"; }`;
}

/**
 * --relay through this machine: run a save script and also append what it sends after its header
 * (its size and start lines, then the data) to `fan` on the source, so that the other hosts' streams
 * read the file instead of saving the image again. Keeps the save script's stdin and exit code.
 */
export function buildPassOnScript(saveScript: string, fan: string, marker: string): string {
  return [
    'umask 077',
    `f=${shQuote(fan)}; m=${shQuote(marker)}`,
    ': >"$f" && printf \'%s\\n\' $$ >"$f.pid"',
    `{ sh -c ${shQuote(saveScript)}; echo $? >"$f.rc"; } | {`,
    '  while IFS= read -r l; do',
    `    printf '%s\\n' "$l"`,
    '    case $l in',
    `    "$m bytes "*) printf '%s\\n' "$l" >>"$f" ;;`,
    `    "$m start") printf '%s\\n' "$l" >>"$f"; break ;;`,
    '    esac',
    '  done',
    '  tee -a "$f"',
    '}',
    'rc=$(cat "$f.rc" 2>/dev/null); [ -n "$rc" ] || rc=1; exit "$rc"',
  ].join('\n');
}

/**
 * --relay: the save script of a host that passes an image on. It waits for the pass-on file of that
 * host's own transfer, then prints it from the start as it grows until that transfer's script ends
 * (GNU tail --pid), so the next host loads the stream while this one still receives it.
 */
export function buildFollowScript(fan: string, waitS: number): string {
  const ticks = Math.max(1, Math.round(waitS * 5));
  return [
    `f=${shQuote(fan)}`,
    'i=0',
    'while [ ! -s "$f.pid" ]; do',
    `  i=$((i + 1)); [ "$i" -le ${ticks} ] || { echo "releaseflow: this host's own transfer never started passing the image on ($f after ${waitS}s)" >&2; exit 7; }`,
    '  sleep 0.2',
    'done',
    `tail --pid=1 -c 0 /dev/null 2>/dev/null || { echo 'releaseflow: --relay needs GNU tail (coreutils) on the host that passes the image on' >&2; exit 6; }`,
    'exec tail -s 0.2 -c +1 --pid="$(cat "$f.pid")" -f "$f"',
  ].join('\n');
}

/**
 * --direct: the TARGET runs this. Its own ssh client runs the source's save script on the source
 * (host key checked against the entry we pass in, never the target's own known_hosts), forwards the
 * marker lines to us, checks its disk once the source announced the size, and loads the rest.
 * Reports `relaypid`, `progress` (bytes so far), then `wire`, `srcexit`, `dstexit`, `id`.
 */
export function buildDirectRelayScript(o: {
  marker: string;
  token: string;
  sudo: boolean;
  imageId: string;
  saveScript: string;
  knownHosts: readonly string[];
  route: DirectRoute;
  connectTimeoutS: number;
  /** The target's docker data-root: free space checked there before anything is loaded. */
  dataRoot?: string;
  /** Only prove the connection: the "image" is discarded, nothing is loaded. */
  probe?: boolean;
  /** --relay: also write the stream (its size and start lines, then the data) into this file, for the next host. */
  passOn?: string;
}): string {
  const r = o.route;
  const ssh = [
    'ssh', '-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `HostKeyAlias=${DIRECT_KEY_ALIAS}`, '-o', 'CheckHostIP=no', '-o', 'UpdateHostKeys=no', '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
    '-o', `ConnectTimeout=${o.connectTimeoutS}`, '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3',
    ...(r.identityFile ? ['-o', 'IdentitiesOnly=yes', '-i', r.identityFile] : []), ...(r.port ? ['-p', String(r.port)] : []), ...(r.user ? ['-l', r.user] : []),
  ];
  // the known_hosts path is ours (mktemp under /tmp: no spaces), so it can sit in double quotes
  const sshLine = `${shJoin(ssh)} -o "UserKnownHostsFile=$tmp/known_hosts" -- ${shJoin([r.address, o.saveScript])}`;
  const spaceCheck = o.dataRoot
    ? [
        `  n=\${l#"$m bytes "}; case $n in ''|*[!0-9]*) n=0 ;; esac`,
        `  free=$(df -Pk ${shQuote(o.dataRoot)} 2>/dev/null | tail -n 1 | awk '{ print $4 }'); case $free in ''|*[!0-9]*) free= ;; esac`,
        '  need=$(( (n * 210 + 99) / 100 + 16777216 ))',
        `  if [ -n "$free" ] && [ $((free * 1024)) -lt "$need" ]; then printf '%s nospace %s %s\\n' "$m" "$need" $((free * 1024)); : >"$tmp/tap"; echo nospace >"$tmp/dst"; exit 0; fi`,
      ]
    : [];
  return [
    'umask 077',
    dockerFn(o.sudo),
    `m=${shQuote(o.marker)}`,
    `printf '%s relaypid %s\\n' "$m" $$`,
    `command -v ssh >/dev/null 2>&1 || { echo 'releaseflow: --direct needs an ssh client on this host (apt-get install openssh-client)' >&2; exit 6; }`,
    `tmp=$(mktemp -d ${shQuote(`${tempDirPrefix('/tmp', o.token)}XXXXXX`)}) || exit 6`,
    `trap 'rm -rf "$tmp"' EXIT`,
    signalTraps,
    `printf '%s\\n' ${o.knownHosts.map(shQuote).join(' ')} >"$tmp/known_hosts"`,
    // the next host waits for the pid file, then follows the file until this script ends; every write
    // to it appends (a truncating tee would cut the size and start lines the next host reads first)
    ...(o.passOn ? [`f=${shQuote(o.passOn)}`, ': >"$f" && printf \'%s\\n\' $$ >"$f.pid"'] : []),
    'mkfifo "$tmp/tap"',
    'wc -c <"$tmp/tap" >"$tmp/wire" &',
    'w=$!',
    // bytes read so far by the counter: the only progress a stream that bypasses us can give
    `( while kill -0 "$w" 2>/dev/null; do n=$(sed -n 's/^rchar: //p' "/proc/$w/io" 2>/dev/null); [ -z "$n" ] || printf '%s progress %s\\n' "$m" "$n"; sleep 1; done ) &`,
    't=$!',
    `{ ${sshLine}; echo $? >"$tmp/src"; } | {`,
    '  go=',
    '  while IFS= read -r l; do',
    '    case $l in',
    `    "$m start") go=1; printf '%s\\n' "$l"${o.passOn ? ' | tee -a "$f"' : ''}; break ;;`,
    `    "$m bytes "*) printf '%s\\n' "$l"${o.passOn ? ' | tee -a "$f"' : ''}`,
    ...spaceCheck.map((s) => `  ${s}`),
    '      ;;',
    `    "$m "*) printf '%s\\n' "$l" ;;`,
    '    esac',
    '  done',
    `  [ -n "$go" ] || { : >"$tmp/tap"; echo none >"$tmp/dst"; exit 0; }`,
    o.probe ? '  cat >"$tmp/tap"' : (o.passOn ? '  tee -a "$tmp/tap" "$f" | d load >"$tmp/lo"' : '  tee "$tmp/tap" | d load >"$tmp/lo"'),
    '  echo $? >"$tmp/dst"',
    '}',
    // the ticker may be asleep: stop it rather than wait a second for it
    'kill "$t" 2>/dev/null; wait',
    `printf '%s wire %s\\n' "$m" "$(tr -dc 0-9 <"$tmp/wire" 2>/dev/null)"`,
    `printf '%s srcexit %s\\n' "$m" "$(cat "$tmp/src" 2>/dev/null || echo none)"`,
    `printf '%s dstexit %s\\n' "$m" "$(cat "$tmp/dst" 2>/dev/null || echo none)"`,
    o.probe ? 'true' : `cat "$tmp/lo" 2>/dev/null; ${buildIdentityLines(o.marker, `${shQuote(o.imageId)} $(grep -o 'sha256:[0-9a-f]\\{64\\}' "$tmp/lo" 2>/dev/null)`)}`,
  ].join('\n');
}

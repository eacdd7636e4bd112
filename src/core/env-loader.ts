// Env values docker's --env-file cannot hold (a line break, a trailing CR: PEM keys, JSON credentials) reach
// `docker create` through its own environment (`-e NAME`), never through argv: the values ride in the same
// 0600 env file as comment lines, which docker skips and a small sh loader turns into exported variables.

/** Marks the first line of a value in the env file (`#rf-env:NAME=line`); docker skips lines that start with `#`. */
const FIRST = '#rf-env:';
/** Marks each further line of that value. */
const MORE = '#rf-env+';

/** The loader's own variables start with `_rf_`; PATH and IFS steer the loader itself, the rest the docker CLI (HOME: its config; DOCKER_*; LD_*). */
const RESERVED = /^(?:_rf_|PATH$|IFS$|HOME$|ENV$|BASH_ENV$|DOCKER_|LD_)/;

/** Can the loader export this env name? A plain shell name that steers neither the loader nor the docker CLI. */
export function isLoadableEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.test(name);
}

/** Does this NAME=value entry need the loader: a line break or a trailing CR, which docker's env file cannot hold? */
export function breaksEnvFile(entry: string): boolean {
  const eq = entry.indexOf('=');
  return eq > 0 && (entry.includes('\n') || entry.endsWith('\r'));
}

/** One value as env-file comment lines (one entry of the file, several lines, no trailing newline). */
export function envLoaderEntry(name: string, value: string): string {
  const [first, ...rest] = value.split('\n');
  return [`${FIRST}${name}=${first}`, ...rest.map((l) => `${MORE}${l}`)].join('\n');
}

/** Is this env-file entry a loader value (comment lines for docker)? */
export function isEnvLoaderEntry(entry: string): boolean {
  return entry.startsWith(FIRST) && entry.split('\n').every((l, i) => (i === 0 ? l.startsWith(FIRST) : l.startsWith(MORE)));
}

/**
 * sh (dash, bash, busybox): `$1` the env file, `$2` how many values it must export, then the command.
 * `read -r` with an empty IFS keeps every byte of a line (backslashes, blanks, a CR); a missing or short
 * file stops the create, since docker would quietly drop an unset `-e NAME`.
 */
export const ENV_LOADER = [
  '_rf_f=$1 _rf_want=$2 _rf_n= _rf_c=0 _rf_nl="',
  '"; shift 2',
  '_rf_put() { [ -z "$_rf_n" ] || { export "$_rf_n=$_rf_v" && _rf_c=$((_rf_c + 1)); }; }',
  'while IFS= read -r _rf_l; do case $_rf_l in',
  `  \\${FIRST}*) _rf_put; _rf_l=\${_rf_l#\\${FIRST}}; _rf_n=\${_rf_l%%=*}; _rf_v=\${_rf_l#*=} ;;`,
  `  \\${MORE}*) _rf_v=$_rf_v$_rf_nl\${_rf_l#\\${MORE}} ;;`,
  'esac; done <"$_rf_f" && _rf_put && [ "$_rf_c" = "$_rf_want" ] || { echo "releaseflow: $_rf_f does not hold the $_rf_want env value(s) docker create needs" >&2; exit 1; }',
  'exec "$@"',
].join('\n');

/** argv that runs `argv` with `count` values of `envFile` exported (`argv` names them as `-e NAME`). */
export function withEnvLoader(argv: readonly string[], envFile: string, count: number): string[] {
  return ['sh', '-c', ENV_LOADER, 'sh', envFile, String(count), ...argv];
}

// The observation of a host, as one remote script: docker access, version, disk, networks, containers, images (a pure builder).
import { shJoin } from './quote.ts';
import { section } from './sections.ts';

/** The remote script: one round trip for all facts. Arguments go through shJoin; the rest is fixed text. */
export function buildObserveScript(containers: readonly string[], sudo: boolean, marker: string): string {
  const d = (...argv: string[]) => `d ${shJoin(argv)}`;
  const forced = sudo ? 1 : 0;
  return [
    `if perr=$(docker version --format x 2>&1 >/dev/null); then plain=ok; else plain=no; fi`,
    `if [ ${forced} = 1 ] || [ $plain = no ]; then if serr=$(sudo -n docker version --format x 2>&1 >/dev/null); then sudo=ok; else sudo=no; fi; else sudo=untried; fi`,
    `if [ ${forced} = 1 ]; then if [ $sudo = ok ]; then acc=sudo; else acc=unavailable; perr=$serr; fi`,
    `elif [ $plain = ok ]; then acc=direct; elif [ $sudo = ok ]; then acc=sudo; else acc=unavailable; fi`,
    `if [ $acc = sudo ]; then d() { sudo -n docker "$@"; }; else d() { docker "$@"; }; fi`,
    section(marker, 'access', `printf '%s %s\\n%s' "$acc" "$plain" "$perr"`),
    `if [ $acc != unavailable ]; then`,
    section(marker, 'version', `${d('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}')} 2>&1`),
    // one `docker info` for the data root and the image store (each costs a daemon round trip and its plugins' scan)
    `info=$(${d('info', '--format', '{{.DockerRootDir}}\n{{.Driver}} {{json .DriverStatus}}')} 2>/dev/null); nl='\n'`,
    `root=\${info%%"$nl"*}`,
    section(marker, 'dataroot', `printf '%s' "$root"`),
    section(marker, 'store', `[ "$info" = "$root" ] || printf '%s\\n' "\${info#*"$nl"}"`),
    section(marker, 'df', `[ -n "$root" ] && df -Pk "$root" 2>&1`),
    section(marker, 'tarsplit', 'command -v tar-split'),
    section(marker, 'networks', `${d('network', 'ls', '--format', '{{.Name}}')} 2>&1`),
    section(marker, 'ps', `${d('ps', '-a', '--format', '{{json .}}')} 2>&1`),
    section(marker, 'containers', `${d('container', 'inspect', ...containers)} 2>/dev/null`),
    `ids=$(${d('container', 'inspect', '--format', '{{.Image}}', ...containers)} 2>/dev/null | sort -u)`,
    // $ids is split on purpose: image IDs (sha256:hex) contain no shell-special characters
    section(marker, 'images', `if [ -n "$ids" ]; then d image inspect $ids 2>/dev/null; else echo '[]'; fi`),
    'fi',
  ].join('\n');
}

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSections, section } from '../../src/core/sections.ts';
import { buildObserveScript } from '../../src/core/observe-script.ts';
import { parseObserveOutput } from '../../src/workflows/observe.ts';

const M = '@@rf-0123456789ab';

// Stubs for docker, sudo and df, so the real script runs in dash without a daemon.
// DOCKER_DENY=1: docker works only through sudo (as for a user outside the docker group).
const bin = mkdtempSync(join(tmpdir(), 'rf-observe-'));
const stub = (name: string, body: string) => {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};
stub(
  'docker',
  `if [ "$DOCKER_DENY" = 1 ] && [ "$VIA_SUDO" != 1 ]; then echo 'permission denied while trying to connect to the Docker daemon socket' >&2; exit 1; fi
case "$1 $2" in
  "version --format") [ "$3" = x ] && exit 0; echo '24.0.7 1.43' ;;
  "info --format") case "$3" in *DockerRootDir*DriverStatus*) echo /var/lib/docker; echo "\${STORE_LINE:-overlay2 [[\\"Backing Filesystem\\",\\"extfs\\"]]}" ;; *) echo "stub docker: unexpected info format $3" >&2; exit 2 ;; esac ;;
  "network ls") printf 'bridge\\nhost\\nnone\\napp-net\\n' ;;
  "ps -a") echo '{"Names":"web","Image":"web:v2","Status":"Up 2 hours"}'; echo '{"Names":"web-old","Image":"web:v1","Status":"Exited (0) 1 day ago"}' ;;
  "container inspect")
    if [ "$3" = --format ]; then echo sha256:aaa; exit 1; fi
    echo '[{"Id":"c1","Name":"/web","Created":"2026-01-31T10:00:00Z","Image":"sha256:aaa","State":{"Status":"running","Running":true,"Health":{"Status":"healthy"}},"Config":{"Image":"web:v2","Labels":{"com.docker.compose.project":"shop","com.docker.compose.project.config_files":"/srv/shop/compose.yml","com.docker.compose.project.working_dir":"/srv/shop","com.docker.compose.service":"web"}},"NetworkSettings":{"Networks":{"app-net":{}}}}]'
    echo "Error: No such container: $4" >&2; exit 1 ;;
  "image inspect") echo '[{"Id":"sha256:aaa","RepoTags":["web:v2"],"Size":1048576,"Created":"2026-01-30T00:00:00Z"}]' ;;
  *) echo "stub docker: unexpected $*" >&2; exit 2 ;;
esac`,
);
stub('sudo', `[ "$1" = -n ] && shift; [ "$SUDO_DENY" = 1 ] && { echo 'sudo: a password is required' >&2; exit 1; }; VIA_SUDO=1 exec "$@"`);
stub('tar-split', 'exit 0');
stub('df', `printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/sda1 1000000 400000 600000 40%% /\\n'`);

function runScript(sudo: boolean, env: Record<string, string> = {}): string {
  return execFileSync('dash', ['-c', buildObserveScript(['web', 'api'], sudo, M)], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, ...env } });
}

test('the script, run in dash, yields the facts: version, disk, networks, containers, images, mode', () => {
  const f = parseObserveOutput(runScript(false), M, ['web', 'api']);
  assert.equal(f.problem, undefined);
  assert.deepEqual(f.docker, { access: 'direct', needsSudo: false, version: '24.0.7', apiVersion: '1.43', store: 'classic', driver: 'overlay2', tarSplit: true });
  assert.equal(f.dataRoot, '/var/lib/docker');
  assert.equal(f.freeBytes, 600000 * 1024);
  assert.deepEqual(f.networks, ['bridge', 'host', 'none', 'app-net']);
  assert.deepEqual(f.allContainers.map((c) => c.name), ['web', 'web-old']);
  const [web, api] = f.containers;
  assert.equal(web!.present, true);
  assert.equal(web!.state, 'running');
  assert.equal(web!.health, 'healthy');
  assert.equal(web!.imageRef, 'web:v2');
  assert.equal(web!.image?.size, 1048576);
  assert.deepEqual(web!.networks, ['app-net']);
  assert.deepEqual(web!.mode, { mode: 'compose', project: 'shop', configFiles: ['/srv/shop/compose.yml'], workingDir: '/srv/shop', service: 'web' });
  assert.deepEqual(api, { name: 'api', present: false, running: false, networks: [] });
});

test('the containerd image store is told apart by its snapshotter driver status (as docker 28.5 prints it)', () => {
  const f = parseObserveOutput(runScript(false, { STORE_LINE: 'overlayfs [["driver-type","io.containerd.snapshotter.v1"]]' }), M, ['web', 'api']);
  assert.equal(f.docker.store, 'containerd');
});

test('docker usable only through sudo: facts still gathered, needsSudo reported', () => {
  const f = parseObserveOutput(runScript(false, { DOCKER_DENY: '1' }), M, ['web', 'api']);
  assert.equal(f.docker.access, 'sudo');
  assert.equal(f.docker.needsSudo, true);
  assert.equal(f.containers[0]!.present, true);
});

test('sudo: true in the config uses sudo -n from the start; not needed when plain docker works', () => {
  const f = parseObserveOutput(runScript(true), M, ['web']);
  assert.equal(f.docker.access, 'sudo');
  assert.equal(f.docker.needsSudo, false);
});

test('docker unusable: access unavailable with docker\'s own error, nothing else attempted', () => {
  const f = parseObserveOutput(runScript(false, { DOCKER_DENY: '1', SUDO_DENY: '1' }), M, ['web']);
  assert.equal(f.docker.access, 'unavailable');
  assert.match(f.docker.error!, /permission denied/);
  assert.equal(f.containers[0]!.present, false);
});

test('a banner printed before the output, and CRLF endings, do not disturb parsing', () => {
  const out = `Welcome to prod!\n[{"not":"ours"}]\n${runScript(false)}`.replace(/\n/g, '\r\n');
  const f = parseObserveOutput(out, M, ['web', 'api']);
  assert.equal(f.docker.version, '24.0.7');
  assert.equal(f.containers[0]!.present, true);
});

test('output without our markers is a problem, not a crash', () => {
  const f = parseObserveOutput('fish: Unknown command\n', M, ['web']);
  assert.match(f.problem!.message, /not with the observation script/);
  assert.equal(f.containers[0]!.present, false);
});

test('sections keep their text exactly and their exit code; a forged marker from another run is ignored', () => {
  const script = [section(M, 'a', "printf 'x\\ny'"), section(M, 'b', 'echo z; false'), section(M, 'c', "echo '@@rf-ffffffffffff end c 0'")].join('\n');
  const s = parseSections(execFileSync('dash', ['-c', script], { encoding: 'utf8' }), M);
  assert.deepEqual(s.get('a'), { text: 'x\ny', rc: 0 });
  assert.deepEqual(s.get('b'), { text: 'z\n', rc: 1 });
  assert.equal(s.get('c')!.text, '@@rf-ffffffffffff end c 0\n');
});

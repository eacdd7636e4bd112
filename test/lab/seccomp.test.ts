// Lab: a container started with `--security-opt seccomp=<file>` (inspect holds the profile's JSON, not the file)
// is released with the same profile, written to a 0600 file in the release folder; run-command prints that write.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hostRoot, labExec } from './faults-lib.ts';
import { labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const NAME = 'ragflowauth-backend';
const PROFILE = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] }, null, 2);
const seccompOf = (c: Record<string, any>) => (c.HostConfig.SecurityOpt ?? []).filter((o: string) => o.startsWith('seccomp='));

describe('an inline seccomp profile', labSkip(), () => {
  test('PROD runs the backend with a seccomp profile file: the release keeps the profile, the container runs; run-command writes the file it names', () => {
    labScript(['seed']);
    // recreate PROD's backend as it is, plus the profile (read by the docker CLI on PROD from /root)
    const made = releaseflow(['run-command', 'prod', NAME, '--reveal']);
    assert.equal(made.code, 0, made.out);
    writeFileSync(join(hostRoot('prod'), 'rf-seccomp.json'), PROFILE);
    const withProfile = made.stdout.replace(/^docker run -d \\\n/m, "docker run -d \\\n  --security-opt seccomp=/root/rf-seccomp.json \\\n");
    labExec('prod', `docker rm -f ${NAME} >/dev/null && ${withProfile}`);
    const before = labInspect('prod', NAME);
    const profile = seccompOf(before);
    assert.equal(profile.length, 1, JSON.stringify(before.HostConfig.SecurityOpt));
    assert.match(profile[0], /^seccomp=\{.*SCMP_ACT_ERRNO/s, 'inspect holds the JSON, not the path');

    const rc = releaseflow(['run-command', 'prod', NAME, '--reveal']);
    assert.equal(rc.code, 0, rc.out);
    const file = `/var/lib/releaseflow/ragflowauth/seccomp/${NAME}.seccomp.json`;
    assert.match(rc.stdout, /^\( umask 077 && mkdir -p \S+ && cat > \S+ \) <<'RELEASEFLOW_SECCOMP_EOF'\n\{.*\nRELEASEFLOW_SECCOMP_EOF\n/s);
    assert.ok(rc.stdout.includes(`--security-opt seccomp=${file} \\`), rc.stdout);
    assert.doesNotMatch(rc.stdout, /path\/to/);

    const r = releaseflow(['promote', '--yes'], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.out);
    const after = labInspect('prod', NAME);
    assert.notEqual(after.Id, before.Id, 'a new container');
    assert.equal(after.State.Running, true);
    assert.deepEqual(seccompOf(after), profile, 'the same profile');
    const release = /release (\d{8}T\d{6}Z)/.exec(r.out)?.[1];
    assert.ok(release, r.out);
    const kept = `/var/lib/releaseflow/ragflowauth/releases/${release}/${NAME}.seccomp.json`;
    assert.equal(labExec('prod', `stat -c %a ${kept}`).trim(), '600');
    assert.deepEqual(JSON.parse(labExec('prod', `cat ${kept}`)), JSON.parse(profile[0].slice('seccomp='.length)));

    // the operator's way back: run-command's output, run on PROD, recreates the container with the profile
    const again = releaseflow(['run-command', 'prod', NAME, '--reveal']);
    labExec('prod', `docker rm -f ${NAME} >/dev/null && ${again.stdout}`);
    const redone = labInspect('prod', NAME);
    assert.equal(redone.State.Running, true);
    assert.deepEqual(seccompOf(redone), profile);
    assert.equal(labExec('prod', `stat -c %a ${file}`).trim(), '600');
  });
});

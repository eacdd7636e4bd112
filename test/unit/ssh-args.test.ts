// The ssh argv (option order: OpenSSH keeps the first value), the host key opt-out, and ssh's failure diagnosis.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { controlDirParent, controlSocketLength, diagnoseSsh, remoteString, SOCKET_PATH_MAX, SshHost, sshCommand } from '../../src/adapters/ssh.ts';
import { shJoin } from '../../src/core/quote.ts';
import { parseConfig } from '../../src/core/config.ts';
import { ConfigError } from '../../src/core/errors.ts';

const BASE = 'app: a\nhosts:\n  test: { address: t }\n  prod: PROD\ncontainers: [web]\n';
const cfg = (prod: string) => parseConfig(BASE.replace('PROD', prod), '/etc/rf.yml');
const host = (prod: string) => {
  const c = cfg(prod);
  return new SshHost(c.hosts.prod!, { ...c.ssh, controlMaster: false });
};
/** The value OpenSSH uses for an option: the first -o that sets it. */
const first = (args: string[], key: string) => args.find((a, i) => args[i - 1] === '-o' && a.toLowerCase().startsWith(`${key.toLowerCase()}=`))?.split('=')[1];

test("the operator's sshOptions win over our defaults (ConnectTimeout, ServerAliveInterval)", () => {
  const args = host('{ address: p, sshOptions: { ConnectTimeout: 3, ServerAliveInterval: 2, ServerAliveCountMax: 1 } }').sshArgs();
  assert.equal(first(args, 'ConnectTimeout'), '3');
  assert.equal(first(args, 'ServerAliveInterval'), '2');
  assert.equal(first(args, 'ServerAliveCountMax'), '1');
});

test('without sshOptions our defaults apply, with strict host key checking', () => {
  const args = host('{ address: p }').sshArgs();
  assert.equal(first(args, 'ConnectTimeout'), '10');
  assert.equal(first(args, 'ServerAliveInterval'), '15');
  assert.equal(first(args, 'StrictHostKeyChecking'), 'yes');
  assert.equal(first(args, 'BatchMode'), 'yes');
  assert.deepEqual(args.slice(-2), ['--', 'p']);
});

test('BatchMode and ControlMaster/ControlPath stay ours whatever sshOptions say', () => {
  const args = host('{ address: p, sshOptions: { BatchMode: "no", ControlMaster: "yes", ControlPath: /tmp/x } }').sshArgs();
  assert.equal(first(args, 'BatchMode'), 'yes');
  assert.equal(first(args, 'ControlMaster'), 'no');
  assert.equal(first(args, 'ControlPath'), 'none');
});

test('every weakening of host key checking in sshOptions is refused without insecureIgnoreHostKeys, and warned with it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rf-kh-'));
  symlinkSync('/dev/null', join(dir, 'kh'));
  const weak = [
    'StrictHostKeyChecking: accept-new', // accepts any key on first sight
    'StrictHostKeyChecking: "no"',
    'StrictHostKeyChecking: maybe',
    'UserKnownHostsFile: /dev//null',
    'UserKnownHostsFile: /dev/./null',
    'UserKnownHostsFile: /etc/../dev/null',
    'UserKnownHostsFile: none',
    'UserKnownHostsFile: "/dev/null /dev/null"',
    `UserKnownHostsFile: ${join(dir, 'kh')}`, // a link to /dev/null
    'UserKnownHostsFile: ../../../../../../../dev/null', // relative to the config file's folder
  ];
  for (const opt of weak) {
    assert.throws(() => cfg(`{ address: p, sshOptions: { ${opt} } }`), (e: unknown) => e instanceof ConfigError && /hosts\.prod\.sshOptions: .* turns host key checking off or weakens it/.test(e.message) && /insecureIgnoreHostKeys: true under hosts\.prod/.test(e.detail.fix ?? ''), opt);
    const h = host(`{ address: p, insecureIgnoreHostKeys: true, sshOptions: { ${opt} } }`);
    assert.equal(first(h.sshArgs(), 'StrictHostKeyChecking'), 'no', opt);
    assert.match(h.warnings()[0]!, /^INSECURE: host key checking is OFF for prod/, opt);
  }
  for (const opt of ['StrictHostKeyChecking: "yes"', 'StrictHostKeyChecking: ask', `UserKnownHostsFile: ${join(dir, 'known_hosts')}`, 'UserKnownHostsFile: "/dev/null ~/.ssh/known_hosts"']) {
    assert.deepEqual(host(`{ address: p, sshOptions: { ${opt} } }`).warnings(), [], opt);
  }
});

test('switching host key checking off needs insecureIgnoreHostKeys: true, and then warns', () => {
  for (const opt of ['StrictHostKeyChecking: "no"', 'stricthostkeychecking: off', 'UserKnownHostsFile: /dev/null']) {
    assert.throws(() => cfg(`{ address: p, sshOptions: { ${opt} } }`), (e: unknown) => e instanceof ConfigError && /turns host key checking off/.test(e.message) && /insecureIgnoreHostKeys: true under hosts\.prod/.test(e.detail.fix ?? ''), opt);
  }
  const h = host('{ address: p, insecureIgnoreHostKeys: true }');
  assert.equal(first(h.sshArgs(), 'StrictHostKeyChecking'), 'no');
  assert.match(h.warnings()[0]!, /^INSECURE: host key checking is OFF for prod/);
  assert.deepEqual(host('{ address: p }').warnings(), []);
});

test('sshOptions values on one line only; timeouts of zero are refused (they would mean "wait forever")', () => {
  assert.throws(() => cfg('{ address: p, sshOptions: { ProxyCommand: "nc %h %p\\nLocalCommand x" } }'), /hosts\.prod\.sshOptions\.ProxyCommand: expected a value on one line/);
  assert.throws(() => parseConfig(`${BASE.replace('PROD', '{ address: p }')}ssh: { commandTimeout: 0 }\n`, '/x.yml'), /ssh\.commandTimeout: expected at least 1s/);
  assert.throws(() => parseConfig(`${BASE.replace('PROD', '{ address: p }')}ssh: { heartbeatTimeout: 1s }\n`, '/x.yml'), /ssh\.heartbeatTimeout: expected at least 2s/);
  assert.throws(() => cfg('{ address: p, stateDir: /var/lib/../../etc }'), /hosts\.prod\.stateDir: expected an absolute path without \.\./);
});

const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG.
Please contact your system administrator.
Add correct host key in /tmp/kh to get rid of this message.
Offending ED25519 key in /tmp/kh:2
Host key for 10.0.0.12 has changed and you have requested strict checking.
Host key verification failed.
`;

test('a changed host key: OpenSSH message kept, the fix names ssh-keygen -R with the known_hosts file', () => {
  const c = cfg('{ address: 10.0.0.12, user: root }');
  const d = diagnoseSsh(c.hosts.prod!, CHANGED);
  assert.match(d.message, /host key of prod \(root@10\.0\.0\.12\) has CHANGED .*\/tmp\/kh line 2/);
  assert.match(d.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  assert.match(d.message, /SHA256:abcdefghijklmnopqrstuvwxyz/);
  assert.match(d.message, /Host key verification failed\./);
  assert.match(d.fix, /ssh-keygen -R 10\.0\.0\.12 -f \/tmp\/kh/);
  const unknown = diagnoseSsh(c.hosts.prod!, 'No ED25519 host key is known for 10.0.0.12 and you have requested strict checking.\nHost key verification failed.\n');
  assert.match(unknown.message, /not in known_hosts/);
  assert.match(unknown.fix, /ssh-keyscan 10\.0\.0\.12/);
});

test('a connection lost mid-command is told apart from an unreachable host', () => {
  const c = cfg('{ address: p }');
  assert.match(diagnoseSsh(c.hosts.prod!, 'Timeout, server p not responding.\n').message, /connection to prod \(p\) was lost/);
  assert.match(diagnoseSsh(c.hosts.prod!, 'ssh: connect to host p port 22: Connection refused\n').message, /is unreachable/);
  // the shared connection killed mid-release (seen in the fault suite): still a connection problem, with a fix
  const mux = diagnoseSsh(c.hosts.prod!, '\nControl socket connect(/tmp/rf-ssh-x/4ea3): Connection refused\n');
  assert.match(mux.message, /prod/);
  assert.ok(mux.fix.length > 0);
});

test('sudo hosts: argv docker gets sudo -n; every script runs its plain docker through sudo -n too', () => {
  assert.equal(remoteString({ argv: ['docker', 'ps'] }, true), 'sudo -n docker ps');
  assert.equal(remoteString({ argv: ['docker', 'ps'] }, false), 'docker ps');
  const script = 'test "$(docker inspect -f {{.Image}} web)" = x && docker stop old >/dev/null && docker start web';
  assert.equal(remoteString({ script }, false), script);
  const wrapped = remoteString({ script: 'type docker' }, true);
  assert.ok(wrapped.endsWith('\ntype docker'));
  // dash reads the prefix as a function definition that shadows the binary for the rest of the script
  const r = spawnSync('dash', ['-c', wrapped], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /docker is a shell function/);
});

test('the ControlMaster socket fits in 104 bytes for macOS-style TMPDIRs (else it goes under /tmp)', () => {
  for (const tmp of ['/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T', '/var/folders/xx/yyyyyyyyyyyyyyyyyyyyyyyyyyyy/T/', `/home/${'u'.repeat(60)}/tmp`, '/tmp']) {
    const parent = controlDirParent(tmp.replace(/\/$/, ''));
    assert.ok(controlSocketLength(`${parent}/rf-XXXXXX`) <= SOCKET_PATH_MAX, `${tmp} -> ${parent}`);
  }
  assert.equal(controlDirParent('/tmp'), '/tmp', 'a short TMPDIR is kept');
  assert.equal(controlDirParent('/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T'), '/tmp');
  // the real thing: the folder made for a host, and the path ssh is given
  const h = new SshHost(cfg('{ address: p }').hosts.prod!, { connectTimeoutMs: 1000, commandTimeoutMs: 1000, controlMaster: true });
  const cp = h.sshArgs().find((a) => a.startsWith('ControlPath='))!.slice('ControlPath='.length);
  assert.match(cp, /\/rf-[^/]{6}\/%C$/);
  assert.ok(controlSocketLength(cp.slice(0, -3)) <= SOCKET_PATH_MAX, cp);
});

test('every remote command runs under sh -c, whatever the login shell (here bash): sh semantics, bytes kept', () => {
  // sshd runs `<login shell> -c <command>`; the script inside must see /bin/sh (dash here), not bash
  const which = sshCommand({ script: 'readlink /proc/$$/exe; echo "a\\tb"' });
  assert.match(which, /^sh -c '/);
  const r = spawnSync('bash', ['-c', which], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [exe, echo] = r.stdout.split('\n');
  assert.equal(exe, spawnSync('readlink', ['-f', '/bin/sh'], { encoding: 'utf8' }).stdout.trim());
  assert.equal(echo, exe!.endsWith('dash') ? 'a\tb' : 'a\\tb', "sh's own echo");
  // argv and sudo scripts: one quoted word for the login shell, byte for byte after it
  const hostile = ['it\'s', '$(id)', '`id`', 'a\\b', 'multi\nline', '*', '"q"', ' '];
  for (const login of ['bash', 'dash']) {
    const out = spawnSync(login, ['-c', sshCommand({ argv: ['printf', '%s\\0', ...hostile] })], { encoding: 'utf8' });
    assert.equal(out.stdout, hostile.map((h) => `${h}\0`).join(''), login);
    const sudo = spawnSync(login, ['-c', sshCommand({ script: 'type docker' }, true)], { encoding: 'utf8' });
    assert.match(sudo.stdout, /docker is a shell function/, login);
  }
  // what errors and the log show stays the plain sh text
  assert.equal(remoteString({ argv: ['docker', 'ps'] }), shJoin(['docker', 'ps']));
});


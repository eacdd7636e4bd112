// --direct's pure parts: ssh -G parsing, the known_hosts name, the entry handed to the target,
// and the target's relay script (parsed by dash, never run here: the lab test runs it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { buildDirectRelayScript } from '../../src/adapters/image-scripts.ts';
import { DIRECT_KEY_ALIAS, describeRoute, knownHostsForAlias, knownHostsName, parseSshG } from '../../src/core/direct.ts';

// captured from the lab: `ssh -G ... -- 10.213.7.11` and `ssh-keygen -F 10.213.7.11 -f known_hosts` (plain and after ssh-keygen -H)
const SSH_G = 'user root\nhostname 10.213.7.11\nport 22\nglobalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2\nuserknownhostsfile /tmp/releaseflow-lab/known_hosts\n';
const KEYGEN_PLAIN = '# Host 10.213.7.11 found: line 1 \n10.213.7.11,test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzEDwbExKFDXbqzx3fPN+r1ZSQXGKUznyxujSh0j+r+\n';
const KEYGEN_HASHED = '# Host 10.213.7.11 found: line 1 \n|1|UKXrmxgCHJm7wBek2hOY8ec3y1k=|A0m14j5WrVAR0wNRH3+pmkl4OXE= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzEDwbExKFDXbqzx3fPN+r1ZSQXGKUznyxujSh0j+r+\n';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzEDwbExKFDXbqzx3fPN+r1ZSQXGKUznyxujSh0j+r+';

test('ssh -G: first value of each keyword, keys lower-case', () => {
  const g = parseSshG(SSH_G);
  assert.equal(g.get('hostname'), '10.213.7.11');
  assert.equal(g.get('port'), '22');
  assert.equal(g.get('userknownhostsfile'), '/tmp/releaseflow-lab/known_hosts');
  assert.equal(g.get('hostkeyalias'), undefined);
});

test('known_hosts name: host on port 22, [host]:port otherwise, HostKeyAlias wins', () => {
  assert.equal(knownHostsName('10.0.0.1', 22), '10.0.0.1');
  assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  assert.equal(knownHostsName('10.0.0.1', 2222, 'test-box'), 'test-box');
  assert.equal(knownHostsName('10.0.0.1', 22, 'none'), '10.0.0.1');
});

test('the entry for the target: plain and hashed lines become the alias with the same key', () => {
  assert.deepEqual(knownHostsForAlias(KEYGEN_PLAIN), [`${DIRECT_KEY_ALIAS} ${KEY}`]);
  assert.deepEqual(knownHostsForAlias(KEYGEN_HASHED), [`${DIRECT_KEY_ALIAS} ${KEY}`]);
  // both files list it: one line
  assert.deepEqual(knownHostsForAlias(`${KEYGEN_PLAIN}${KEYGEN_HASHED}`), [`${DIRECT_KEY_ALIAS} ${KEY}`]);
});

test('markers stay, comments go, and nothing that is not a key line passes', () => {
  const out = knownHostsForAlias(`@cert-authority *.example.com ${KEY} ca comment\n@revoked 10.0.0.1 ${KEY}\n10.0.0.1 ssh-ed25519 AAAA$(reboot)\n10.0.0.1 ssh-ed25519\n`);
  assert.deepEqual(out, [`@cert-authority ${DIRECT_KEY_ALIAS} ${KEY}`, `@revoked ${DIRECT_KEY_ALIAS} ${KEY}`]);
  assert.deepEqual(knownHostsForAlias('# nothing\n\n'), []);
});

test('route description names user, address, port and key', () => {
  assert.equal(describeRoute({ address: '10.0.0.1' }), '10.0.0.1');
  assert.equal(describeRoute({ address: '10.0.0.1', port: 2222, user: 'deploy', identityFile: '/root/.ssh/id_rf' }), 'deploy@10.0.0.1:2222 (key /root/.ssh/id_rf)');
});

test('the target relay script parses in dash, quotes the hostile parts, and checks the host key only against our entry', () => {
  const s = buildDirectRelayScript({
    marker: '@@rfx-abc',
    token: 'tok',
    sudo: false,
    imageId: 'sha256:aa',
    saveScript: "printf '%s start\\n' '@@rfx-abc'; echo \"it's $(date)\"",
    knownHosts: [`${DIRECT_KEY_ALIAS} ${KEY}`],
    route: { address: '10.0.0.1', user: 'deploy', identityFile: '/root/.ssh/id rf' },
    connectTimeoutS: 7,
    dataRoot: '/var/lib/docker',
  });
  const dash = spawnSync('dash', ['-n'], { input: s, encoding: 'utf8' });
  assert.equal(dash.status, 0, dash.stderr);
  assert.match(s, /-o StrictHostKeyChecking=yes/);
  assert.match(s, /-o GlobalKnownHostsFile=\/dev\/null/);
  assert.match(s, new RegExp(`-o HostKeyAlias=${DIRECT_KEY_ALIAS}`));
  assert.match(s, /-o "UserKnownHostsFile=\$tmp\/known_hosts"/);
  assert.match(s, /-i '\/root\/\.ssh\/id rf'/);
  assert.match(s, /-o ConnectTimeout=7/);
  // the save script goes as one quoted argument: its $(date) is not expanded on the target
  assert.ok(s.includes(`'printf '\\''%s start\\n'\\'' '\\''@@rfx-abc'\\''; echo "it'\\''s $(date)"'`));
  assert.match(s, /df -Pk \/var\/lib\/docker/);
});

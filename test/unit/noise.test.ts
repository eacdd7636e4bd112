import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripNoise, tail } from '../../src/core/noise.ts';

test('known ssh/docker noise lines are removed, the rest kept in order', () => {
  const text = [
    'Warning: Permanently added 10.0.0.2 (ED25519) to the list of known hosts.',
    'real line 1',
    'WARNING: Error loading config file: /root/.docker/config.json: permission denied',
    'real line 2',
    'close - IO is still pending on closed socket. read:0, write:0, io:000001',
    '',
  ].join('\n');
  assert.equal(stripNoise(text), 'real line 1\nreal line 2\n');
});

test('noise lines ending in CR (Windows OpenSSH) are removed too', () => {
  assert.equal(stripNoise('close - IO is still pending on closed socket.\r\nok\r\n'), 'ok\r\n');
});

test('noise must match a whole line: the same words inside a line are kept', () => {
  const line = 'app says: Warning: Permanently added x to the list of known hosts.';
  assert.equal(stripNoise(line), line);
});

test('banner lines (a MOTD printed on every command) are removed when given', () => {
  assert.equal(stripNoise('Welcome to prod!\nAuthorized use only\n[{"Id":"x"}]\n', ['Welcome to prod!', 'Authorized use only']), '[{"Id":"x"}]\n');
  assert.equal(stripNoise('Welcome to prod!\n'), 'Welcome to prod!\n');
});

test('text without noise is unchanged', () => {
  for (const t of ['', 'a', 'a\nb', 'a\n\nb\n']) assert.equal(stripNoise(t), t);
});

test('tail keeps the last n lines, ignoring trailing newlines', () => {
  assert.equal(tail('1\n2\n3\n4\n', 2), '3\n4');
  assert.equal(tail('only', 5), 'only');
  assert.equal(tail('', 3), '');
  const many = Array.from({ length: 30 }, (_, i) => String(i)).join('\n');
  assert.equal(tail(many).split('\n').length, 20);
  assert.equal(tail(many).split('\n')[0], '10');
});

test("ssh's mux client falling back to its own connection is noise; the command's output stays", () => {
  // printed on stdout by OpenSSH 9 when the ControlMaster died and the client connected by itself (seen in the fault suite)
  const out = 'Control socket connect(/tmp/rf-ssh-gYfuLX/4ea39d19c1808c3c24d22910e7209810a062faa7): Connection refused\nragflowauth-backend   Up 2 seconds';
  assert.equal(stripNoise(out), 'ragflowauth-backend   Up 2 seconds');
  assert.equal(stripNoise('Control socket connect(/x): Permission denied'), 'Control socket connect(/x): Permission denied');
});

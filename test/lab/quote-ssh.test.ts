// Quoting over real ssh: hostile strings must arrive byte for byte through the login shell, dash and bash.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SshHost } from '../../src/adapters/ssh.ts';
import { loadConfig } from '../../src/core/config.ts';
import { shJoin, shQuote } from '../../src/core/quote.ts';
import { labInfo, labSkip } from './lab.ts';

const HOSTILE = [
  '',
  ' ',
  '  two  spaces  ',
  "'",
  "''",
  '"',
  "it's",
  `a"b'c`,
  `'"'"'`,
  '$(id)',
  '$(echo pwned >&2)',
  '`id`',
  '$' + '{HOME}',
  '$HOME',
  '$1 $@ $? $$ $!',
  '\\',
  '\\\\',
  'ends with backslash\\',
  "\\'",
  '\n',
  'multi\nline\n',
  '\t',
  'tab\there',
  '\r',
  'cr\r\nlf',
  '*',
  '*.ts',
  '?',
  '[a-z]',
  '{a,b}',
  '{1..3}',
  '~',
  '~root/x',
  '-n',
  '-e',
  '--',
  '-',
  ';',
  '|',
  '&',
  '<',
  '>',
  'a;b|c&d<e>f',
  '&& echo pwned || true',
  '!',
  '!!',
  '#not a comment',
  'a #b',
  '%s%d%%\\0',
  'x=$(rm -rf /nonexistent)',
  '() { :; }; echo vuln',
  'é',
  '日本語',
  '😀 emoji',
  '\x7f',
  '\x01\x02\x1b[31mred',
  ' leading',
  'trailing ',
  'a=b c',
];

describe('shQuote over ssh', labSkip(), () => {
  let host: SshHost;
  const expected = HOSTILE.map((s) => `${s}\0`).join('');
  const printf = shJoin(['printf', '%s\\0', ...HOSTILE]);

  before(async () => {
    const config = loadConfig(labInfo()!.config);
    host = new SshHost(config.hosts[config.to]!, config.ssh);
    await host.connect();
  });
  after(async () => {
    await host?.close();
  });

  function same(actual: string, shell: string): void {
    if (actual === expected) return;
    const got = actual.split('\0');
    const i = HOSTILE.findIndex((s, k) => got[k] !== s);
    assert.fail(`${shell}: string #${i} ${JSON.stringify(HOSTILE[i])} arrived as ${JSON.stringify(got[i])}`);
  }

  test(`there are at least 40 hostile strings (${HOSTILE.length})`, () => {
    assert.ok(HOSTILE.length >= 40);
    assert.equal(new Set(HOSTILE).size, HOSTILE.length);
  });

  test('argv through the login shell arrives byte for byte', async () => {
    const r = await host.run({ argv: ['printf', '%s\\0', ...HOSTILE] });
    assert.equal(r.code, 0, r.stderr);
    same(r.rawStdout, 'login shell');
    assert.equal(r.rawStderr.includes('pwned'), false);
  });

  for (const shell of ['dash', 'bash']) {
    test(`a script run by ${shell} -c arrives byte for byte`, async () => {
      const r = await host.run({ script: `${shell} -c ${shQuote(printf)}` });
      assert.equal(r.code, 0, r.stderr);
      same(r.rawStdout, shell);
    });

    test(`each string on its own through ${shell} -c`, async () => {
      const script = HOSTILE.map((s) => `${shell} -c ${shQuote(shJoin(['printf', '%s\\0', s]))}`).join('\n');
      const r = await host.run({ script });
      assert.equal(r.code, 0, r.stderr);
      same(r.rawStdout, `${shell} one by one`);
    });
  }

  test('quoting nests: a quoted script inside a quoted script', async () => {
    const inner = `bash -c ${shQuote(printf)}`;
    const r = await host.run({ script: `dash -c ${shQuote(inner)}` });
    assert.equal(r.code, 0, r.stderr);
    same(r.rawStdout, 'dash → bash');
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { shJoin, shQuote } from '../../src/core/quote.ts';

test('safe words stay bare', () => {
  for (const w of ['docker', 'ragflowauth-backend:v2', '/var/lib/releaseflow', 'a=b', 'user@host', '--tail', '50%', 'x,y', 'sha256:abc', '+1']) {
    assert.equal(shQuote(w), w);
  }
});

test('anything else is single-quoted', () => {
  assert.equal(shQuote(''), "''");
  assert.equal(shQuote('a b'), "'a b'");
  assert.equal(shQuote('$(reboot)'), "'$(reboot)'");
  assert.equal(shQuote('`id`'), "'`id`'");
  assert.equal(shQuote('*'), "'*'");
  assert.equal(shQuote('~'), "'~'");
  assert.equal(shQuote('{a,b}'), "'{a,b}'");
  assert.equal(shQuote('a\nb'), "'a\nb'");
  assert.equal(shQuote('back\\slash'), "'back\\slash'");
  assert.equal(shQuote('é'), "'é'");
});

test("a single quote becomes '\\''", () => {
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote("'"), "''\\'''");
  assert.equal(shQuote("''"), "''\\'''\\'''");
});

test('a NUL byte is refused: argv cannot carry it', () => {
  assert.throws(() => shQuote('a\0b'), TypeError);
  assert.throws(() => shJoin(['ok', '\0']), TypeError);
});

test('no bash-only syntax: never $\'…\' quoting', () => {
  for (const s of ['\t', '\r', '\x7f', '\x01', "a'b\nc"]) assert.doesNotMatch(shQuote(s), /\$'/);
});

test('shJoin quotes each argument and joins with spaces', () => {
  assert.equal(shJoin([]), '');
  assert.equal(shJoin(['docker', 'rename', 'web', 'web prev']), "docker rename web 'web prev'");
  assert.equal(shJoin(['echo', '', 'x']), "echo '' x");
  assert.equal(shJoin(['printf', '%s\\0', "a'b"]), "printf '%s\\0' 'a'\\''b'");
});

test('round trip through local dash and bash (the ssh round trip is in the lab tests)', () => {
  const args = ['', ' ', "'", '"', '$(id)', '`id`', '$HOME', '\\', '\n', '\t', '*', '~', '-n', ';|&<>', 'é€😀', '\x7f', "a'b\"c$d`e"];
  const expected = args.map((a) => `${a}\0`).join('');
  for (const sh of ['dash', 'bash']) {
    const out = execFileSync(sh, ['-c', shJoin(['printf', '%s\\0', ...args])], { encoding: 'utf8' });
    assert.equal(out, expected, sh);
  }
});

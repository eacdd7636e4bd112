// The CLI's own surface: --version from package.json, -c/--config in every subcommand's --help.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import type { Command } from '@commander-js/extra-typings';
import { buildProgram, main } from '../../src/cli/main.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function allCommands(cmd: Command): Command[] {
  return [cmd, ...(cmd.commands as Command[]).flatMap((c) => allCommands(c))];
}

test('--version prints the version in package.json', async (t) => {
  const out: string[] = [];
  t.mock.method(process.stdout, 'write', (s: string) => out.push(s) > 0);
  const code = await main(['node', 'releaseflow', '--version']);
  t.mock.restoreAll();
  assert.equal(code, 0);
  assert.equal(out.join('').trim(), pkg.version);
});

test("every subcommand's --help lists -c/--config", () => {
  const program = buildProgram({ code: 0 });
  const subs = allCommands(program).filter((c) => c !== program);
  assert.ok(subs.length >= 10);
  for (const c of subs) assert.match(c.helpInformation(), /-c, --config <file>/, `releaseflow ${c.name()} --help`);
});

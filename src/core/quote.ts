// The one quoting function: argv → a POSIX sh string (works in dash, bash, busybox sh).

/** Quote one argument with POSIX single quotes; `'` becomes `'\''`. NUL cannot be passed in argv. */
export function shQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('an argument cannot contain a NUL byte');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join argv into one shell command line, each argument quoted. */
export function shJoin(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ');
}

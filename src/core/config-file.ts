// Reading the config file safely: a regular file of bounded size (not /dev/zero, a FIFO or a 2 GB log), and
// error messages that never echo more than one short piece of whatever file was given.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from './errors.ts';

/** Larger than any real config by far; a bigger file is not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
const SHORT = 32;

/**
 * A key from the file, safe to print: a short word-like key as it is (a typo such as `helath`), anything
 * else (a line of /etc/shadow, a token) not at all.
 */
export function shortKey(k: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(k) && k.length <= SHORT ? k : '(a key that is no config key)';
}

/** A message from a parser, safe to print: printable ASCII only, at most 80 characters. */
export function shortText(t: string): string {
  const clean = t.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/** The text of a config file: a regular file (after symlinks) of at most MAX_CONFIG_BYTES, as UTF-8. */
export function readConfigText(file: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { fix: 'check the path and its permissions' });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new ConfigError(`config file ${file} is not a regular file`, { fix: 'pass --config a YAML file (see the README, "Configuration")' });
    }
    if (st.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(`config file ${file} is ${st.size} bytes; a releaseflow config is at most ${MAX_CONFIG_BYTES} bytes`, { fix: 'pass --config the releaseflow YAML file (see the README, "Configuration")' });
    }
    // read at most one byte past the limit: a file that grows while we read is still bounded
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_CONFIG_BYTES) {
      throw new ConfigError(`config file ${file} is larger than ${MAX_CONFIG_BYTES} bytes`, { fix: 'pass --config the releaseflow YAML file (see the README, "Configuration")' });
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

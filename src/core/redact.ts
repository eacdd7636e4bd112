// Secrets: env names that look secret, or are listed in config, are masked where their values stand; URL credentials wherever they stand.

export const MASK = '********';
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE/i;

/** Is this env name a secret, by the built-in patterns or the config's `secrets:` list? */
export function isSecretName(name: string, extra: readonly string[] = []): boolean {
  return SECRET_NAME.test(name) || extra.includes(name);
}

/** Mask the value of a NAME=value env entry when NAME is secret. */
export function maskEnvEntry(entry: string, extra: readonly string[] = []): string {
  const eq = entry.indexOf('=');
  if (eq < 0) return entry;
  const name = entry.slice(0, eq);
  return isSecretName(name, extra) ? `${name}=${MASK}` : entry;
}

/** The secret env entries (name and value) worth masking: values of 3 characters or more. */
export function secretEntries(env: readonly string[], extra: readonly string[] = []): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0 && isSecretName(e.slice(0, eq), extra) && e.length - eq - 1 >= 3) out.push({ name: e.slice(0, eq), value: e.slice(eq + 1) });
  }
  return out;
}

/**
 * URL userinfo: `scheme://user:password@` or `scheme://key@` (a DSN's key). Greedy up to the last `@` before
 * the host, so an unencoded `@` in a password is covered; `'` and `\` may stand in it (shQuote's `'\''`).
 */
const URL_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#"<>]*)@/g;

/** Mask the credential part of every URL's userinfo (`postgres://app:pw@db` → `postgres://app:********@db`, `https://key@sentry.io` → `https://********@sentry.io`). */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_USERINFO, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return `${scheme}${colon >= 0 ? `${info.slice(0, colon)}:${MASK}` : MASK}@`;
  });
}

/**
 * The passwords in URL values of env entries (whatever their names), for scrubbing free text: `pw` of
 * `postgres://app:pw@db`. A user-only userinfo (`postgres://app@db`) is usually a user name: it is masked
 * only inside its URL, not wherever the word occurs.
 */
export function urlCredentials(env: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of env) {
    for (const m of e.slice(e.indexOf('=') + 1).matchAll(URL_USERINFO)) {
      const info = m[2] ?? '';
      if (info.includes(':') && info.length - info.indexOf(':') - 1 >= 3) out.push(info.slice(info.indexOf(':') + 1));
    }
  }
  return out;
}

/** argv as it may be shown: `-e NAME=value` masked when NAME is secret, URL credentials masked in every argument. */
export function maskArgv(argv: readonly string[], extra: readonly string[] = []): string[] {
  return argv.map((a, i) => {
    const env = argv[i - 1] === '-e' || argv[i - 1] === '--env' ? a : undefined;
    if (env !== undefined) return maskUrlCredentials(maskEnvEntry(env, extra));
    if (a.startsWith('--env=')) return `--env=${maskUrlCredentials(maskEnvEntry(a.slice(6), extra))}`;
    return maskUrlCredentials(a);
  });
}

/** Collect the secret values of env entries, for scrubbing free text. */
export function secretValues(env: readonly string[], extra: readonly string[] = []): string[] {
  return secretEntries(env, extra).map((e) => e.value);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a value takes in printed text: as is, inside shQuote's quotes, JSON-escaped, and each of its lines. */
function forms(value: string): string[] {
  const quoted = value.replace(/'/g, `'\\''`);
  const out = new Set([value, quoted, JSON.stringify(value).slice(1, -1)]);
  // a multi-line value printed line by line (a rendered command), as is or inside quotes
  if (/[\r\n]/.test(value)) for (const v of [value, quoted]) for (const l of v.split(/\r?\n/)) if (l.trim().length >= 3) out.add(l.trim());
  return [...out].filter((f) => f.length >= 3);
}

/**
 * Where a weak value (one that is also part of a name releaseflow prints) still counts as a value:
 * after `=` (env `NAME=value`, `--opt=value`, optionally quoted), as a JSON string value after a key,
 * as URL userinfo (`:value@`), or alone on a line. Anywhere else it is a name and stays readable.
 */
function valuePositions(value: string): RegExp {
  const v = escapeRe(value);
  const end = `(?=["']?(?:$|[\\s,;&)}\\]"'\\\\]))`;
  return new RegExp([`(?<==["']?)${v}${end}`, `(?<=":\\s*")${v}(?=")`, `(?<=[:/])${v}(?=@)`, `(?<=^[ \\t]*)${v}(?=[ \\t]*$)`].join('|'), 'gm');
}

/**
 * A scrubber for free text. A secret value is masked wherever it occurs (longest first, so overlaps mask
 * fully), unless it is weak: part of a name releaseflow prints itself (container, service, project,
 * image, host). A weak value is masked only where it stands as a value, so `WORDPRESS_DB_PASSWORD=wordpress`
 * does not turn the container `wordpress-server-1` into `********-server-1`.
 */
export class Redactor {
  private values: string[] = [];
  private names: string[] = [];
  private weak = new Map<string, RegExp>();

  add(values: Iterable<string>): void {
    for (const v of values) if (v.length >= 3 && !this.values.includes(v)) this.values.push(v);
    this.values.sort((a, b) => b.length - a.length);
    this.classify();
  }

  /** Names releaseflow prints itself; returns the known secret values that are part of one (weak secrets). */
  protect(names: Iterable<string>): string[] {
    for (const n of names) if (n && !this.names.includes(n.toLowerCase())) this.names.push(n.toLowerCase());
    this.classify();
    return [...this.weak.keys()];
  }

  /** Is this value a weak secret (part of a name releaseflow prints)? */
  isWeak(value: string): boolean {
    return this.weak.has(value);
  }

  private classify(): void {
    for (const v of this.values) {
      if (!this.weak.has(v) && this.names.some((n) => n.includes(v.toLowerCase()))) this.weak.set(v, valuePositions(v));
    }
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values) {
      const weak = this.weak.get(v);
      if (weak) {
        if (out.includes(v)) out = out.replace(weak, MASK);
        continue;
      }
      for (const f of forms(v)) if (out.includes(f)) out = out.split(f).join(MASK);
    }
    return maskUrlCredentials(out);
  }
}

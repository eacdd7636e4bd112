// Secrets: env names that look secret, or are listed in config, are masked everywhere.

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

/** Collect the secret values of env entries, for scrubbing free text. */
export function secretValues(env: readonly string[], extra: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0 && isSecretName(e.slice(0, eq), extra) && e.length - eq - 1 >= 3) out.push(e.slice(eq + 1));
  }
  return out;
}

/** A scrubber that replaces every known secret value in text; longest first so overlaps mask fully. */
export class Redactor {
  private values: string[] = [];
  add(values: Iterable<string>): void {
    for (const v of values) if (v.length >= 3 && !this.values.includes(v)) this.values.push(v);
    this.values.sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }
}

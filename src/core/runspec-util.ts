// Small pure helpers shared by the runspec modules: emptiness, equality, unit formatting, CSV fields.

/** Is this inspect value "not set" (undefined, null, '', 0, false, empty array or object)? */
export function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** Deep equality of JSON values, with null/undefined/[]/{} of the same kind treated as unset. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object).filter((k) => !isEmpty((a as Record<string, unknown>)[k]));
    const kb = Object.keys(b as object).filter((k) => !isEmpty((b as Record<string, unknown>)[k]));
    return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** Bytes in the shortest exact `docker` unit form (`512m`, `1g`, `1536k`, `1000`): binary units, as the CLI parses them. */
export function dockerBytes(n: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'g'],
    [1024 ** 2, 'm'],
    [1024, 'k'],
  ];
  for (const [size, unit] of units) if (n !== 0 && n % size === 0) return `${n / size}${unit}`;
  return String(n);
}

/** Nanoseconds as a Go duration string the CLI parses exactly (`30s`, `1500ms`, `250us`, `7ns`). */
export function dockerDuration(ns: number): string {
  const units: [number, string][] = [
    [3_600_000_000_000, 'h'],
    [60_000_000_000, 'm'],
    [1_000_000_000, 's'],
    [1_000_000, 'ms'],
    [1_000, 'us'],
  ];
  for (const [size, unit] of units) if (ns % size === 0) return `${ns / size}${unit}`;
  return `${ns}ns`;
}

/** NanoCpus as the `--cpus` decimal (1500000000 → `1.5`). */
export function dockerCpus(nano: number): string {
  const whole = Math.floor(nano / 1e9);
  const frac = String(nano % 1e9).padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** One field of a CSV record (Go encoding/csv): quoted when it holds `,`, `"`, a newline or leading space. */
export function csvField(field: string): string {
  if (!/[",\r\n]/.test(field) && !/^\s/.test(field)) return field;
  return `"${field.replace(/"/g, '""')}"`;
}

/** A CSV record of fields, as `--mount`, `--network` and `--gpus` values take them. */
export function csvRecord(fields: string[]): string {
  return fields.map(csvField).join(',');
}

/** The key of an env entry: everything before the first `=`. */
export function envKey(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}


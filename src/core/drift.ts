// Drift (pure): how TEST's configuration of a container differs from PROD's in what a release does
// not change. Both sides are runspecs (toRunSpec), which already leave out what each container's
// image set by default, so a new image default is not drift; only what the operators set differs.
// Secret values are never shown: a secret env var that differs says only that it differs.
import { ExitCode, ReleaseflowError } from './errors.ts';
import { parseImageInspect, parseInspect } from './inspect.ts';
import type { ContainerInput, ImageLike, InspectLike } from './plan.ts';
import { isSecretName, maskUrlCredentials } from './redact.ts';
import { toRunSpec } from './runspec.ts';
import type { RunSpec } from './runspec-types.ts';

/** One difference, for the plan, the log and --json. */
export interface DriftItem {
  container: string;
  /** What differs: `env`, `label`, or the runspec field (publish, binds, networks, restart, …). */
  kind: string;
  /** For env and labels: the name. */
  name?: string;
  /** A short sentence: what TEST has, what PROD has. */
  detail: string;
  /** This release takes TEST's value (promote --carry). */
  carried?: boolean;
}

// per-host by nature: a hostname or MAC differs between hosts on purpose, the image is what we release
const IGNORED = new Set(['image', 'hostname', 'domainname', 'macAddress', 'env', 'labels']);

function envMap(env: readonly string[]): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (const e of env) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? undefined : e.slice(i + 1));
  }
  return m;
}

const short = (v: unknown) => {
  const raw = typeof v === 'string' ? v : JSON.stringify(v);
  if (raw === undefined) return '(not set)';
  const s = maskUrlCredentials(raw);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** Sorted JSON, so that [] vs absent and key order are no difference. */
function canon(v: unknown): string | undefined {
  if (v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0)) return undefined;
  if (Array.isArray(v)) return JSON.stringify([...v].map((x) => (typeof x === 'string' ? x : canon(x))).sort());
  if (typeof v === 'object') return JSON.stringify(Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k]) ?? null])));
  return JSON.stringify(v);
}

/** The differences between TEST's and PROD's runspec of one container. `secrets`: extra secret names from the config. */
export function driftOf(container: string, test: RunSpec, prod: RunSpec, secrets: readonly string[] = []): DriftItem[] {
  const out: DriftItem[] = [];
  const te = envMap(test.env);
  const pe = envMap(prod.env);
  const show = (name: string, v: string | undefined) => (isSecretName(name, secrets) ? '(secret)' : short(v ?? ''));
  for (const [name, v] of te) {
    if (!pe.has(name)) out.push({ container, kind: 'env', name, detail: `env ${name}: only on TEST (${show(name, v)})` });
    else if (pe.get(name) !== v) {
      const [t, p] = [short(v ?? ''), short(pe.get(name) ?? '')];
      const detail = isSecretName(name, secrets) ? 'differs (secret: values not shown)' : t === p ? 'differs in its URL credentials (not shown)' : `TEST ${t}, PROD ${p}`;
      out.push({ container, kind: 'env', name, detail: `env ${name}: ${detail}` });
    }
  }
  for (const [name, v] of pe) if (!te.has(name)) out.push({ container, kind: 'env', name, detail: `env ${name}: only on PROD (${show(name, v)})` });
  const tl = test.labels;
  const pl = prod.labels;
  for (const k of new Set([...Object.keys(tl), ...Object.keys(pl)])) {
    if (tl[k] === pl[k]) continue;
    out.push({ container, kind: 'label', name: k, detail: !(k in pl) ? `label ${k}: only on TEST (${short(tl[k])})` : !(k in tl) ? `label ${k}: only on PROD (${short(pl[k])})` : `label ${k}: TEST ${short(tl[k])}, PROD ${short(pl[k])}` });
  }
  // docker run flags one by one (--restart, --memory, …), by name
  const flags = (sp: RunSpec) => {
    const m = new Map<string, string[]>();
    for (const f of sp.flags as unknown as [string, string?][]) m.set(f[0], [...(m.get(f[0]) ?? []), f[1] ?? '']);
    return m;
  };
  const tf = flags(test);
  const pf = flags(prod);
  for (const f of [...new Set([...tf.keys(), ...pf.keys()])].sort()) {
    const a = tf.get(f)?.join(' ');
    const b = pf.get(f)?.join(' ');
    if (a !== b) out.push({ container, kind: f.replace(/^-+/, ''), detail: `${f}: TEST ${a ?? '(not set)'}, PROD ${b ?? '(not set)'}` });
  }
  const keys = new Set([...Object.keys(test), ...Object.keys(prod)].filter((k) => !IGNORED.has(k) && k !== 'flags'));
  for (const k of [...keys].sort()) {
    const a = (test as unknown as Record<string, unknown>)[k];
    const b = (prod as unknown as Record<string, unknown>)[k];
    if (canon(a) === canon(b)) continue;
    if (Array.isArray(a) || Array.isArray(b)) {
      // lists (ports, mounts, networks…): which entries only one side has
      const as = ((a as unknown[]) ?? []).map((x) => short(x));
      const bs = ((b as unknown[]) ?? []).map((x) => short(x));
      const onlyT = as.filter((x) => !bs.includes(x));
      const onlyP = bs.filter((x) => !as.includes(x));
      out.push({ container, kind: k, detail: [onlyT.length ? `${k}: only on TEST ${onlyT.join(', ')}` : '', onlyP.length ? `${k}: only on PROD ${onlyP.join(', ')}` : ''].filter(Boolean).join('; ') || `${k}: in another order` });
      continue;
    }
    out.push({ container, kind: k, detail: `${k}: TEST ${short(a)}, PROD ${short(b)}` });
  }
  return out;
}

/** `env:NAME` entries → names; anything else is a usage error naming what is supported. */
export function parseCarry(carry: readonly string[]): string[] {
  return carry.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean).map((c) => {
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(c);
    if (!m) throw new ReleaseflowError(`--carry ${JSON.stringify(c)}: only env:NAME can be carried today`, { fix: 'write --carry env:NAME (several: env:A,env:B)' }, ExitCode.usage);
    return m[1]!;
  });
}

/** The drift of one container, when both hosts have it (pure over observed facts). */
export function driftOfContainer(c: ContainerInput, secrets: readonly string[]): DriftItem[] {
  if (!c.source || !c.sourceImage || !c.target || !c.targetImage) return [];
  const spec = (i: InspectLike, img: ImageLike) => toRunSpec(parseInspect(i), parseImageInspect(img)).spec;
  return driftOf(c.name, spec(c.source, c.sourceImage), spec(c.target, c.targetImage), secrets);
}

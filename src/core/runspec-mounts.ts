// Mounts of a runspec: binds and named volumes verbatim, --mount, --tmpfs, --volumes-from, anonymous volumes.
import type { ContainerFacts, ImageFacts, MountRequest } from './inspect.ts';
import type { RunSpec, ToRunSpecOptions } from './runspec-types.ts';
import { isEmpty } from './runspec-util.ts';

const MOUNT_KNOWN = new Set(['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'BindOptions', 'VolumeOptions', 'TmpfsOptions']);

/** The container path of a `-v` entry (`src:dst[:opts]`, or `/dst` alone). */
export function bindTarget(bind: string): string {
  const parts = bind.split(':');
  return parts.length >= 2 ? (parts[1] ?? '') : (parts[0] ?? '');
}

function warnMount(m: MountRequest, i: number, w: string[]): void {
  for (const [k, v] of Object.entries(m)) {
    if (!MOUNT_KNOWN.has(k) && !isEmpty(v)) w.push(`HostConfig.Mounts[${i}].${k} is not understood; dropped`);
  }
  if (m.BindOptions?.CreateMountpoint) w.push(`HostConfig.Mounts[${i}].BindOptions.CreateMountpoint has no --mount key; dropped (create ${m.Source} on the host)`);
  if (!isEmpty(m.TmpfsOptions?.Options)) w.push(`HostConfig.Mounts[${i}].TmpfsOptions.Options has no --mount key; dropped`);
}

/** Fill binds, mounts, tmpfs and volumes-from; anonymous volumes follow opts.anonymousVolumes (default reuse). */
export function mountSpec(facts: ContainerFacts, oldImage: ImageFacts, opts: ToRunSpecOptions, spec: RunSpec, w: string[]): void {
  const h = facts.HostConfig;
  const policy = opts.anonymousVolumes ?? 'reuse';
  spec.binds = [...(h.Binds ?? [])];
  spec.mounts = (h.Mounts ?? []).map((m, i) => {
    warnMount(m, i, w);
    return structuredClone(m);
  });
  spec.tmpfs = { ...(h.Tmpfs ?? {}) };
  spec.volumesFrom = [...(h.VolumesFrom ?? [])];
  const covered = new Set([...spec.binds.map(bindTarget), ...spec.mounts.map((m) => m.Target), ...Object.keys(spec.tmpfs)]);
  const imageVolumes = oldImage.Config.Volumes ?? {};
  const volumeAt = (dst: string) => facts.Mounts.find((m) => m.Type === 'volume' && m.Destination === dst && m.Name)?.Name;
  const short = (name: string) => (/^[0-9a-f]{64}$/.test(name) ? `${name.slice(0, 12)}…` : name);
  // anonymous volumes of `--mount type=volume` without a source
  for (const m of spec.mounts) {
    if (m.Type !== 'volume' || m.Source || policy !== 'reuse') continue;
    const name = volumeAt(m.Target);
    if (name) {
      m.Source = name;
      w.push(`anonymous volume ${short(name)} at ${m.Target} is reused by name: its data is kept, and the new image's files at ${m.Target} do not replace it`);
    }
  }
  for (const dst of Object.keys(facts.Config.Volumes ?? {})) {
    if (covered.has(dst)) continue;
    const fromImage = dst in imageVolumes;
    const name = policy === 'reuse' ? volumeAt(dst) : undefined;
    if (name) {
      spec.binds.push(`${name}:${dst}`);
      const why = fromImage ? "the image's VOLUME" : '-v';
      w.push(`anonymous volume ${short(name)} at ${dst} (${why}) is reused by name: its data is kept, and the new image's files at ${dst} do not replace it`);
    } else if (!fromImage) {
      spec.binds.push(dst);
      if (policy === 'reuse') w.push(`anonymous volume at ${dst}: no volume found in Mounts (container never created it?); the new container gets a fresh one`);
    }
  }
}

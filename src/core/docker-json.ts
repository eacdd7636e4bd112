// JSON as docker prints it (inspect output), read out of a remote shell's stdout (pure).

/** JSON as docker prints it: read field by field, as docker documents it. */
// biome-ignore lint/suspicious/noExplicitAny: docker's JSON is read by field names, checked where used
export type DockerJson = Record<string, any>;

/** Parse a JSON array out of stdout, tolerating banner text printed before it by a login shell. */
export function parseJsonArray(stdout: string): unknown[] {
  // a banner line may itself start with '[': try each line that does, first to last
  for (const m of stdout.matchAll(/^\[/gm)) {
    try {
      const v = JSON.parse(stdout.slice(m.index));
      if (Array.isArray(v)) return v;
    } catch {
      /* not the JSON yet */
    }
  }
  return [];
}

// Where releaseflow keeps its state on a host, and the names it gives to previous containers and images.

/** Paths in the state folder on a host: /var/lib/releaseflow/<app>/… */
export function statePaths(stateDir: string, app: string, releaseId?: string) {
  const root = `${stateDir.replace(/\/+$/, '')}/${app}`;
  return {
    root,
    lock: `${root}/lock`,
    history: `${root}/history.jsonl`,
    releases: `${root}/releases`,
    release: releaseId ? `${root}/releases/${releaseId}` : '',
  };
}

/** A release ID from the clock: sortable, safe in names and tags (20261128T150102Z). */
export function makeReleaseId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Name the previous container is kept under. */
export function prevContainerName(name: string, releaseId: string): string {
  return `${name}-rf-prev-${releaseId}`;
}

/** Tag the previous image is kept under, so rollback never depends on a tag docker load moved. */
export function prevImageTag(name: string, releaseId: string): string {
  return `releaseflow-prev/${name.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}:${releaseId}`;
}

/** Recognise a kept previous container and its release. */
export function parsePrevName(containerName: string, name: string): string | undefined {
  const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}-rf-prev-(\\d{8}T\\d{6}Z)$`).exec(containerName);
  return m?.[1];
}

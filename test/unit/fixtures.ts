// Inspect JSON captured from the real lab (lab/lab.sh fixtures), loaded for unit tests.
import { readFileSync } from 'node:fs';

/** The first object of a captured `docker inspect` array. */
export function fixture<T = any>(name: string): T {
  const arr = JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
  return (Array.isArray(arr) ? arr[0] : arr) as T;
}

/**
 * Checkpoint names. An auto-versioned step checkpoints each completion as `step#0`,
 * `step#1`, ...; the run's logical cursor counts steps by their base name.
 */

/** The checkpoint name of one iteration of an auto-versioned step. */
export function versionedName(step: string, iteration: number): string {
  return `${step}#${iteration}`;
}

/** `step#2` → `step`; a plain name is its own base. */
export function baseStepName(name: string): string {
  const hash = name.lastIndexOf("#");
  if (hash === -1) return name;
  return /^\d+$/.test(name.slice(hash + 1)) ? name.slice(0, hash) : name;
}

/** `step#2` → 2; null for a plain name. */
export function iterationOf(name: string): number | null {
  const hash = name.lastIndexOf("#");
  if (hash === -1) return null;
  const suffix = name.slice(hash + 1);
  return /^\d+$/.test(suffix) ? Number(suffix) : null;
}

/** How many distinct steps (by base name) these checkpoints cover. */
export function logicalCursor(names: Iterable<string>): number {
  const bases = new Set<string>();
  for (const name of names) bases.add(baseStepName(name));
  return bases.size;
}

/**
 * Where a rewind to `step` cuts a run's checkpoints (given in insertion order): from the
 * first checkpoint of `step` on, everything goes. Null when `step` has no checkpoint.
 */
export function rewindCut(
  orderedNames: string[],
  step: string,
): { keep: string[]; drop: string[]; cursor: number } | null {
  const base = baseStepName(step);
  const index = orderedNames.findIndex((name) => baseStepName(name) === base);
  if (index === -1) return null;
  const keep = orderedNames.slice(0, index);
  return { keep, drop: orderedNames.slice(index), cursor: logicalCursor(keep) };
}

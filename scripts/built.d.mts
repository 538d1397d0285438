/** The files tsup writes for the two entries (each with its chunks beside it). */
export const DIST_ENTRIES: readonly string[];
/**
 * Why dist/ cannot be trusted (missing entries, or a source newer than the build), or null
 * when it is a build of the current sources.
 */
export function distProblem(): string | null;
/** Throws, saying what to do, unless dist/ is a build of the current sources. */
export function assertDistFresh(who: string): void;

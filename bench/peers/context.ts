// What a peer module is given to load its package: shared by Node (index.ts) and the page.

/** Where the peers come from: a folder's node_modules in Node, the page's bundle in a browser. */
export interface PeerContext {
  /** The folder whose node_modules holds the peers (bench/ unless told otherwise). */
  dir: string;
  /** Imports a peer package (its ES module namespace). */
  load(name: string): Promise<Record<string, unknown>>;
  /** A package's installed version, or undefined when it is not there. */
  version(name: string): string | undefined;
}

/** A CommonJS module imported from ESM arrives as { default: module.exports }. */
export function moduleObject<T>(mod: Record<string, unknown>): T {
  const d = mod.default;
  return (d !== undefined && d !== null && typeof d === "object" ? d : mod) as T;
}

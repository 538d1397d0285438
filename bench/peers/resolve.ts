// Loads a peer package lazily from the folder its install lives in (bench/ by default), the way
// Node's own ESM resolution would: package.json "exports" with the conditions node, import and
// default, else "main". A package that is not there is an error the harness reports and skips.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const CONDITIONS = ["node", "import", "default"];

type Exports = string | null | Exports[] | { [key: string]: Exports };

function pickTarget(target: Exports): string | undefined {
  if (typeof target === "string") return target;
  if (target === null) return undefined;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = pickTarget(t);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(target)) {
    if (CONDITIONS.includes(key)) {
      const found = pickTarget(value);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function readPackage(dir: string, name: string): { root: string; json: Record<string, unknown> } {
  const root = join(dir, "node_modules", ...name.split("/"));
  const file = join(root, "package.json");
  if (!existsSync(file)) {
    throw new Error(
      `Cannot find package '${name}' in ${join(dir, "node_modules")} (install the bench's peers with: npm ci --prefix bench)`,
    );
  }
  return { root, json: JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown> };
}

/** The entry file Node would load for `import(name)` from a module in `dir`. */
export function resolvePeer(dir: string, name: string): string {
  const { root, json } = readPackage(dir, name);
  let entry: string | undefined;
  const exports = json.exports as Exports | undefined;
  if (exports !== undefined) {
    const isSubpathMap =
      typeof exports === "object" &&
      exports !== null &&
      !Array.isArray(exports) &&
      Object.keys(exports).some((k) => k.startsWith("."));
    entry = pickTarget(
      isSubpathMap ? ((exports as Record<string, Exports>)["."] ?? null) : exports,
    );
    if (entry === undefined)
      throw new Error(`package '${name}' exports no entry for import in Node`);
  } else {
    entry = typeof json.main === "string" ? json.main : "index.js";
  }
  return join(root, entry);
}

/** Imports a peer package installed in `dir`. */
export async function importPeer(dir: string, name: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(resolvePeer(dir, name)).href)) as Record<string, unknown>;
}

/** The installed version of a package, or undefined when it is not installed. */
export function peerVersion(dir: string, name: string): string | undefined {
  try {
    const v = readPackage(dir, name).json.version;
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

// `--custom file.ts` in Node: the module imported from its path (custom.ts checks its kernels;
// the browser run bundles the module into its page instead).
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type CustomKernel, kernelsOf } from "./custom";

/** The custom kernels a module exports: `export default kernel` or `export default [k1, k2]`. */
export async function loadCustomModule(
  path: string,
): Promise<{ module: string; kernels: CustomKernel[] }> {
  const module = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const mod = (await import(pathToFileURL(module).href)) as { default?: unknown };
  return { module, kernels: kernelsOf(mod, path) };
}

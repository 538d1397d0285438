// The quantized kernels on relaxed SIMD (relaxed.wat): whether this engine has them, the module
// compiled once, and where that kernel's panels keep a quantized map's blocks (relaxedQuantAt,
// for quant-panels.ts's packing). A map packed so is read only by relaxed.wat's rgemm
// (MapRegion.relaxed), which gives the same bits as gemm.wat's qgemm for blocks of any bytes
// (see relaxed.wat for why).
import { decodeBytes } from "../../base64";
import type { QuantDtype } from "../../dtype";
import type { GemmExports } from "./panels";
import type { QuantPlace } from "./quant-panels";
import { RELAXED_SHARED_FLAG, RELAXED_SHARED_FLAG_AT, RELAXED_WASM } from "./relaxed.wasm";

/** relaxed.wat's exports. */
export interface RelaxedExports {
  /**
   * `rows` rows of qgemm's i16 activation quants at xq (ldq bytes apart) as rgemm's bytes for a
   * map of weight code `code`, in place.
   */
  rrows(xq: number, ldq: number, rows: number, K: number, code: number): void;
  /** qgemm's computation (the same parameters, the same bits) on rrows' rows and this module's panels. */
  rgemm: GemmExports["qgemm"];
}

/**
 * The quantized types whose maps go to relaxed.wat where the engine has relaxed SIMD: Q4_0.
 * Not Q8_0, whose relaxed tiles (a `v128.xor` a weight vector and a widening after each dot)
 * measured slower than qgemm's (two quants to a 16-bit lane) on x86 (V8 12, one thread: about
 * 0.9x at one token, G1, and 0.8x in a batch, S3): {@link setRelaxedDot} turns them on.
 */
export const RELAXED_DTYPES: readonly QuantDtype[] = ["q4_0"];

let valid: boolean | undefined;
let chosen: readonly QuantDtype[] = RELAXED_DTYPES;
const modules: { private?: WebAssembly.Module; shared?: WebAssembly.Module } = {};

function bytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const b = decodeBytes(RELAXED_WASM) as Uint8Array<ArrayBuffer>;
  if (shared) b[RELAXED_SHARED_FLAG_AT] = RELAXED_SHARED_FLAG; // the memory import: shared
  return b;
}

/**
 * Whether this engine has relaxed SIMD's i8 dot product: it validates relaxed.wat's module
 * itself, once (Chromium, Node 22 and later do; Node 20 only with
 * --experimental-wasm-relaxed-simd; an engine without it rejects the whole module).
 */
export function hasRelaxedDot(): boolean {
  valid ??= typeof WebAssembly === "object" && WebAssembly.validate(bytes(false));
  return valid;
}

/**
 * Tests and the bench only: the quantized types whose maps every layer built after it packs for
 * relaxed.wat where the engine has relaxed SIMD ([] for none: gemm.wat's qgemm for every map;
 * {@link RELAXED_DTYPES} by default). A layer keeps the kernel it was built with. The bits are
 * the same either way.
 */
export function setRelaxedDot(dtypes: readonly QuantDtype[]): void {
  chosen = [...dtypes];
}

/** The types {@link setRelaxedDot} chose last (to put them back). */
export function relaxedDtypes(): readonly QuantDtype[] {
  return chosen;
}

/**
 * relaxed.wat compiled (importing a shared memory with `shared`), or null when a new layer of
 * `dtype` is not to use it: this engine lacks relaxed SIMD, or the type is not among those
 * chosen ({@link RELAXED_DTYPES}, {@link setRelaxedDot}). A layer's workers get the caller's
 * module, so they compute as it decided. Compiled synchronously the first time unless
 * {@link relaxedModuleAsync} compiled it already (the async factories call that first).
 */
export function relaxedModule(shared: boolean, dtype: QuantDtype): WebAssembly.Module | null {
  if (!chosen.includes(dtype) || !hasRelaxedDot()) return null;
  const key = shared ? "shared" : "private";
  modules[key] ??= new WebAssembly.Module(bytes(shared));
  return modules[key];
}

const pending: { private?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

/**
 * {@link relaxedModule}, compiled asynchronously (as browsers prefer) the first time and cached,
 * so that a layer built after this resolves compiles nothing; null when a layer of `dtype` would
 * not use it.
 */
export async function relaxedModuleAsync(
  shared: boolean,
  dtype: QuantDtype,
): Promise<WebAssembly.Module | null> {
  if (!chosen.includes(dtype) || !hasRelaxedDot()) return null;
  const key = shared ? "shared" : "private";
  const compiled = modules[key];
  pending[key] ??= (
    compiled !== undefined ? Promise.resolve(compiled) : WebAssembly.compile(bytes(shared))
  ).then((fresh) => (modules[key] ??= fresh));
  return pending[key];
}

/**
 * Where relaxed.wat's panels keep each quant, for packQuantPanels and unpackQuantPanels: the
 * bytes qgemm's panels take (its scales where qgemm has them), panel p, block b at at + (p ·
 * K/32 + b) · panelBlockBytes, the quants laid out for rgemm.
 */
export const relaxedQuantAt: QuantPlace = (dtype, c, k) => {
  const lane = 16 * (c >> 2) + 4 * (c & 3) + (k & 3);
  if (dtype === "q8_0") return [32 + 64 * (k >> 2) + lane, 0];
  return [32 + 64 * (k >> 3) + lane, 4 * ((k >> 2) & 1)];
};

// Finding out whether this engine can run the kernel, and compiling it once.
import { decodeBytes } from "../../base64";
import { GEMM_SHARED_FLAG, GEMM_SHARED_FLAG_AT, GEMM_WASM } from "./gemm.wasm";

// (module (func (result v128) (i32x4.splat (i32.const 0)))): valid only where SIMD128 is.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17,
  11,
]);

/** Whether the WebAssembly kernel can run here, and if not, why. */
export type Availability = { ok: true } | { ok: false; reason: string };

let availability: Availability | undefined;

/** Probes once: WebAssembly present, SIMD128 and the kernel validated, compiling allowed (CSP). */
export function wasmAvailability(): Availability {
  availability ??= probe();
  return availability;
}

function probe(): Availability {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.validate !== "function") {
    return { ok: false, reason: "this engine has no WebAssembly" };
  }
  if (!WebAssembly.validate(SIMD_PROBE)) {
    return { ok: false, reason: "this engine's WebAssembly has no SIMD128" };
  }
  // An engine from before SIMD128 was final may lack an instruction the kernel uses (the
  // 64-bit lane comparisons of its activations, say): ask about the kernel itself.
  if (!WebAssembly.validate(bytes(false) as Uint8Array<ArrayBuffer>)) {
    return { ok: false, reason: "this engine's WebAssembly lacks instructions the kernel uses" };
  }
  try {
    new WebAssembly.Module(SIMD_PROBE);
  } catch (e) {
    // A Content-Security-Policy without 'wasm-unsafe-eval' lands here.
    return {
      ok: false,
      reason: `compiling WebAssembly is not allowed here; a Content-Security-Policy must allow 'wasm-unsafe-eval' (${e instanceof Error ? e.message : String(e)})`,
    };
  }
  return { ok: true };
}

const modules: { private?: WebAssembly.Module; shared?: WebAssembly.Module } = {};
const pending: { private?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

function bytes(shared: boolean): Uint8Array {
  const b = decodeBytes(GEMM_WASM) as Uint8Array;
  if (shared) b[GEMM_SHARED_FLAG_AT] = GEMM_SHARED_FLAG; // the memory import's limits: shared
  return b;
}

/** The compiled kernel, compiling it synchronously the first time (the module is about 7 KB). */
export function gemmModuleSync(shared: boolean): WebAssembly.Module {
  const key = shared ? "shared" : "private";
  modules[key] ??= new WebAssembly.Module(bytes(shared) as Uint8Array<ArrayBuffer>);
  return modules[key];
}

/** The compiled kernel, compiled asynchronously the first time and cached. */
export function gemmModule(shared: boolean): Promise<WebAssembly.Module> {
  const key = shared ? "shared" : "private";
  const done = modules[key];
  if (done !== undefined) return Promise.resolve(done);
  pending[key] ??= WebAssembly.compile(bytes(shared) as Uint8Array<ArrayBuffer>).then((m) => {
    modules[key] = m;
    return m;
  });
  return pending[key];
}

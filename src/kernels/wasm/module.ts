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

/** The compiled kernel, compiling it synchronously the first time (the module is about 29 KB). */
export function gemmModuleSync(shared: boolean): WebAssembly.Module {
  const key = shared ? "shared" : "private";
  modules[key] ??= new WebAssembly.Module(bytes(shared) as Uint8Array<ArrayBuffer>);
  return modules[key];
}

/**
 * The compiled kernel, compiled asynchronously the first time (unless the constructor's path
 * compiled it already), warmed by {@link warmUp} and cached: a layer built once this resolves
 * runs the engine's optimized code from its first call.
 */
export function gemmModule(shared: boolean): Promise<WebAssembly.Module> {
  const key = shared ? "shared" : "private";
  const compiled = modules[key];
  pending[key] ??= (
    compiled !== undefined
      ? Promise.resolve(compiled)
      : WebAssembly.compile(bytes(shared) as Uint8Array<ArrayBuffer>)
  ).then(async (fresh) => {
    const m = (modules[key] ??= fresh);
    await warmUp(m, shared);
    return m;
  });
  return pending[key];
}

// The warm-up's scratch memory (2 pages), in bytes: x as 3 rows of K floats (a pair and an odd
// row, so both of gemm's row loops run), W1 as 4 panels of K rows (both of its column tiles),
// a bias, the output, the activation's values and its table.
const K = 256;
const PANELS = 4;
const W = 4096;
const BIAS = W + PANELS * K * 64;
const OUT = BIAS + PANELS * 64;
const ACT = OUT + 3 * PANELS * 64;
const ACT_N = 256;
const TAB = ACT + 4 * ACT_N;
// act's kinds (gemm.wat): 1 gelu, 2 geluTanh, 3 silu. The values span -16 to 16, both sides of
// every branch point (erf's series and continued fraction, exp's range), so every function
// act calls runs; erf's coefficients are left at zeros: the results are thrown away.
const ACT_KINDS = [1, 2, 3];
const ACT_VALUES = Float32Array.from({ length: ACT_N }, (_, i) => (i - ACT_N / 2) / 8);

// A batch runs BATCH_MS (a coarse page clock ticks every 0.1 ms), or MAX_CALLS calls. A function
// counts as warm once FLAT batches in a row were not GAIN times faster than its best before,
// and it runs FASTER times its first batch's speed (optimized code: gemm 3x in both engines,
// act 2x to 3x), or PATIENCE_MS have passed (an engine without a baseline tier never gets
// faster, nor does a module that is warm already). BUDGET_MS and MAX_BATCHES cap it all.
const BATCH_MS = 1;
const MAX_CALLS = 1000;
const GAIN = 1.25;
const FLAT = 3;
const FASTER = 1.5;
const PATIENCE_MS = 60;
const BUDGET_MS = 200;
const MAX_BATCHES = 100;

const now = (): number => (typeof performance === "object" ? performance.now() : Date.now());

/** A new task, from a MessageChannel: fake timers leave those alone (setTimeout they fake). */
function nextTask(): Promise<void> {
  if (typeof MessageChannel !== "function") return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Runs `step` for BATCH_MS (or MAX_CALLS times); its rate, in steps per millisecond, or NaN when
 * the clock did not move (a test's fake timers): then nothing can be timed.
 */
function rate(step: () => void): number {
  const t0 = now();
  let n = 0;
  let t = t0;
  do {
    step();
    n++;
    t = now();
  } while (t - t0 < BATCH_MS && n < MAX_CALLS);
  return t > t0 ? n / Math.max(t - t0, BATCH_MS) : NaN;
}

/**
 * Gets the engine's optimized code for gemm and act before a layer's first call. V8 (Node,
 * Chromium) runs a wasm function first as baseline code (Liftoff) and optimizes it (TurboFan)
 * only once it has run for a while; a call in progress keeps its code, so a layer's first
 * forward pass ran its first product, a single long call, as baseline code: at 128 tokens of
 * 768 x 3072 on one thread it took 2.5x the median of the calls after it (Node 20; 2.5x to 3.7x
 * in Chromium 156). Neither engine lets a page ask for the optimizing tier at compile time
 * (V8's flags for it, --no-liftoff, are for the command line; its compilation-hints section is
 * experimental). So: gemm and act run on a small scratch memory, in timed batches, until their
 * speed levels off after the step up (gemm's comes about 100 calls in), yielding between
 * batches so a background compiler gets a core. The optimized code belongs to the module: every
 * instance, and every worker it is sent to, runs it. Then the first forward pass took 1.13x to
 * 1.16x the median in Node (medians over 15 process starts, a busy machine). It costs about 20
 * ms once per process, 200 at most, and ignores any failure: the results are the same anyway.
 */
async function warmUp(module: WebAssembly.Module, shared: boolean): Promise<void> {
  try {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2, shared });
    const { gemm, act } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
      gemm: (...args: number[]) => void;
      act: (at: number, count: number, kind: number, tab: number) => void;
    };
    const f32 = new Float32Array(memory.buffer);
    f32.fill(0.5, 0, BIAS / 4);
    const steps = [
      () => gemm(0, 4 * K, 3, K, W, 64 * K, 0, PANELS, BIAS, 1, 0, OUT, 64 * PANELS),
      () => {
        for (const kind of ACT_KINDS) {
          f32.set(ACT_VALUES, ACT / 4);
          act(ACT, ACT_N, kind, TAB);
        }
      },
    ];
    for (const step of steps) step(); // the first call compiles it (V8 compiles lazily)
    const start = now();
    let warming = steps.map((step) => {
      const first = rate(step);
      return { step, first, best: first, flat: 0 };
    });
    for (let b = 0; warming.length > 0 && b < MAX_BATCHES && now() - start < BUDGET_MS; b++) {
      await nextTask();
      for (const w of warming) {
        const r = rate(w.step);
        if (Number.isNaN(r) || Number.isNaN(w.first)) return;
        w.flat = r > GAIN * w.best ? 0 : w.flat + 1;
        w.best = Math.max(w.best, r);
      }
      const waited = now() - start;
      warming = warming.filter(
        (w) => w.flat < FLAT || (w.best < FASTER * w.first && waited < PATIENCE_MS),
      );
    }
  } catch {
    // No scratch memory (a shared one, say, where the page may not have it): the layer works
    // without the warm-up.
  }
}

// Whether the async factories compile relaxed.wat ahead (relaxedModuleAsync, through the
// kernel's `prepare`): while `create` builds quantized layers on this engine's relaxed SIMD, on
// one thread and on workers, and runs them, records the kernel modules (1 KiB or more: not the
// few bytes of module.ts's availability probe) compiled synchronously (`new
// WebAssembly.Module`) and asynchronously (`WebAssembly.compile`), by size. Run as a script
// (test/wasm-relaxed.test.ts spawns it in Node 20 with --experimental-wasm-relaxed-simd): prints
// a JSON summary; exits 2 when this engine has no relaxed SIMD (so the check cannot pass by
// running nothing).
import { FeedForward, GatedFeedForward } from "../../src/index";
import { hasRelaxedDot } from "../../src/kernels/wasm/relaxed";

/** What the script prints. */
export interface RelaxedAsyncSummary {
  /** Sizes of the kernel modules compiled synchronously while the layers were made and run. */
  sync: number[];
  /** Sizes of those compiled asynchronously. */
  async: number[];
  /** Threads each layer runs on. */
  threads: number[];
}

if (!hasRelaxedDot()) {
  console.error("this engine has no relaxed SIMD: nothing was checked");
  process.exit(2);
}
const sync: number[] = [];
const async: number[] = [];
const Native = WebAssembly.Module;
const compile = WebAssembly.compile;
class Counted extends Native {
  constructor(bytes: BufferSource) {
    super(bytes);
    if (bytes.byteLength >= 1024) sync.push(bytes.byteLength);
  }
}
WebAssembly.Module = Counted as typeof WebAssembly.Module;
WebAssembly.compile = (bytes: BufferSource) => {
  if (bytes.byteLength >= 1024) async.push(bytes.byteLength);
  return compile(bytes);
};
const x = { rows: 3, cols: 64, data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)) };
const layers = [
  await FeedForward.create({ dModel: 64, dHidden: 96, seed: 1, dtype: "q4_0", threads: 1 }),
  await GatedFeedForward.create({ dModel: 64, dHidden: 96, seed: 2, dtype: "q4_0", threads: 2 }),
];
for (const l of layers) {
  l.forward(x);
  await l.forwardAsync(x);
}
const summary: RelaxedAsyncSummary = { sync, async, threads: layers.map((l) => l.threads) };
for (const l of layers) l.dispose();
console.log(JSON.stringify(summary));

// The WebAssembly kernel's activations (gemm.wat's `act`) against the JavaScript functions they
// port, bit for bit (any NaN equals any NaN: no one specifies NaN payloads): every float32
// bit pattern class (random patterns, so NaNs, infinities and subnormals too), values around
// every branch point of erf's series and continued fraction and of exp's range, and values of
// the size hidden activations have.
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, ACTIVATION_WASM, activateRange } from "../src/kernels/activation";
import { allocateMemory } from "../src/kernels/wasm/kernel";
import { type GemmExports, activatePanels } from "../src/kernels/wasm/panels";
import { layout } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import { Random } from "../src/index";
import { expectSameBits } from "./helpers/bits";

const N = 1 << 18;

function inputs(rng: Random): Float32Array {
  const x = new Float32Array(N);
  const bits = new Uint32Array(x.buffer);
  let i = 0;
  const put = (v: number) => {
    x[i++] = v;
    x[i++] = -v;
  };
  for (const v of [0, Infinity, NaN, 2 ** -149, 2 ** -126, 2 ** -124, 3.4e38]) put(v);
  // Below 2^-125 x/2 is rounded up, not to even; exp's limits (-746, 710) as silu and geluTanh
  // reach them; gelu's a = |x|/√2 at the series/fraction boundary (2), the fraction's depth
  // steps (2.5, 3, 4, 6) and its end (27).
  const edges = [2 ** -125, 710, 746, 355, 373, 88.7, 103.3].concat(
    [1, 2, 2.5, 3, 4, 6, 27].map((a) => a * Math.SQRT2),
  );
  for (const e of edges) {
    const at = new Uint32Array(new Float32Array([e]).buffer)[0] as number;
    for (let d = -40; d <= 40; d++)
      put(new Float32Array(new Uint32Array([at + d]).buffer)[0] as number);
  }
  for (; i < N / 2; i++) bits[i] = rng.uint32();
  for (; i < N; i++) x[i] = (rng.float() * 2 - 1) * Math.exp((rng.float() * 2 - 1) * 6);
  return x;
}

describe.each(ACTIVATIONS.filter((a) => a !== "relu"))("%s", (activation) => {
  it("act in the kernel gives the JavaScript function's bits", () => {
    // A layout whose hidden rows hold N floats: one token, dHidden = N.
    const lay = layout(1, N, 1, false);
    const memory = allocateMemory(lay, false);
    const exports = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
      .exports as unknown as GemmExports;
    const x = inputs(new Random(ACTIVATIONS.indexOf(activation) + 1));
    const hidden = new Float32Array(memory.buffer, lay.hidden[0] as number, N);
    hidden.set(x);
    activatePanels(
      exports.act,
      lay,
      lay.hidden[0] as number,
      1,
      0,
      lay.p1,
      ACTIVATION_WASM[activation],
    );
    const want = x.slice();
    activateRange(want, 0, N, activation);
    expectSameBits(hidden, want, activation);
    // and it did compute something: most values changed
    let changed = 0;
    for (let i = 0; i < N; i++) if (!Object.is(hidden[i], x[i])) changed++;
    expect(changed).toBeGreaterThan(N / 2);
  });
});

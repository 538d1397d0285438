// The checks of a contender on a WebGPU device (Contender.webgpu). WGSL rounds float32 + and *
// correctly and may fuse them into FMAs, as the bench's bound allows (reference.ts), but it may
// also flush subnormal results to zero, and its exp and division are not correctly rounded (exp
// within 3 + 2|x| ulp, x / y within 2.5 ulp). So:
//
//  - tokenwise's webgpu kernel is held to the bound its docs state and its tests hold it to
//    (docs/kernels.md, "Accuracy"; test/helpers/gpu64.ts computes it, and is used here as it is):
//    its gelu sums a 22-term series, a few hundred ulps off at worst, beyond the bench's α.
//  - a peer's WebGPU backend is held to the bench's bound, the model every peer is held to
//    (an activation good to 6u on its factor: exp within (3 + 2|v|) ulp still gives that, as
//    σ(1 − σ)·|v| ≤ 0.23), with the flushing added: 2^-125 per term of every sum, 2^-126 per
//    activation and gated product (as gpu64.ts adds it).
//
// The exact problem (exact.ts) is exact in float32 whatever the order and the FMAs; on a GPU it
// stays exact where the activation is: relu is a select (or max) for every contender, and the
// kernel's gelu returns v itself by a select beyond |v|/√2 = 10 (every hidden value there is at
// least 1536). silu and geluTanh divide v by 1 + e^-s, which WGSL may round 2.5 ulps off even
// where e^-s is 0, and a peer's gelu divides or calls erf, so those are checked by the bound alone.
import { gpuForward64 } from "../test/helpers/gpu64";
import type { WebgpuCheck } from "./contender";
import type { ActivationName } from "./layer";
import { type Problem, isGated } from "./problem";
import { type Reference, computeReference } from "./reference";

/** Whether the exact problem's output must come back bit for bit from this GPU contender. */
export function exactHoldsOnWebgpu(check: WebgpuCheck, activation: ActivationName): boolean {
  return activation === "relu" || (check === "kernel" && activation === "gelu");
}

/**
 * The float64 reference of one layer of the problem for the given rows, with the bound a WebGPU
 * contender of that kind is held to (see the top of this file).
 */
export function computeWebgpuReference(
  problem: Problem,
  rows: number[],
  check: WebgpuCheck,
  layer = 0,
): Reference {
  if (check === "peer") return computeReference(problem, rows, layer, true);
  const start = performance.now();
  const { dModel: D, dHidden: H } = problem.shape;
  const w = problem.layers[layer];
  if (w === undefined)
    throw new RangeError(`computeWebgpuReference: the problem has no layer ${layer}`);
  const x = new Float32Array(rows.length * D);
  rows.forEach((r, n) => x.set(problem.x.subarray(r * D, (r + 1) * D), n * D));
  const { y, bound } = gpuForward64(
    isGated(w)
      ? {
          dModel: D,
          dHidden: H,
          activation: problem.variant.activation,
          wIn: [w.wGate, w.wUp],
          bIn: [null, null],
          wOut: w.wDown,
          bOut: null,
        }
      : {
          dModel: D,
          dHidden: H,
          activation: problem.variant.activation,
          wIn: [w.w1],
          bIn: [w.b1],
          wOut: w.w2,
          bOut: w.b2,
        },
    x,
    rows.length,
  );
  return { rows, expected: y, bound, ms: performance.now() - start };
}

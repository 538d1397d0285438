// A kernel of your own, benched beside tokenwise and the peers:
//
//   npm run bench -- --custom docs/examples/custom-kernel.ts --shapes S2
//
// or from a script: see docs/examples/bench-custom-kernel.ts. The harness wraps the GEMM into the
// layer (adds b1, applies relu, runs the second GEMM, adds b2), checks its output against the
// float64 reference, and times it only if it is within the forward-error bound.
import type { GemmKernel } from "../../bench/api";

/**
 * out (m x n) = a (m x k) · b (k x n), row-major float32. Four rows of `a` share each pass over a
 * row of `b`, so `b` is read m/4 times instead of m times; the sums run in float64.
 */
const fourRowGemm: GemmKernel = {
  name: "four-row gemm (example)",
  gemm(out, a, b, m, k, n) {
    const acc = new Float64Array(4 * n);
    for (let i0 = 0; i0 < m; i0 += 4) {
      const rows = Math.min(4, m - i0);
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const bRow = p * n;
        for (let r = 0; r < rows; r++) {
          const av = a[(i0 + r) * k + p] as number;
          if (av === 0) continue; // relu leaves many zeros in the hidden activations
          const accRow = r * n;
          for (let j = 0; j < n; j++)
            acc[accRow + j] = (acc[accRow + j] as number) + av * (b[bRow + j] as number);
        }
      }
      for (let r = 0; r < rows; r++) out.set(acc.subarray(r * n, (r + 1) * n), (i0 + r) * n);
    }
  },
};

export default fourRowGemm;

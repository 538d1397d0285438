// The webgpu kernel's compute shaders, generated per layer: one tiled GEMM with the bias, the
// activation and (for a gated layer) the product with the up map fused into its epilogue.
//
// x is (rows, K) row-major, w is (K, NP) row-major as vec4 columns (NP = N padded to a multiple
// of TN with zeros), out is (rows, N). A workgroup computes a TM x TN block of out; each of its
// TM x TN/4 invocations computes one row's four adjacent columns (one vec4), summing k = 0 ..
// K-1 in order: acc = acc + x[r, k] * w[k, c], from acc = 0, then acc + b[c], then the
// activation. No element is split over invocations (no split-k, no atomics in the sums), every
// row runs the same instructions whatever its position in the batch, the tile shapes are
// constants of the layer, and rows beyond the batch are computed and dropped: so a token's
// output is the same bits in any batch on a given device. Whether a compiler fuses the
// multiply and the add into an FMA is its choice, but one choice for every row.
import type { ActivationName } from "../activation";

import { TK, TM, TN, padded } from "./tiles";

/**
 * What one GEMM of a layer computes. Its sizes are not in the shader but in its parameters
 * (rows, K, N, and N padded over 4), so that layers of any size share a device's pipelines.
 */
export interface GemmSpec {
  readonly bias: boolean;
  /** The activation of the epilogue, or null for none (the last map). */
  readonly activation: ActivationName | null;
  /** Whether a second map (up) is multiplied into the activated first (gate). */
  readonly gated: boolean;
  /** Whether the epilogue counts the zero results (the hidden values). */
  readonly count: boolean;
}

// The activations in float32, one lane at a time. relu is PyTorch's (v < 0 ? 0 : v). The
// others follow activation.ts's formulas: silu(v) = v / (1 + e^-v); the tanh form of gelu as
// v / (1 + e^(-2z)), z = √(2/π)(v + 0.044715 v³), which does not cancel in the negative tail;
// gelu = v Φ(v) with Φ from erf by its Maclaurin series for |v|/√2 < 2 and from erfc by
// Laplace's continued fraction beyond. WGSL's exp has an error of at most 3 + 2|x| ulp, so
// these are not correctly rounded; docs/kernels.md states the bound the tests hold them to.
const ACTIVATION_WGSL = `
fn relu1(v: f32) -> f32 { return select(v, 0.0, v < 0.0); }
fn silu1(v: f32) -> f32 { return v / (1.0 + exp(-v)); }
fn geluTanh1(v: f32) -> f32 {
  let z = 0.7978845608028654 * (v + 0.044715 * v * v * v);
  return v / (1.0 + exp(-2.0 * z));
}
fn gelu1(v: f32) -> f32 {
  let a = abs(v) * 0.7071067811865476;
  if (a < 2.0) {
    let a2 = a * a;
    // erf(a) = a * sum_n c_n a^(2n), c_n = (-1)^n 2/√π / (n! (2n+1)); 22 terms leave < 1e-9.
    var p = 0.0;
    for (var n = 21; n >= 0; n--) { p = p * a2 + ERF_C[n]; }
    let e = a * p;
    return select(0.5 * v * (1.0 + e), 0.5 * v * (1.0 - e), v < 0.0);
  }
  if (a > 10.0) { return select(v, 0.0, v < 0.0); }
  // erfc(a) = 2a e^(-a²) / √π / (2a² + 1 - 1·2 / (2a² + 5 - 3·4 / (2a² + 9 - ...))).
  let z2 = 2.0 * a * a;
  var f = z2 + 65.0;
  for (var n = 16; n > 0; n--) {
    let m = f32(n);
    f = z2 + (4.0 * m - 3.0) - ((2.0 * m - 1.0) * (2.0 * m)) / f;
  }
  let c = 2.0 * a * exp(-a * a) * 0.5641895835477563 / f;
  return select(v * (1.0 - 0.5 * c), 0.5 * v * c, v < 0.0);
}
`;

/** The erf series' 22 coefficients as a WGSL constant array (float32 literals). */
function erfCoefficients(): string {
  const c: string[] = [];
  for (let n = 0, f = 1; n < 22; n++, f *= n) {
    const v = ((n % 2 === 0 ? 1 : -1) * 1.1283791670955126) / (f * (2 * n + 1));
    c.push(Math.fround(v).toExponential(9));
  }
  return `const ERF_C = array<f32, 22>(${c.join(", ")});`;
}

const LANE_FN: Record<ActivationName, string> = {
  relu: "relu1",
  gelu: "gelu1",
  geluTanh: "geluTanh1",
  silu: "silu1",
};

/** Bytes of a GEMM's uniform parameters (five u32, the buffer rounded up to 32). */
export const PARAMS_BYTES = 32;

/** A GEMM's parameters as uploaded: rows, K, N, N padded over 4, base. */
export function gemmParams(rows: number, k: number, n: number, base: number): Uint32Array {
  const p = new Uint32Array(PARAMS_BYTES / 4);
  p.set([rows, k, n, padded(n) / 4, base]);
  return p;
}

/**
 * The WGSL of one GEMM. Binding 0: params (rows, K, N, N padded / 4, base); 1: x; 2: w; 3:
 * out; 4: count; 5: bias; 6, 7: up's w and bias. The rows are x's and out's rows base ..
 * base + rows - 1 (a mixture runs each expert on its group of rows of one buffer; a layer's
 * base is 0).
 */
export function gemmWgsl(spec: GemmSpec): string {
  const { bias, activation, gated, count } = spec;
  const TNV = TN / 4;
  const act = activation === null ? "" : LANE_FN[activation];
  const lanes = (e: string) =>
    act === "" ? e : `vec4<f32>(${act}(${e}.x), ${act}(${e}.y), ${act}(${e}.z), ${act}(${e}.w))`;
  const decl: string[] = [
    "struct Params { rows: u32, k: u32, n: u32, nv: u32, base: u32 }",
    "@group(0) @binding(0) var<uniform> params: Params;",
    "@group(0) @binding(1) var<storage, read> x: array<f32>;",
    "@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;",
    "@group(0) @binding(3) var<storage, read_write> y: array<f32>;",
  ];
  if (count) decl.push("@group(0) @binding(4) var<storage, read_write> zeros: atomic<u32>;");
  if (bias) decl.push("@group(0) @binding(5) var<storage, read> b: array<vec4<f32>>;");
  if (gated) {
    decl.push("@group(0) @binding(6) var<storage, read> wu: array<vec4<f32>>;");
    if (bias) decl.push("@group(0) @binding(7) var<storage, read> bu: array<vec4<f32>>;");
    decl.push(`var<workgroup> us: array<vec4<f32>, ${TK * TNV}>;`);
  }
  const epilogue: string[] = [];
  epilogue.push(`var v = acc${bias ? " + b[colv]" : ""};`);
  if (act !== "") epilogue.push(`v = ${lanes("v")};`);
  if (gated) epilogue.push(`v = v * (accu${bias ? " + bu[colv]" : ""});`);
  return `${activation === null ? "" : ACTIVATION_WGSL}
${activation === null ? "" : erfCoefficients()}
${decl.join("\n")}
const TM = ${TM}u;
const TK = ${TK}u;
const TNV = ${TNV}u;
var<workgroup> xs: array<f32, ${TM * TK}>;
var<workgroup> ws: array<vec4<f32>, ${TK * TNV}>;

@compute @workgroup_size(${TNV}, ${TM})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rows = params.rows;
  let K = params.k;
  let N = params.n;
  let NV = params.nv;
  let base = params.base;
  let row0 = wg.y * TM;
  let colv0 = wg.x * TNV;
  let row = row0 + lid.y;
  let colv = colv0 + lid.x;
  let li = lid.y * TNV + lid.x;
  // This invocation's share of the staging: one element of x's block, one vec4 of w's.
  let xm = li / TK;
  let xk = li % TK;
  let wk = li / TNV;
  let wn = li % TNV;
  var acc = vec4<f32>(0.0);
  ${gated ? "var accu = vec4<f32>(0.0);" : ""}
  for (var k0 = 0u; k0 < K; k0 += TK) {
    var xv = 0.0;
    if (row0 + xm < rows && k0 + xk < K) { xv = x[(base + row0 + xm) * K + k0 + xk]; }
    xs[li] = xv;
    var wv = vec4<f32>(0.0);
    ${gated ? "var uv = vec4<f32>(0.0);" : ""}
    if (k0 + wk < K) {
      wv = w[(k0 + wk) * NV + colv0 + wn];
      ${gated ? "uv = wu[(k0 + wk) * NV + colv0 + wn];" : ""}
    }
    ws[li] = wv;
    ${gated ? "us[li] = uv;" : ""}
    workgroupBarrier();
    let kEnd = min(TK, K - k0);
    for (var kk = 0u; kk < kEnd; kk++) {
      let xr = xs[lid.y * TK + kk];
      acc = acc + xr * ws[kk * TNV + lid.x];
      ${gated ? "accu = accu + xr * us[kk * TNV + lid.x];" : ""}
    }
    workgroupBarrier();
  }
  if (row < rows) {
    ${epilogue.join("\n    ")}
    ${count ? "var z = 0u;" : ""}
    for (var j = 0u; j < 4u; j++) {
      let c = colv * 4u + j;
      if (c < N) {
        y[(base + row) * N + c] = v[j];
        ${count ? "if (v[j] == 0.0) { z = z + 1u; }" : ""}
      }
    }
    ${count ? "if (z > 0u) { atomicAdd(&zeros, z); }" : ""}
  }
}
`;
}

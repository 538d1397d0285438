// The activations, one scalar at a time. Each is evaluated in float64 from a float32 input and
// rounded once to float32, so its result is the correctly rounded value of the true function
// but for rare double roundings (docs/activations.md gives the measured figures).
//
// Only + - * / and Math.round, Math.abs are used here: IEEE 754 fixes their results, so every
// JavaScript engine (and a WebAssembly port) computes the same bits. Math.exp and Math.tanh are
// not pinned down by the standard and differ by an ulp between engines, hence the exp below.

// ---- exp ----------------------------------------------------------------------------------

const LOG2E = 1.4426950408889634;
// ln 2 split in two: LN2_HI has 32 significant bits, so k * LN2_HI is exact for |k| < 2^21.
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

// Taylor coefficients 1/n!, n = 2..13. n! is exact in float64 up to 18!, so each coefficient
// is one correctly rounded division. On |r| <= ln2 / 2 the first omitted term, r^14 / 14!, is
// below 5e-18: far under float64's 1.1e-16.
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;
const E7 = 1 / 5040;
const E8 = 1 / 40320;
const E9 = 1 / 362880;
const E10 = 1 / 3628800;
const E11 = 1 / 39916800;
const E12 = 1 / 479001600;
const E13 = 1 / 6227020800;

// 2^j for j = -1022 .. 1023, built by exact doublings and halvings.
const POW2 = new Float64Array(2046);
POW2[1022] = 1;
for (let j = 1; j <= 1023; j++) POW2[1022 + j] = (POW2[1021 + j] as number) * 2;
for (let j = 1; j <= 1022; j++) POW2[1022 - j] = (POW2[1023 - j] as number) / 2;

// The float64 functions on the hot path pass their argument and result through R[0], not as a
// parameter and a return value: V8 boxes a float64 parameter or result on the heap when it does
// not inline a call (whether it does depends on its inlining budget), and an activation
// applied by a layer's forward must allocate nothing (test/allocation.test.ts). Each *R
// function reads its argument from R[0] and leaves its result there; the exported functions
// wrap them for everyone else.
const R = new Float64Array(1);

/**
 * e^x in float64 with an error of a few float64 ulps, the same bits on every engine.
 * Cody and Waite's reduction x = k ln2 + r, |r| <= ln2/2, then a Taylor polynomial for e^r.
 */
export function exp64(x: number): number {
  R[0] = x;
  expR();
  return R[0] as number;
}

function expR(): void {
  const x = R[0] as number;
  if (!(x > -746)) {
    R[0] = x !== x ? x : 0; // NaN stays NaN; e^x underflows below -745.2
    return;
  }
  if (x > 710) {
    R[0] = 1 / 0;
    return;
  }
  const k = Math.round(x * LOG2E);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = E13 * r + E12;
  p = p * r + E11;
  p = p * r + E10;
  p = p * r + E9;
  p = p * r + E8;
  p = p * r + E7;
  p = p * r + E6;
  p = p * r + E5;
  p = p * r + E4;
  p = p * r + E3;
  p = p * r + E2;
  p = p * r + 1;
  p = p * r + 1;
  if (k > 1023) R[0] = p * (POW2[2045] as number) * (POW2[1022 + k - 1023] as number);
  else if (k < -1022) R[0] = p * (POW2[0] as number) * (POW2[1022 + k + 1022] as number);
  else R[0] = p * (POW2[1022 + k] as number);
}

// ---- erf and erfc -------------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

// Maclaurin series erf(a) = 2/sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1)), as a polynomial
// in a^2 with the factor 2/sqrt(pi) folded into the coefficients. The first omitted term is
// below 1e-16 relative: 18 terms reach that for a <= 1, 32 terms for a < 2.
export const ERF_TERMS = 32;
/** The series' coefficients; the WebAssembly kernel's activations read a copy in its memory. */
export const ERF_C = new Float64Array(ERF_TERMS);
for (let n = 0, f = 1; n < ERF_TERMS; n++, f *= n) {
  ERF_C[n] = ((n % 2 === 0 ? 1 : -1) * TWO_OVER_SQRT_PI) / (f * (2 * n + 1));
}

/** erf(x) for |x| < 2 by the series (x in R[0]); odd, so the sign of x (and of zero) carries. */
function erfSeriesR(): void {
  const x = R[0] as number;
  const x2 = x * x;
  let p = 0;
  for (let n = x2 <= 1 ? 17 : ERF_TERMS - 1; n >= 0; n--) p = p * x2 + (ERF_C[n] as number);
  R[0] = x * p;
}

/**
 * erfc(a) for a >= 2 (a in R[0]) by the even part of Laplace's continued fraction,
 *   erfc(a) = 2a e^(-a^2) / sqrt(pi) / (2a^2 + 1 - 1·2 / (2a^2 + 5 - 3·4 / (2a^2 + 9 - ...)))
 * evaluated from a fixed depth backwards: one division a level, and half the levels Laplace's
 * own fraction needs. Each depth keeps the truncation error below 2e-17 relative at the low
 * end of its range, where it is largest (checked against mpmath in exact arithmetic: 1.3e-17
 * at a = 2, 9e-18 at 2.5, 7e-18 at 3, 3e-18 at 4, 5e-20 at 6).
 */
function erfcFractionR(): void {
  const a = R[0] as number;
  if (a > 27) {
    R[0] = 0; // e^(-a^2) underflows float64; NaN fails every test below too
    return;
  }
  const depth = a < 2.5 ? 30 : a < 3 ? 21 : a < 4 ? 16 : a < 6 ? 11 : 8;
  const z2 = 2 * a * a;
  let f = z2 + (4 * depth + 1);
  for (let n = depth; n > 0; n--) f = z2 + (4 * n - 3) - ((2 * n - 1) * (2 * n)) / f;
  R[0] = -a * a;
  expR();
  R[0] = (2 * a * (R[0] as number) * ONE_OVER_SQRT_PI) / f;
}

/** erfSeriesR or erfcFractionR on x, as a function. */
function erfSeries(x: number): number {
  R[0] = x;
  erfSeriesR();
  return R[0] as number;
}
function erfcFraction(a: number): number {
  R[0] = a;
  erfcFractionR();
  return R[0] as number;
}

/**
 * The error function in float64: relative error at most 5·2^-53 measured (docs/activations.md).
 * `erf64(NaN)` is NaN, `erf64(±Infinity)` is ±1, and the sign of zero is kept.
 */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 2) return erfSeries(x);
  if (a !== a) return a;
  const e = 1 - erfcFraction(a);
  return x < 0 ? -e : e;
}

/**
 * The complementary error function 1 - erf(x) in float64, accurate relative to its own size
 * (so far into the tail, where 1 - erf(x) would cancel to nothing): at most 730·2^-53 relative
 * measured, the worst just below 2, where 1 - erf(x) by the series cancels.
 */
export function erfc64(x: number): number {
  const a = Math.abs(x);
  if (a < 2) return 1 - erfSeries(x);
  if (a !== a) return a;
  const c = erfcFraction(a);
  return x < 0 ? 2 - c : c;
}

// ---- the activations in float64 ------------------------------------------------------------

const SQRT1_2 = 0.7071067811865476;
const SQRT_2_OVER_PI = 0.7978845608028654;
const ONE_OVER_SQRT_2PI = 0.3989422804014327;
/** The cubic coefficient of GELU's tanh approximation (Hendrycks and Gimpel). */
const GELU_TANH_K = 0.044715;

/**
 * gelu(x) = x Φ(x) = x/2 (1 + erf(x/√2)), written as x/2 · erfc(|x|/√2) for negative x so the
 * tail keeps its relative accuracy: gelu(-10) is -7.6e-23, not 0.
 */
export function gelu64(x: number): number {
  R[0] = x;
  gelu64R();
  return R[0] as number;
}

function gelu64R(): void {
  const x = R[0] as number;
  const a = Math.abs(x) * SQRT1_2;
  R[0] = a;
  if (a < 2) {
    erfSeriesR();
    const e = R[0] as number;
    R[0] = x < 0 ? 0.5 * x * (1 - e) : 0.5 * x * (1 + e);
    return;
  }
  erfcFractionR(); // NaN for NaN
  const c = R[0] as number;
  R[0] = x < 0 ? 0.5 * x * c : x * (1 - 0.5 * c);
}

/**
 * The tanh form x/2 (1 + tanh(√(2/π)(x + 0.044715 x³))), computed as x / (1 + e^(-2z)) with
 * the same z (1 + tanh z = 2 / (1 + e^(-2z))), which does not cancel in the negative tail.
 */
export function geluTanh64(x: number): number {
  R[0] = x;
  geluTanh64R();
  return R[0] as number;
}

function geluTanh64R(): void {
  const x = R[0] as number;
  const z = SQRT_2_OVER_PI * (x + GELU_TANH_K * x * x * x);
  R[0] = -2 * z;
  expR();
  R[0] = x / (1 + (R[0] as number));
}

/** silu(x) = x σ(x) = x / (1 + e^-x). */
export function silu64(x: number): number {
  R[0] = x;
  silu64R();
  return R[0] as number;
}

function silu64R(): void {
  const x = R[0] as number;
  R[0] = -x;
  expR();
  R[0] = x / (1 + (R[0] as number));
}

/** σ(x) = 1 / (1 + e^-x). */
export function sigmoid64(x: number): number {
  return 1 / (1 + exp64(-x));
}

// ---- the float32 activations ----------------------------------------------------------------

/** relu as PyTorch computes it: negatives become +0; NaN stays NaN and -0 stays -0. */
export function reluScalar(v: number): number {
  return v < 0 ? 0 : v;
}

// Below 2^-125, gelu, its tanh form and silu are v/2 + c v^2 + ... with c > 0, and float64
// gives exactly v/2, which for a subnormal v can be a float32 midpoint: ties-to-even would then
// round the wrong way. The true value lies just above v/2, so round up from it instead.
const TINY = 2 ** -125;
const SUBNORMAL_ULP = 2 ** -149;

function halfRoundedUp(v: number): number {
  R[0] = v;
  halfRoundedUpR();
  return R[0] as number;
}

function halfRoundedUpR(): void {
  const h = 0.5 * (R[0] as number); // exact in float64
  const f = Math.fround(h);
  R[0] = f >= h ? f : f + SUBNORMAL_ULP;
}

export function geluScalar(v: number): number {
  return Math.abs(v) < TINY ? halfRoundedUp(v) : Math.fround(gelu64(v));
}

export function geluTanhScalar(v: number): number {
  return Math.abs(v) < TINY ? halfRoundedUp(v) : Math.fround(geluTanh64(v));
}

export function siluScalar(v: number): number {
  return Math.abs(v) < TINY ? halfRoundedUp(v) : Math.fround(silu64(v));
}

export function sigmoidScalar(v: number): number {
  return Math.fround(sigmoid64(v));
}

/** erf rounded to float32, the building block of gelu; measured like the activations. */
export function erfScalar(v: number): number {
  return Math.fround(erf64(v));
}

// ---- derivatives, for the backward pass (float64 in, float64 out) ----------------------------

/** d relu / dx: 1 for x > 0, else 0 (0 at x = 0 and for NaN, as PyTorch's relu backward). */
export function reluGrad64(x: number): number {
  return x > 0 ? 1 : 0;
}

/** d gelu / dx = Φ(x) + x φ(x). */
export function geluGrad64(x: number): number {
  const cdf = 0.5 * erfc64(-x * SQRT1_2);
  const pdf = exp64(-0.5 * x * x) * ONE_OVER_SQRT_2PI;
  return x !== x ? x : cdf + (Math.abs(x) === Infinity ? 0 : x * pdf);
}

/**
 * d/dx of x s with s = σ(2z), z = √(2/π)(x + k x³): s + x · 2 s (1 - s) · √(2/π)(1 + 3k x²).
 * s (1 - s) is taken as 1 / (2 + E + 1/E), E = e^(-2z), which neither cancels near s = 1 nor
 * becomes Inf / Inf far out.
 */
export function geluTanhGrad64(x: number): number {
  const z = SQRT_2_OVER_PI * (x + GELU_TANH_K * x * x * x);
  const e = exp64(-2 * z);
  const s = 1 / (1 + e);
  const q = 1 / (2 + e + 1 / e);
  if (Math.abs(x) === Infinity) return s;
  return s + x * q * 2 * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_K * x * x);
}

/** d silu / dx = σ(x) + x σ(x)(1 - σ(x)), with σ(1 - σ) as 1 / (2 + E + 1/E), E = e^-x. */
export function siluGrad64(x: number): number {
  const e = exp64(-x);
  const s = 1 / (1 + e);
  if (Math.abs(x) === Infinity) return s;
  return s + x / (2 + e + 1 / e);
}

// ---- by name: the one table -----------------------------------------------------------------

/** What a layer needs of an activation, in every kernel and in the backward pass. */
interface ActivationEntry {
  /** The float32 function: a float32 in, its image rounded once to float32. */
  scalar(v: number): number;
  /** The float64 derivative, for backward. */
  grad64(x: number): number;
  /**
   * The float64 function on R[0] in place, for activateRange (null for relu, which needs no
   * float64 and no tiny-input rule).
   */
  r: (() => void) | null;
  /**
   * Its code in gemm.wat's `act` (0: relu, which the gemm fuses into its epilogue instead).
   * scripts/build-wasm.mjs writes these codes into the module, and `act` traps on any other.
   */
  wasm: number;
}

/**
 * Every activation, in a fixed order: the JavaScript dispatch (activateRange), the WebAssembly
 * dispatch (its codes), the backward pass and the option check all read this table, so an
 * activation is added here (with its wasm code in gemm.wat) or nowhere.
 */
export const ACTIVATION_TABLE = {
  relu: { scalar: reluScalar, grad64: reluGrad64, r: null, wasm: 0 },
  gelu: { scalar: geluScalar, grad64: geluGrad64, r: gelu64R, wasm: 1 },
  geluTanh: { scalar: geluTanhScalar, grad64: geluTanhGrad64, r: geluTanh64R, wasm: 2 },
  silu: { scalar: siluScalar, grad64: siluGrad64, r: silu64R, wasm: 3 },
} as const satisfies Record<string, ActivationEntry>;

/**
 * The activations a layer can apply after its first linear map (or to its gate): `"relu"`,
 * `"gelu"` (erf form, PyTorch's default), `"geluTanh"` (PyTorch's `approximate="tanh"`) and
 * `"silu"`. Each is the elementwise op of the same name, bit for bit.
 *
 * @category Activations
 */
export type ActivationName = keyof typeof ACTIVATION_TABLE;

/** Every {@link ActivationName}, in the table's order. */
export const ACTIVATIONS = Object.keys(ACTIVATION_TABLE) as readonly ActivationName[];

/** The float32 scalar function of each activation. */
export const ACTIVATION_SCALAR: Readonly<Record<ActivationName, (v: number) => number>> = mapTable(
  (e) => e.scalar,
);

/** The float64 derivative of each activation. */
export const ACTIVATION_GRAD: Readonly<Record<ActivationName, (v: number) => number>> = mapTable(
  (e) => e.grad64,
);

/** Each activation's code in the WebAssembly kernel's `act`. */
export const ACTIVATION_WASM: Readonly<Record<ActivationName, number>> = mapTable((e) => e.wasm);

function mapTable<T>(f: (e: ActivationEntry) => T): Record<ActivationName, T> {
  const out = {} as Record<ActivationName, T>;
  for (const name of ACTIVATIONS) out[name] = f(ACTIVATION_TABLE[name]);
  return out;
}

/**
 * Applies an activation in place to buf[from .. to-1], the same bits as its scalar function
 * (the float64 value rounded once, by the store, to float32). No float64 is passed to or
 * returned from a call here (see R), so it allocates nothing, whatever V8 inlines.
 */
export function activateRange(
  buf: Float32Array,
  from: number,
  to: number,
  activation: ActivationName,
): void {
  const f = ACTIVATION_TABLE[activation].r;
  if (f === null) {
    for (let i = from; i < to; i++) buf[i] = reluScalar(buf[i] as number);
    return;
  }
  for (let i = from; i < to; i++) {
    const v = buf[i] as number;
    R[0] = v;
    if (Math.abs(v) < TINY) halfRoundedUpR();
    else f();
    buf[i] = R[0] as number;
  }
}

/**
 * The numbers the WebAssembly kernel's activations share with these functions, by the names
 * gemm.wat uses for them: scripts/build-wasm.mjs writes each one into the module (exp's
 * coefficients, the activations' constants, and the codes of `act`), so the two cannot drift.
 */
export const WASM_CONSTANTS: Readonly<Record<string, number>> = {
  LOG2E,
  LN2_HI,
  LN2_LO,
  E2,
  E3,
  E4,
  E5,
  E6,
  E7,
  E8,
  E9,
  E10,
  E11,
  E12,
  E13,
  SQRT1_2,
  SQRT_2_OVER_PI,
  GELU_TANH_K,
  ONE_OVER_SQRT_PI,
  TINY,
  SUBNORMAL_ULP,
  ...Object.fromEntries(ACTIVATIONS.map((a) => [`ACT_${a}`, ACTIVATION_TABLE[a].wasm])),
};

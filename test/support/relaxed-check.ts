// The quantized kernels on relaxed SIMD (relaxed.wat's rgemm) against gemm.wat's qgemm, bit for
// bit: layers of ggml blocks built twice, once with relaxed SIMD turned off and once on, on one
// thread and on workers, their outputs compared at many shapes and batch sizes. Run as a
// script (test/wasm-relaxed.test.ts spawns it, in Node 20 with --experimental-wasm-relaxed-simd;
// the browser tests run `relaxedCheck` itself): prints a JSON summary and exits 1 on any
// difference, 2 when this engine has no relaxed SIMD (so the check cannot pass by running
// nothing).
//
// The blocks reach every edge of the relaxed dot's range: quants of any byte (Q8_0's -127 and
// 127 and -128, Q4_0's 0 and 15), blocks whose products meet relaxed.wat's largest pair sums
// (Q8_0's -32512, next to i16's -32768), all-zero blocks, infinite and NaN scales, and maps
// holding Q8_0's -128 (which ggml's quantizer never writes) among seeded quants.
import { QUANT_BLOCK, type QuantDtype, blockBytes } from "../../src/dtype";
import type { LayerShape, StoredTensors } from "../../src/kernels/kernel";
import { type MapBlocks, blockSource } from "../../src/kernels/source";
import { forwardHere, instantiate, layoutOf, unpackLayout } from "../../src/kernels/wasm/kernel";
import { gemmModuleSync } from "../../src/kernels/wasm/module";
import { RELAXED_DTYPES, hasRelaxedDot, setRelaxedDot } from "../../src/kernels/wasm/relaxed";
import { ThreadedWasmKernel } from "../../src/kernels/wasm/threaded";
import type { ThreadHost } from "../../src/threads/platform";
import { seededBlocks, seededFloats } from "../helpers/arbitraries";

/** Both types on relaxed.wat (by default Q8_0 is not: relaxed.ts's RELAXED_DTYPES). */
const BOTH = ["q8_0", "q4_0"] as const;

/** The kinds of blocks a case's maps hold. */
type Kind = "seeded" | "special" | "extreme" | "m128";

/**
 * Blocks at the ends of the range: scale 1 (f16 0x3c00), column j's quants all 127, all -128
 * (Q4_0: nibbles all 15, all 0), or alternating, by j mod 4; the fourth kind all zeros with
 * scale 0. Against activation quants of ±127 they make relaxed.wat's largest pair sums (Q8_0:
 * -128 · 127 twice, -32512, next to i16's -32768).
 */
function extremeBlocks(dtype: QuantDtype, rows: number, nb: number): Uint8Array {
  const bytes = blockBytes(dtype);
  const out = new Uint8Array(rows * nb * bytes);
  for (let j = 0; j < rows; j++) {
    for (let b = 0; b < nb; b++) {
      const at = (j * nb + b) * bytes;
      const kind = (j + b) % 4;
      if (kind === 3) continue;
      out[at + 1] = 0x3c;
      for (let k = 0; k < QUANT_BLOCK; k++) {
        const high = kind === 0 || (kind === 2 && k % 2 === 0);
        if (dtype === "q8_0") out[at + 2 + k] = high ? 127 : 0x80;
        else if (high)
          out[at + 2 + (k & 15)] = (out[at + 2 + (k & 15)] as number) | (k < 16 ? 15 : 0xf0);
      }
    }
  }
  return out;
}

/** A case's maps: `kind`'s blocks in every map (special scales in the last map only). */
function mapsOf(shape: LayerShape, kind: Kind, seed: number): MapBlocks[] {
  const { dModel: D, dHidden: H, expand, dtype } = shape;
  const q = dtype as QuantDtype;
  const maps: MapBlocks[] = [];
  for (let i = 0; i <= expand; i++) {
    const [K, N] = i < expand ? [D, H] : [H, D];
    const n = (K / QUANT_BLOCK) * N;
    let w: Uint8Array;
    if (kind === "extreme") w = extremeBlocks(q, N, K / QUANT_BLOCK);
    else {
      w = seededBlocks(q, n, seed + 10 * i, kind === "special" && i === expand);
      if (q === "q8_0" && kind !== "m128") {
        // No -128 but in m128's maps (and extreme's).
        const bytes = blockBytes(q);
        for (let at = 0; at < w.length; at += bytes)
          for (let k = at + 2; k < at + bytes; k++) if (w[k] === 0x80) w[k] = 0x81;
      }
      if (kind === "m128") w[2 + (seed % QUANT_BLOCK)] = 0x80; // one at the least
    }
    const b = shape.hasBias ? seededFloats(N, seed + 10 * i + 1, 1) : null;
    maps.push({ w, b });
  }
  return maps;
}

/**
 * `rows` input rows: seeded ones, and rows whose blocks are all A, all -A, alternating ±A (every
 * activation quant ±127), zeros, and seeded ones holding a NaN or an infinity.
 */
function inputs(rows: number, D: number, seed: number): Float32Array {
  const x = seededFloats(rows * D, seed, 3);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * D, (r + 1) * D);
    const kind = r % 7;
    if (kind === 1) row.fill(2.5);
    if (kind === 2) row.fill(-2.5);
    if (kind === 3) row.forEach((_, i) => (row[i] = i % 2 === 0 ? 1.25 : -1.25));
    if (kind === 4) row.fill(0, 0, Math.min(D, 32));
    if (kind === 5) row[r % D] = Number.NaN;
    if (kind === 6) row[(3 * r) % D] = Number.POSITIVE_INFINITY;
  }
  return x;
}

/** Where two float32 arrays first differ in their bits, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    // NaN payloads aside (no one specifies them): both NaN counts as the same.
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

export interface RelaxedSummary {
  /** Layers built and compared; output elements compared. */
  cases: number;
  elements: number;
  /** Maps packed for relaxed.wat (relaxed SIMD on), and for qgemm (off). */
  relaxedMaps: number;
  standardMaps: number;
  /** Outputs that were NaN, and finite (both must occur for the check to mean anything). */
  nan: number;
  finite: number;
  /** The first differences found (empty when the bits agree). */
  failures: string[];
}

/** Builds every case with relaxed SIMD off and on and compares their outputs' bits. */
export async function relaxedCheck(host: ThreadHost | null): Promise<RelaxedSummary> {
  const sum: RelaxedSummary = {
    cases: 0,
    elements: 0,
    relaxedMaps: 0,
    standardMaps: 0,
    nan: 0,
    finite: 0,
    failures: [],
  };
  const dims: [number, number][] = [
    [32, 32],
    [64, 96],
    [96, 160],
    [32, 64],
  ];
  const ROWS = [1, 2, 3, 5, 8, 17, 130];
  let seed = 1;
  for (const dtype of ["q8_0", "q4_0"] as const) {
    for (const kind of ["seeded", "special", "extreme", "m128"] as const) {
      if (kind === "m128" && dtype === "q4_0") continue;
      for (const [D, H] of dims) {
        for (const expand of [1, 2]) {
          seed++;
          const shape: LayerShape = {
            dModel: D,
            dHidden: H,
            expand,
            hasBias: seed % 2 === 0,
            activation: expand === 2 ? "silu" : seed % 3 === 0 ? "gelu" : "relu",
            dtype,
          };
          const source = blockSource(shape, mapsOf(shape, kind, seed), dtype);
          const where = `${dtype} ${kind} ${D}x${H} expand ${expand}`;
          const build = (relaxed: boolean) => {
            setRelaxedDot(relaxed ? BOTH : []);
            try {
              return instantiate(
                shape,
                layoutOf(shape, false),
                source,
                gemmModuleSync(false),
                false,
              );
            } finally {
              setRelaxedDot(RELAXED_DTYPES);
            }
          };
          const std = build(false);
          const rel = build(true);
          for (const m of std.lay.maps) {
            if (m.relaxed === true)
              sum.failures.push(`${where}: a map packed for relaxed SIMD with it turned off`);
            else sum.standardMaps++;
          }
          for (const m of rel.lay.maps) {
            if (m.relaxed === true) sum.relaxedMaps++;
            else sum.failures.push(`${where}: a ${kind} map not packed for relaxed SIMD`);
          }
          // One packed copy, in the same bytes as qgemm's, and the same blocks back (`weights`).
          if (rel.memory.buffer.byteLength !== std.memory.buffer.byteLength)
            sum.failures.push(`${where}: ${rel.memory.buffer.byteLength} bytes, not qgemm's`);
          const [ws, wr] = [unpackLayout(std.f32, std.lay), unpackLayout(rel.f32, rel.lay)];
          ws.forEach((m, i) => {
            const a = m.w as Uint8Array;
            const b = (wr[i] as StoredTensors).w as Uint8Array;
            if (a.length !== b.length || a.some((v, j) => v !== b[j]))
              sum.failures.push(`${where}: map ${i}'s blocks unpacked differ`);
          });
          sum.cases++;
          const outs: Float32Array[] = [];
          for (const rows of ROWS) {
            const x = inputs(rows, D, seed + rows);
            const a = new Float32Array(rows * D);
            const b = new Float32Array(rows * D);
            forwardHere(std, x, 0, rows, a, 0);
            forwardHere(rel, x, 0, rows, b, 0);
            const at = firstDifference(a, b);
            if (at >= 0)
              sum.failures.push(
                `${where}, ${rows} rows: element ${at}: ${a[at]} (qgemm) vs ${b[at]} (rgemm)`,
              );
            sum.elements += a.length;
            for (const v of a)
              if (Number.isNaN(v)) sum.nan++;
              else if (Number.isFinite(v)) sum.finite++;
            outs.push(a);
          }
          if (host === null || seed % 2 !== 0) continue;
          // On workers: 2 and 3 threads, relaxed on, against one thread's qgemm.
          for (const threads of [2, 3]) {
            setRelaxedDot(BOTH);
            const k = new ThreadedWasmKernel(shape, source, gemmModuleSync(true), host, threads);
            setRelaxedDot(RELAXED_DTYPES);
            for (const [i, rows] of ROWS.entries()) {
              if (rows !== 1 && rows !== 3 && rows !== 130) continue;
              const x = inputs(rows, D, seed + rows);
              const b = new Float32Array(rows * D);
              await k.forwardAsync(x, 0, rows, b, 0);
              const c = new Float32Array(rows * D);
              k.forward(x, 0, rows, c, 0);
              for (const [how, got] of [
                ["forwardAsync", b],
                ["forward", c],
              ] as const) {
                const at = firstDifference(outs[i] as Float32Array, got);
                if (at >= 0)
                  sum.failures.push(
                    `${where}, ${rows} rows, ${threads} threads (${how}): element ${at} differs`,
                  );
              }
              sum.elements += 2 * b.length;
            }
            if (k.threadsInUse !== threads)
              sum.failures.push(`${where}: ${threads} threads asked, ${k.threadsInUse} ran`);
            k.dispose();
          }
        }
      }
    }
  }
  return sum;
}

// Run as a script (not when imported by a test).
if (typeof process === "object" && process.argv[1]?.endsWith("relaxed-check.ts")) {
  if (!hasRelaxedDot()) {
    console.error("this engine has no relaxed SIMD: nothing was checked");
    process.exit(2);
  }
  const { threadHost } = await import("../../src/threads/platform");
  const summary = await relaxedCheck(await threadHost());
  console.log(JSON.stringify(summary));
  process.exit(summary.failures.length === 0 ? 0 : 1);
}

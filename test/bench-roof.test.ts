// The one-thread roof (bench/roof.ts): the peak loop executes the multiplies and adds it is
// counted for (read from V8's own machine code: a loop whose multiplies V8 can fold is caught),
// the memory probes read every byte they count, and the roof's arithmetic.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import wabtInit from "wabt";
import {
  INT_PEAK_FLOPS_PER_STEP,
  PEAK_FLOPS_PER_STEP,
  RELAXED_PEAK_FLOPS_PER_STEP,
  ROOF_WAT,
  RoofProbe,
  STREAM_COUNTS,
  integerPeakOf,
  roofBinary,
  roofRelaxedBinary,
  shapeRoof,
} from "../bench/roof";
import type { ContenderResult, ShapeReport } from "../bench/harness";
import { roofOf, roofShare } from "../bench/report";
import { parseShape, weightBytesOf } from "../bench/shapes";

const dir = mkdtempSync(join(tmpdir(), "tokenwise-roof-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The instructions of function `index`'s innermost loop in V8's optimized x64 code, as printed by
 * --print-wasm-code: from the target of the last backward jump to that jump.
 */
function loopOf(wasm: Uint8Array, index: number, flags: readonly string[] = []): string[] {
  const file = join(dir, `m${index}.wasm`);
  writeFileSync(file, wasm);
  const run = spawnSync(
    process.execPath,
    [
      ...flags,
      "--print-wasm-code",
      "--no-liftoff",
      "--no-wasm-lazy-compilation",
      "-e",
      `new WebAssembly.Module(require("fs").readFileSync(${JSON.stringify(file)}))`,
    ],
    { encoding: "utf8" },
  );
  const blocks = run.stdout.split("--- WebAssembly code ---");
  const block = blocks.find((b) => b.includes(`name: wasm-function[${index}]\n`));
  if (block === undefined) throw new Error(`no code printed for function ${index}`);
  const lines = block.split("\n").filter((l) => /^0x[0-9a-f]+\s+[0-9a-f]+\s/.test(l));
  const offset = (l: string) => Number.parseInt(l.trim().split(/\s+/)[1] as string, 16);
  let back = -1;
  let target = -1;
  lines.forEach((l, i) => {
    const m = /\sj(?!mp)\w+\s+0x[0-9a-f]+\s+<\+0x([0-9a-f]+)>/.exec(l);
    if (m !== null && Number.parseInt(m[1] as string, 16) < offset(l)) {
      back = i;
      target = Number.parseInt(m[1] as string, 16);
    }
  });
  if (back < 0) throw new Error("no loop found");
  return lines.slice(
    lines.findIndex((l) => offset(l) === target),
    back + 1,
  );
}

const count = (loop: string[], op: RegExp) => loop.filter((l) => op.test(l)).length;

describe.runIf(process.arch === "x64")("the SIMD128 peak loop, in V8's machine code", () => {
  it("runs six multiplies and six adds an iteration, as counted, with nothing spilled", async () => {
    const loop = loopOf(await roofBinary(), 0);
    // V8 may unroll the loop: a whole number of iterations, each of 6 multiplies and 6 adds.
    const muls = count(loop, /\sv?mulps\s/);
    expect(muls).toBe(count(loop, /\sv?addps\s/));
    expect(muls % 6).toBe(0);
    expect(muls).toBeGreaterThan(0);
    expect(PEAK_FLOPS_PER_STEP).toBe(4 * (6 + 6));
    expect(loop.filter((l) => /\[rbp/.test(l))).toEqual([]);
  });

  it("runs twelve integer dot products and twelve adds an iteration of the integer peak", async () => {
    const loop = loopOf(await roofBinary(), 1);
    const dots = count(loop, /\sv?pmaddwd\s/);
    expect(dots).toBe(count(loop, /\sv?paddd\s/));
    expect(dots % 12).toBe(0);
    expect(dots).toBeGreaterThan(0);
    // no float work counted as integer, and nothing spilled
    expect(count(loop, /\sv?(mul|add)ps\s/)).toBe(0);
    expect(INT_PEAK_FLOPS_PER_STEP).toBe(16 * 12);
    expect(loop.filter((l) => /\[rbp/.test(l))).toEqual([]);
  });

  it("runs twelve relaxed i8 dots, widenings and adds an iteration of the relaxed peak", async () => {
    // Node 20's V8 has relaxed SIMD only behind its flag; later versions have it and refuse the flag.
    const major = Number(process.versions.node.split(".")[0]);
    const flags = major < 22 ? ["--experimental-wasm-relaxed-simd"] : [];
    const loop = loopOf(await roofRelaxedBinary(), 0, flags);
    // i16x8.relaxed_dot_i8x16_i7x16_s is vpmaddubsw; extadd_pairwise_i16x8_s is vpmaddwd (by
    // ones); then one vpaddd: sixteen multiply-adds a chain step, counted as 32 flops.
    const dots = count(loop, /\sv?pmaddubsw\s/);
    expect(dots).toBe(count(loop, /\sv?pmaddwd\s/));
    expect(dots).toBe(count(loop, /\sv?paddd\s/));
    expect(dots % 12).toBe(0);
    expect(dots).toBeGreaterThan(0);
    expect(count(loop, /\sv?(mul|add)ps\s/)).toBe(0);
    expect(RELAXED_PEAK_FLOPS_PER_STEP).toBe(32 * 12);
    expect(loop.filter((l) => /\[rbp/.test(l))).toEqual([]);
  });

  it("would catch an integer loop V8 hoists: c += dot(a, b) on twelve chains runs one dot", async () => {
    // dot(a, b) is the same in every chain and iteration: counted as twelve, it runs once.
    const chains = Array.from({ length: 12 }, (_, i) => `$c${i}`);
    const wat = `(module (import "env" "memory" (memory 1))
      (func (param $n i32) (result i32) (local $a v128) (local $b v128)
        ${chains.map((c) => `(local ${c} v128)`).join(" ")}
        (local.set $a (v128.load (i32.const 0))) (local.set $b (v128.load (i32.const 16)))
        (block $done (loop $next (br_if $done (i32.eqz (local.get $n)))
          ${chains.map((c) => `(local.set ${c} (i32x4.add (local.get ${c}) (i32x4.dot_i16x8_s (local.get $a) (local.get $b))))`).join("\n")}
          (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $next)))
        (i32x4.extract_lane 0 ${chains.map((c) => `(local.get ${c})`).reduce((a, c) => `(i32x4.add ${a} ${c})`)})))`;
    const wabt = await wabtInit();
    const m = wabt.parseWat("hoisted.wat", wat, { simd: true });
    const bytes = new Uint8Array(m.toBinary({}).buffer);
    m.destroy();
    const loop = loopOf(bytes, 0);
    const dots = count(loop, /\sv?pmaddwd\s/);
    const adds = count(loop, /\sv?paddd\s/);
    expect(adds).toBeGreaterThanOrEqual(12);
    expect(dots * 12).toBeLessThanOrEqual(adds);
  });

  it("would catch a loop V8 folds: acc += a·b on ten chains runs one multiply", async () => {
    // The roof's loop before: the same a·b in every chain, which V8 computes once.
    const chains = Array.from({ length: 10 }, (_, i) => `$c${i}`);
    const wat = `(module (import "env" "memory" (memory 1))
      (func (param $n i32) (result f32) (local $a v128) (local $b v128)
        ${chains.map((c) => `(local ${c} v128)`).join(" ")}
        (local.set $a (v128.load (i32.const 0))) (local.set $b (v128.load (i32.const 16)))
        (block $done (loop $next (br_if $done (i32.eqz (local.get $n)))
          ${chains.map((c) => `(local.set ${c} (f32x4.add (local.get ${c}) (f32x4.mul (local.get $a) (local.get $b))))`).join("\n")}
          (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $next)))
        (f32x4.extract_lane 0 ${chains.map((c) => `(local.get ${c})`).reduce((a, c) => `(f32x4.add ${a} ${c})`)})))`;
    const wabt = await wabtInit();
    const m = wabt.parseWat("folded.wat", wat, { simd: true });
    const bytes = new Uint8Array(m.toBinary({}).buffer);
    m.destroy();
    const loop = loopOf(bytes, 0);
    // Counted as one multiply per add, it runs one for every ten adds or more (V8 11 unrolls it
    // twice: 1 and 20).
    const muls = count(loop, /\sv?mulps\s/);
    const adds = count(loop, /\sv?addps\s/);
    expect(adds).toBeGreaterThanOrEqual(10);
    expect(muls * 10).toBeLessThanOrEqual(adds);
  });
});

describe("the memory probes", () => {
  it.each(STREAM_COUNTS)("%i stream(s) read every step of every stream", async (k) => {
    const module = new WebAssembly.Module(await roofBinary());
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2 });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
      string,
      (base: number, len: number) => number
    >;
    const base = 128;
    const len = 64 * 37;
    const words = new Uint32Array(memory.buffer);
    // The probe returns lane 0 of the OR of what it read: the words at 16-byte steps. Bit s of
    // the first word of stream s's last step, and bit 8 + s of its first step, must all show.
    const set = (byte: number, bit: number) => {
      words[byte / 4] = ((words[byte / 4] as number) | (1 << bit)) >>> 0;
    };
    for (let s = 0; s < k; s++) {
      set(base + s * len, 8 + s);
      set(base + s * len + len - 64, s);
    }
    const got = (exports[`stream${k}`] as (b: number, l: number) => number)(base, len) >>> 0;
    for (let s = 0; s < k; s++) {
      expect(got & (1 << s)).not.toBe(0);
      expect(got & (1 << (8 + s))).not.toBe(0);
    }
    // and nothing past the end
    set(base + k * len, 30);
    expect(
      ((exports[`stream${k}`] as (b: number, l: number) => number)(base, len) >>> 0) & (1 << 30),
    ).toBe(0);
  });

  it("measures a finite peak and rates, one sample per repetition and stream count", async () => {
    const probe = await RoofProbe.create(1 << 20, 4 << 20);
    for (let i = 0; i < 3; i++) probe.repetition(1);
    const r = probe.result(0.001);
    for (const x of [r.peak, r.memory.rate, ...(r.weights === null ? [] : [r.weights.rate])]) {
      expect(Number.isFinite(x.median) && x.median > 0).toBe(true);
      expect(x.slowest).toBeLessThanOrEqual(x.median);
      expect(x.median).toBeLessThanOrEqual(x.fastest);
    }
    expect(r.memory.byStreams.map((s) => s.streams)).toEqual([...STREAM_COUNTS]);
    expect(r.memory.bytes).toBe(4 << 20);
    expect(r.weights?.bytes).toBe(1 << 20);
    expect(r.gflops).toBe(Math.min(r.peak.median, r.memoryGflops));
  });

  it("reads weights larger than the main-memory buffer at main memory's rate", async () => {
    const probe = await RoofProbe.create(8 << 20, 4 << 20);
    probe.repetition(1);
    const r = probe.result(0.001);
    expect(r.weights).toBeNull();
    expect(r.weightsFrom).toBe("memory");
    expect(r.weightsRate).toBe(r.memory.rate.median);
  });

  it("reads a buffer of each other weight size asked for, and refuses a size it did not read", async () => {
    // A float32 layer's 2 MiB and the same weights in bf16 (1 MiB) and q4_0 (2 MiB · 18/128).
    const q4 = ((2 << 20) * 18) / 128;
    const probe = await RoofProbe.create(2 << 20, 4 << 20, [1 << 20, q4, 8 << 20]);
    for (let i = 0; i < 2; i++) probe.repetition(1);
    const f32 = probe.result(0.001);
    const bf16 = probe.result(0.001, 1 << 20);
    expect(f32.weights?.bytes).toBe(2 << 20);
    expect(bf16.weights?.bytes).toBe(1 << 20);
    expect(probe.result(0.001, q4).weights?.bytes).toBe(q4);
    // the same peak and main memory for every size; a size past main memory's buffer is read
    // at its rate
    expect(bf16.peak).toEqual(f32.peak);
    expect(bf16.memory).toEqual(f32.memory);
    expect(probe.result(0.001, 8 << 20).weights).toBeNull();
    // the roof is the flops over the time to read that many bytes at that buffer's rate
    expect(bf16.memoryGflops).toBeCloseTo((0.001 * bf16.weightsRate) / ((1 << 20) / 1e9), 9);
    expect(() => probe.result(0.001, 3 << 20)).toThrow(
      `RoofProbe.result: no buffer of ${3 << 20} bytes was read`,
    );
  });

  it("has the peak loops first in its module (the machine-code tests read functions 0 and 1)", () => {
    expect(ROOF_WAT.indexOf('(export "peak")')).toBeLessThan(ROOF_WAT.indexOf('(export "ipeak")'));
    expect(ROOF_WAT.indexOf('(export "ipeak")')).toBeLessThan(ROOF_WAT.indexOf('(export "stream'));
    expect(ROOF_WAT.match(/\(func /g)?.length).toBe(2 + STREAM_COUNTS.length);
  });

  it("holds quantized weights to the integer peak, the same memory rates", async () => {
    const probe = await RoofProbe.create(2 << 20, 4 << 20, [1 << 20]);
    for (let i = 0; i < 3; i++) probe.repetition(1);
    const float = probe.result(0.001, 1 << 20);
    const integer = probe.result(0.001, 1 << 20, "integer");
    expect(float.peakKind).toBe("float");
    expect(integer.peakKind).toBe("integer");
    expect(float.integerPeak).toBe(null);
    // The relaxed peak is measured only where the engine validates relaxed SIMD.
    const relaxed = WebAssembly.validate(await roofRelaxedBinary());
    expect(relaxed ? ["i16", "relaxed"] : ["i16"]).toContain(integer.integerPeak);
    expect(Number.isFinite(integer.peak.median) && integer.peak.median > 0).toBe(true);
    expect(integer.peak).not.toEqual(float.peak);
    expect(integer.weights).toEqual(float.weights);
    expect(integer.memoryGflops).toBe(float.memoryGflops);
    expect(integer.gflops).toBe(Math.min(integer.peak.median, integer.memoryGflops));
  });
});

describe("the roof's arithmetic", () => {
  const rate = (median: number) => ({ median, slowest: median, fastest: median });

  it("takes the larger integer peak: relaxed SIMD's i8 dot only where measured and faster", () => {
    expect(integerPeakOf(rate(60), null)).toEqual([rate(60), "i16"]);
    expect(integerPeakOf(rate(60), rate(90))).toEqual([rate(90), "relaxed"]);
    expect(integerPeakOf(rate(60), rate(50))).toEqual([rate(60), "i16"]);
    expect(integerPeakOf(rate(60), rate(60))).toEqual([rate(60), "i16"]);
  });
  const stream = (median: number, bytes: number) => ({
    bytes,
    byStreams: [{ streams: 2, rate: rate(median) }],
    streams: 2,
    rate: rate(median),
  });

  it("is bound by reading the weights from memory where that takes longer than the flops", () => {
    // 4·1·500·2000 flops = 0.004 GFLOP over 8 MB at 20 GB/s (0.4 ms): 10 GFLOP/s < 60.
    const r = shapeRoof(rate(60), stream(21, 8e6), stream(20, 256e6), 0.004, 8e6);
    expect(r).toMatchObject({ bound: "memory", weightsFrom: "memory", weightsRate: 21 });
    expect(r.gflops).toBeCloseTo(10.5, 12);
  });

  it("calls it a cache where the weights' buffer reads 1.25 times as fast as main memory", () => {
    const r = shapeRoof(rate(60), stream(80, 8e6), stream(20, 256e6), 0.004, 8e6);
    expect(r).toMatchObject({ bound: "cache", weightsFrom: "cache", weightsRate: 80 });
    expect(r.gflops).toBeCloseTo(40, 12);
  });

  it("holds a row of another weight type to that type's roof, and float32 rows to the shape's", () => {
    const f32 = shapeRoof(rate(60), null, stream(10, 256e6), 0.004, 8e6); // 5 GFLOP/s
    const bf16 = shapeRoof(rate(60), null, stream(10, 256e6), 0.004, 4e6); // 10 GFLOP/s
    const shape = {
      roof: f32,
      typeRoofs: [{ weightType: "bf16" as const, weightBytes: 4e6, roof: bf16 }],
    } as unknown as ShapeReport;
    const row = (gflops: number, weightType?: "bf16" | "f16") =>
      ({
        threads: 1,
        native: false,
        timing: { gflops },
        ...(weightType === undefined ? {} : { weightType }),
      }) as unknown as ContenderResult;
    expect(roofShare(shape, row(4))).toBeCloseTo(0.8, 12);
    expect(roofShare(shape, row(8, "bf16"))).toBeCloseTo(0.8, 12);
    expect(roofOf(shape, row(8, "bf16"))).toBe(bf16);
    // a type the run measured no roof for has none, rather than float32's
    expect(roofShare(shape, row(8, "f16"))).toBeNull();
  });

  it("counts each weight type's bytes: 4, 2, 34/32 and 18/32 a weight, the biases float32", () => {
    const shape = parseShape("2x64x96");
    expect(weightBytesOf(shape, "ffn")).toBe(4 * 2 * 64 * 96 + 4 * (64 + 96));
    expect(weightBytesOf(shape, "ffn", "bf16")).toBe(2 * 2 * 64 * 96 + 4 * (64 + 96));
    expect(weightBytesOf(shape, "gated", "f16")).toBe(2 * 3 * 64 * 96);
    expect(weightBytesOf(shape, "gated", "q8_0")).toBe(((34 * 3 * 64 * 96) / 32) | 0);
    expect(weightBytesOf(shape, "gated", "q4_0")).toBe((18 * 3 * 64 * 96) / 32);
    expect(weightBytesOf(parseShape("D1"), "ffn", "bf16")).toBe(
      12 * (2 * 2 * 768 * 3072 + 4 * (768 + 3072)),
    );
  });

  it("is the peak where the flops take longer", () => {
    const r = shapeRoof(rate(60), stream(80, 8e6), stream(20, 256e6), 0.128, 8e6);
    expect(r.bound).toBe("compute");
    expect(r.gflops).toBe(60);
    expect(r.memoryGflops).toBeCloseTo(1280, 9);
  });
});

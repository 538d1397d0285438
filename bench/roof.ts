// The roof of one thread on this machine, measured in the bench's own process: how fast a core
// multiplies and adds 128-bit vectors, and how fast it reads memory. A forward needs
// 4·T·dModel·dHidden flops (6· for the gated layer) and must read every weight at least once,
// so no one-thread kernel of 128-bit vectors can beat min(peak, flops / time to read the
// weights).
//
// The peak. A loop of `acc += a * b` with the same a and b in every chain is not a peak: V8
// computes a * b once (it is the same value in every chain, and the same in every iteration) and
// times only the adds, so the loop did 1 multiply and 10 adds an iteration and was counted as 20
// flops (`node --print-wasm-code`: one vmulps, ten vaddps). Here six chains multiply, m = m · a,
// and six chains add, c = c + b: every operation depends on its own previous result, so none can
// be hoisted, merged or folded, and the loop executes exactly the 6 vmulps and 6 vaddps it is
// counted for (test/bench-roof.test.ts reads the machine code). Six chains of each fit in 14 of
// the 15 vector registers V8 leaves free on x64, and measured as fast as the other mixes tried
// (5 + 5, 4 + 8, 8 + 4, 6 + 7: 43 to 48 GFLOP/s on a Xeon virtual machine, within its noise).
// The operands come from memory, so the engine cannot know them; a = 1 and b = 2^-20 keep the
// values finite.
//
// The integer peak. A quantized map's kernel multiplies 16-bit integers: one
// i32x4.dot_i16x8_s (eight products summed in pairs) and one i32x4.add per eight
// multiply-adds, counted as 16 flops as the bench counts a float multiply-add as two. Its rows
// can outrun the float peak, so they are held to this one: twelve chains of c = c + dot(c, a),
// each step depending on its own last result (c's lanes read as 16-bit values), with a from
// memory (a = 0 keeps c), which V8 cannot fold or hoist (test/bench-roof.test.ts reads the
// machine code: 12 vpmaddwd and 12 vpaddd an iteration, nothing spilled).
//
// The relaxed integer peak. Where the engine has relaxed SIMD, a q4_0 map's kernel (and a q8_0
// map's when chosen) multiplies bytes instead: i16x8.relaxed_dot_i8x16_i7x16_s, sixteen
// multiply-adds into i16 pair sums, widened by i32x4.extadd_pairwise_i16x8_s and added, 32
// flops a chain step. Those rows can outrun the 16-bit peak, so when the engine validates
// relaxed SIMD the roof measures this one too, in a module of its own (an engine without relaxed
// SIMD rejects a whole module that uses it): twelve chains of c = c + extadd(dot(c, a)), a = 0
// from memory (the i7 operand, in 0..127 as the kernel keeps it), and quantized rows take the
// larger of the two integer peaks (x64 V8: vpmaddubsw, vpmaddwd and vpaddd a chain step, which
// test/bench-roof.test.ts reads in the machine code).
//
// Memory. A kernel that reads its weights once per forward re-reads the same bytes every call:
// where they fit in a cache, it reads them from there. So two buffers are streamed: one as
// large as the shape's weights (what the kernel sees), and one far larger than the last-level
// cache (main memory), each with 1, 2 and 4 read streams at once (the WebAssembly kernel reads
// two panels at a time at one token; more streams read faster, up to a point), and the fastest
// count is the rate. The weights' rate gives the roof; comparing it with main memory's tells
// whether the weights were read from a cache.
import { readdirSync, readFileSync } from "node:fs";
import wabtInit from "wabt";
import { quantile } from "./stats";

/** A measured rate: the median of the repetitions, and the slowest and fastest. */
export interface Rate {
  median: number;
  slowest: number;
  fastest: number;
}

/** The read rate of one buffer, GB/s: per stream count, and the fastest. */
export interface StreamRate {
  /** The buffer's size, bytes. */
  bytes: number;
  /** Rate by number of concurrent read streams. */
  byStreams: { streams: number; rate: Rate }[];
  /** The stream count with the highest median, and its rate. */
  streams: number;
  rate: Rate;
}

/** The compute peak a roof takes: float32 multiply-adds, or 16-bit integer dot products. */
export type PeakKind = "float" | "integer";

/** Where a shape's weights are read from, as the probe found: a cache, or main memory. */
export type WeightsFrom = "cache" | "memory";

/** A shape's one-thread roof, measured in the shape's own rounds. */
export interface ShapeRoof {
  /**
   * The compute peak, one thread, GFLOP/s: f32x4.mul and f32x4.add on six independent chains
   * each ("float"), or for quantized weights i32x4.dot_i16x8_s and i32x4.add on twelve, eight
   * multiply-adds a pair ("integer").
   */
  peak: Rate;
  /** Which peak: float32 multiplies and adds, or 16-bit integer dot products. */
  peakKind: PeakKind;
  /**
   * For the integer peak, which loop gave it: the 16-bit dot ("i16"), or relaxed SIMD's i8 dot
   * ("relaxed": measured where the engine has relaxed SIMD, and taken when its median is the
   * larger); null for the float peak.
   */
  integerPeak: "i16" | "relaxed" | null;
  /**
   * A buffer as large as the weights, read again and again (as a kernel re-reads its weights);
   * null when the weights are at least as large as the main-memory buffer (then main memory's
   * rate is theirs).
   */
  weights: StreamRate | null;
  /** A buffer far beyond the last-level cache: main memory. */
  memory: StreamRate;
  /**
   * "cache" when the weights-sized buffer read at least 1.25 times as fast as main memory (the
   * weights stay in a cache between calls), else "memory".
   */
  weightsFrom: WeightsFrom;
  /** GB/s at which the weights can be read: the weights-sized buffer's median (or main memory's). */
  weightsRate: number;
  /** GFLOP/s if the weights were read once at weightsRate. */
  memoryGflops: number;
  /** min(peak, memoryGflops), medians. */
  gflops: number;
  /** What bounds it: the peak ("compute"), or reading the weights from a cache or from memory. */
  bound: "compute" | WeightsFrom;
}

const MUL_CHAINS = 6;
const DOT_CHAINS = 12;
/**
 * Flops one iteration of the integer peak loop counts: one dot and one add (eight multiply-adds,
 * 16 flops) per chain.
 */
export const INT_PEAK_FLOPS_PER_STEP = 16 * DOT_CHAINS;
/**
 * Flops one iteration of the relaxed integer peak loop counts: one relaxed i8 dot (sixteen
 * multiply-adds, 32 flops) per chain.
 */
export const RELAXED_PEAK_FLOPS_PER_STEP = 32 * DOT_CHAINS;
const ADD_CHAINS = 6;
/** Flops one iteration of the peak loop executes: one f32x4 operation (4 flops) per chain. */
export const PEAK_FLOPS_PER_STEP = 4 * (MUL_CHAINS + ADD_CHAINS);
/** Concurrent read streams the memory probes try. */
export const STREAM_COUNTS = [1, 2, 4] as const;
/** Bytes each stream reads a step: four 128-bit loads, one cache line. */
const STEP_BYTES = 64;
/** The weights count as read from a cache when their buffer reads this much faster than memory. */
const CACHE_RATIO = 1.25;

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `$${prefix}${i}`);
/** (op (op $x0 $x1) $x2) ... as text. */
const fold = (op: string, locals: string[]) =>
  locals.map((l) => `(local.get ${l})`).reduce((acc, l) => `(${op} ${acc} ${l})`);
const each = (locals: string[], line: (l: string, i: number) => string) =>
  locals.map(line).join("\n      ");

function streamFunc(k: number): string {
  const p = names("p", k);
  const s = names("s", 4);
  const loads = p.flatMap((pp) =>
    s.map(
      (acc, i) =>
        `(local.set ${acc} (v128.or (local.get ${acc}) (v128.load offset=${16 * i} (local.get ${pp}))))`,
    ),
  );
  return `
  ;; ${k} stream(s): [base, base + k·len) as k consecutive parts of len bytes, read side by side.
  (func (export "stream${k}") (param $base i32) (param $len i32) (result i32)
    (local $end i32)
    ${each(p, (v) => `(local ${v} i32)`)}
    ${each(s, (v) => `(local ${v} v128)`)}
    ${each(p, (v, i) => `(local.set ${v} (i32.add (local.get $base) (i32.mul (local.get $len) (i32.const ${i}))))`)}
    (local.set $end (i32.add (local.get $base) (local.get $len)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get ${p[0]}) (local.get $end)))
      ${loads.join("\n      ")}
      ${each(p, (v) => `(local.set ${v} (i32.add (local.get ${v}) (i32.const ${STEP_BYTES})))`)}
      (br $next)))
    (i32x4.extract_lane 0 ${fold("v128.or", s)}))`;
}

const MUL = names("m", MUL_CHAINS);
const ADD = names("c", ADD_CHAINS);
const DOT = names("d", DOT_CHAINS);

/**
 * An integer peak loop: DOT_CHAINS chains of c = c + dot(c), `dot` a product of c and a (from
 * bytes 256..271) giving i32x4, the chains' starting values after a.
 */
function dotPeakFunc(name: string, dot: (c: string) => string): string {
  return `(func (export "${name}") (param $n i32) (result i32)
    (local $a v128)
    ${each(DOT, (c) => `(local ${c} v128)`)}
    (local.set $a (v128.load (i32.const 256)))
    ${each(DOT, (c, i) => `(local.set ${c} (v128.load (i32.const ${272 + 16 * i})))`)}
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      ${each(DOT, (c) => `(local.set ${c} (i32x4.add (local.get ${c}) ${dot(`(local.get ${c})`)}))`)}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (i32x4.extract_lane 0 ${fold("i32x4.add", DOT)}))`;
}

/** The probes' module, as text (exported for the test that reads V8's code for it). */
export const ROOF_WAT = `(module
  (import "env" "memory" (memory 1 65536))
  ;; a at bytes 0..15, b at 16..31, the chains' starting values after them.
  (func (export "peak") (param $n i32) (result f32)
    (local $a v128) (local $b v128)
    ${each([...MUL, ...ADD], (c) => `(local ${c} v128)`)}
    (local.set $a (v128.load (i32.const 0)))
    (local.set $b (v128.load (i32.const 16)))
    ${each([...MUL, ...ADD], (c, i) => `(local.set ${c} (v128.load (i32.const ${32 + 16 * i})))`)}
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      ${each(MUL, (c) => `(local.set ${c} (f32x4.mul (local.get ${c}) (local.get $a)))`)}
      ${each(ADD, (c) => `(local.set ${c} (f32x4.add (local.get ${c}) (local.get $b)))`)}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (f32x4.extract_lane 0 ${fold("f32x4.add", [...MUL, ...ADD])}))
  ;; a at bytes 256..271 (zeros, so c = c + dot(c, a) keeps c), the chains' starting values
  ;; after it.
  ${dotPeakFunc("ipeak", (c) => `(i32x4.dot_i16x8_s ${c} (local.get $a))`)}
  ${STREAM_COUNTS.map(streamFunc).join("\n")})`;

/**
 * The relaxed integer peak's module, as text (exported for the test that reads V8's code for
 * it): a at bytes 256..271 (zeros), the chains' starting values after it, as ipeak's.
 */
export const ROOF_RELAXED_WAT = `(module
  (import "env" "memory" (memory 1 65536))
  ${dotPeakFunc(
    "rpeak",
    (c) => `(i32x4.extadd_pairwise_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s ${c} (local.get $a)))`,
  )})`;

interface RoofExports {
  peak(n: number): number;
  ipeak(n: number): number;
  [stream: `stream${number}`]: (base: number, len: number) => number;
}

type StreamFn = (base: number, len: number) => number;

/** Median (as the contenders' timings take it), slowest and fastest of some samples. */
export function rate(samples: readonly number[]): Rate {
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), slowest: s[0] as number, fastest: s[s.length - 1] as number };
}

/** Calls `call` until `minMs` have passed; returns `units` per call, per second, over 1e9. */
function timeRate(call: () => void, units: number, minMs: number): number {
  const t0 = performance.now();
  let n = 0;
  let t = t0;
  do {
    call();
    n++;
    t = performance.now();
  } while (t - t0 < minMs);
  return (units * n) / ((t - t0) / 1000) / 1e9;
}

const BASE = 128;
const PEAK_STEPS = 100_000;
/** Warm-up of the probes' code before the first measurement, ms. */
const WARM_MS = 30;
const MiB = 2 ** 20;
let compiled: WebAssembly.Module | undefined;

/** The probes' module in binary (for the test that compiles it alone). */
export async function roofBinary(): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("roof.wat", ROOF_WAT, { simd: true });
  const bytes = new Uint8Array(module.toBinary({}).buffer).slice();
  module.destroy();
  return bytes;
}

async function roofModule(): Promise<WebAssembly.Module> {
  compiled ??= new WebAssembly.Module(await roofBinary());
  return compiled;
}

/** The relaxed integer peak's module in binary (whether or not this engine takes it). */
export async function roofRelaxedBinary(): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("roof-relaxed.wat", ROOF_RELAXED_WAT, {
    simd: true,
    relaxed_simd: true,
  });
  const bytes = new Uint8Array(module.toBinary({}).buffer).slice();
  module.destroy();
  return bytes;
}

let relaxedCompiled: WebAssembly.Module | null | undefined;

/** The relaxed peak's module compiled, or null where this engine lacks relaxed SIMD. */
async function roofRelaxedModule(): Promise<WebAssembly.Module | null> {
  if (relaxedCompiled === undefined) {
    const bytes = await roofRelaxedBinary();
    relaxedCompiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return relaxedCompiled;
}

/**
 * The largest cache of this machine, bytes, from Linux's sysfs (null elsewhere, or unreadable).
 * A virtual machine may report its host's whole cache, more than it effectively gets.
 */
export function lastLevelCacheBytes(): number | null {
  const dir = "/sys/devices/system/cpu/cpu0/cache";
  try {
    let best: number | null = null;
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith("index")) continue;
      const text = readFileSync(`${dir}/${entry}/size`, "utf8").trim();
      const m = /^(\d+)([KMG]?)$/i.exec(text);
      if (m === null) continue;
      const unit = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m[2] ?? "").toUpperCase()] ?? 1;
      const bytes = Number(m[1]) * unit;
      if (best === null || bytes > best) best = bytes;
    }
    return best;
  } catch {
    return null;
  }
}

/**
 * The main-memory buffer's default size: at least 256 MiB and twice the last-level cache that
 * sysfs reports, at most 2 GiB.
 */
export function defaultMemoryBytes(): number {
  const llc = lastLevelCacheBytes() ?? 0;
  return Math.min(2048 * MiB, Math.max(256 * MiB, 2 * llc));
}

/** A buffer in a memory of its own, written first (untouched pages all read one page of zeros). */
class StreamBuffer {
  readonly exports: RoofExports;
  readonly bytes: number;
  readonly memory: WebAssembly.Memory;
  readonly samples = new Map<number, number[]>(STREAM_COUNTS.map((k) => [k, []]));

  private constructor(exports: RoofExports, bytes: number, memory: WebAssembly.Memory) {
    this.exports = exports;
    this.bytes = bytes;
    this.memory = memory;
  }

  static async create(bytes: number): Promise<StreamBuffer> {
    const whole = Math.ceil(bytes / (STEP_BYTES * 4)) * STEP_BYTES * 4;
    const pages = Math.ceil((BASE + whole) / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    new Float32Array(memory.buffer).fill(1);
    const f = new Float32Array(memory.buffer, 0, 8);
    f.fill(1, 0, 4); // a = 1: m · a keeps m
    f.fill(2 ** -20, 4, 8); // b: c + b grows slowly
    new Float32Array(memory.buffer, 256, 4).fill(0); // the integer peak's a: c + dot(c, 0) keeps c
    const instance = new WebAssembly.Instance(await roofModule(), { env: { memory } });
    return new StreamBuffer(instance.exports as unknown as RoofExports, whole, memory);
  }

  read(k: number): void {
    this.readSome(k, this.bytes);
  }

  /** Reads `bytes` of the buffer (at most all) with k streams. */
  readSome(k: number, bytes: number): void {
    const len = Math.floor(Math.min(bytes, this.bytes) / k / STEP_BYTES) * STEP_BYTES;
    (this.exports[`stream${k}`] as StreamFn)(BASE, len);
  }

  /** One repetition of each stream count, each lasting at least minMs. */
  repetition(minMs: number): void {
    for (const k of STREAM_COUNTS) {
      const len = Math.floor(this.bytes / k / STEP_BYTES) * STEP_BYTES;
      this.samples.get(k)?.push(timeRate(() => this.read(k), len * k, minMs));
    }
  }

  result(): StreamRate {
    return streamsOf(this.bytes, this.samples);
  }
}

const memoryBuffers = new Map<number, Promise<StreamBuffer>>();

/**
 * The roof of one shape, measured a repetition at a time so that the bench can interleave it
 * with the contenders' repetitions. The main-memory buffer is allocated once per size and
 * process, and shared by the shapes; each shape's samples are its own.
 */
export class RoofProbe {
  readonly #peak: RoofExports["peak"];
  /** A buffer per weight size asked for (null where it is main memory's size or more). */
  readonly #weights: Map<number, StreamBuffer | null>;
  readonly #memory: StreamBuffer;
  readonly #memorySamples = new Map<number, number[]>(STREAM_COUNTS.map((k) => [k, []]));
  readonly #peaks: number[] = [];
  readonly #ipeak: RoofExports["ipeak"];
  readonly #ipeaks: number[] = [];
  /** The relaxed integer peak's loop, where this engine has relaxed SIMD. */
  readonly #rpeak: ((n: number) => number) | null;
  readonly #rpeaks: number[] = [];

  private constructor(
    readonly weightBytes: number,
    weights: Map<number, StreamBuffer | null>,
    memory: StreamBuffer,
    rpeak: ((n: number) => number) | null,
  ) {
    this.#peak = memory.exports.peak;
    this.#ipeak = memory.exports.ipeak;
    this.#rpeak = rpeak;
    this.#weights = weights;
    this.#memory = memory;
  }

  /**
   * @param weightBytes - the shape's weight bytes (all its layers)
   * @param memoryBytes - the main-memory buffer's size (defaultMemoryBytes())
   * @param otherWeightBytes - the same weights' bytes in other types (a run's 16-bit or
   *   quantized rows): a buffer of each size is read too, so each type's roof has its rate
   */
  static async create(
    weightBytes: number,
    memoryBytes: number = defaultMemoryBytes(),
    otherWeightBytes: readonly number[] = [],
  ): Promise<RoofProbe> {
    let memory = memoryBuffers.get(memoryBytes);
    if (memory === undefined) {
      memory = StreamBuffer.create(memoryBytes);
      memoryBuffers.set(memoryBytes, memory);
    }
    const main = await memory;
    const weights = new Map<number, StreamBuffer | null>();
    for (const bytes of [weightBytes, ...otherWeightBytes]) {
      if (!weights.has(bytes))
        weights.set(bytes, bytes < main.bytes ? await StreamBuffer.create(bytes) : null);
    }
    const relaxed = await roofRelaxedModule();
    const rpeak =
      relaxed === null
        ? null
        : (
            new WebAssembly.Instance(relaxed, { env: { memory: main.memory } }).exports as {
              rpeak(n: number): number;
            }
          ).rpeak;
    const probe = new RoofProbe(weightBytes, weights, main, rpeak);
    // Short calls until V8 has had time to tier the functions up from its baseline compiler
    // (a call that is running keeps the code it started with), then one whole read of each.
    const start = performance.now();
    while (performance.now() - start < WARM_MS) {
      probe.#peak(1000);
      probe.#ipeak(1000);
      probe.#rpeak?.(1000);
      for (const k of STREAM_COUNTS) main.readSome(k, 1 << 16);
    }
    for (const k of STREAM_COUNTS) {
      for (const w of weights.values()) w?.read(k);
      main.read(k);
    }
    return probe;
  }

  /** One repetition of each probe, each lasting at least minMs. */
  repetition(minMs: number): void {
    const ms = Math.max(minMs, 1);
    this.#peaks.push(timeRate(() => this.#peak(PEAK_STEPS), PEAK_STEPS * PEAK_FLOPS_PER_STEP, ms));
    this.#ipeaks.push(
      timeRate(() => this.#ipeak(PEAK_STEPS), PEAK_STEPS * INT_PEAK_FLOPS_PER_STEP, ms),
    );
    const rpeak = this.#rpeak;
    if (rpeak !== null)
      this.#rpeaks.push(
        timeRate(() => rpeak(PEAK_STEPS), PEAK_STEPS * RELAXED_PEAK_FLOPS_PER_STEP, ms),
      );
    for (const w of this.#weights.values()) w?.repetition(ms);
    // The main-memory buffer is shared: its samples are copied out, so each shape keeps its own.
    const before = new Map([...this.#memory.samples].map(([k, v]) => [k, v.length]));
    this.#memory.repetition(ms);
    for (const [k, v] of this.#memory.samples)
      this.#memorySamples.get(k)?.push(...v.slice(before.get(k) ?? 0));
  }

  /**
   * The roof from the repetitions so far, for weights of `weightBytes` (the shape's, or one of
   * the other sizes given to create), under the float peak or the integer one (quantized
   * weights: the larger median of the 16-bit dot's peak and, where measured, relaxed SIMD's).
   */
  result(
    gflopPerForward: number,
    weightBytes: number = this.weightBytes,
    peakKind: PeakKind = "float",
  ): ShapeRoof {
    const buffer = this.#weights.get(weightBytes);
    if (buffer === undefined)
      throw new RangeError(`RoofProbe.result: no buffer of ${weightBytes} bytes was read`);
    const memory = streamsOf(this.#memory.bytes, this.#memorySamples);
    const [peak, integerPeak] =
      peakKind === "integer"
        ? integerPeakOf(rate(this.#ipeaks), this.#rpeaks.length > 0 ? rate(this.#rpeaks) : null)
        : [rate(this.#peaks), null];
    return shapeRoof(
      peak,
      buffer?.result() ?? null,
      memory,
      gflopPerForward,
      weightBytes,
      peakKind,
      integerPeak,
    );
  }
}

/**
 * The integer peak quantized rows are held to: the 16-bit dot's, or relaxed SIMD's i8 dot's
 * where it was measured and its median is the larger.
 */
export function integerPeakOf(
  i16: Rate,
  relaxed: Rate | null,
): [peak: Rate, which: "i16" | "relaxed"] {
  return relaxed !== null && relaxed.median > i16.median ? [relaxed, "relaxed"] : [i16, "i16"];
}

/** A buffer's rates from its samples: per stream count, and the fastest count's. */
function streamsOf(bytes: number, samples: Map<number, number[]>): StreamRate {
  const byStreams = STREAM_COUNTS.map((streams) => ({
    streams,
    rate: rate(samples.get(streams) ?? []),
  }));
  const best = byStreams.reduce((a, b) => (b.rate.median > a.rate.median ? b : a));
  return { bytes, byStreams, streams: best.streams, rate: best.rate };
}

/**
 * min(peak, flops per forward / time to read the weights once), medians; the weights are read
 * at their own buffer's rate (a cache's, where they fit in one) or, without one, main memory's.
 */
export function shapeRoof(
  peak: Rate,
  weights: StreamRate | null,
  memory: StreamRate,
  gflopPerForward: number,
  weightBytes: number,
  peakKind: PeakKind = "float",
  integerPeak: ShapeRoof["integerPeak"] = peakKind === "integer" ? "i16" : null,
): ShapeRoof {
  const weightsRate = (weights ?? memory).rate.median;
  const weightsFrom: WeightsFrom =
    weights !== null && weightsRate >= CACHE_RATIO * memory.rate.median ? "cache" : "memory";
  const memoryGflops = (gflopPerForward * weightsRate) / (weightBytes / 1e9);
  const bound = memoryGflops < peak.median ? weightsFrom : "compute";
  return {
    peak,
    peakKind,
    integerPeak,
    weights,
    memory,
    weightsFrom,
    weightsRate,
    memoryGflops,
    gflops: bound === "compute" ? peak.median : memoryGflops,
    bound,
  };
}

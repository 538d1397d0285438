// The roof of one thread on this machine, measured in the bench's own process: how fast a core
// multiplies and adds 128-bit vectors, and how fast it streams a layer's weights. A forward
// needs 4·T·dModel·dHidden flops (6· for the gated layer) and must read every weight at least
// once, so no one-thread kernel of 128-bit vectors can beat min(peak, flops / weight-read time).
import wabtInit from "wabt";
import { quantile } from "./stats";

/** A measured rate: the median of the repetitions, and the slowest and fastest. */
export interface Rate {
  median: number;
  slowest: number;
  fastest: number;
}

/** A shape's one-thread roof, measured in the shape's own rounds. */
export interface ShapeRoof {
  /** f32x4.mul then f32x4.add on ten independent register chains, one thread: GFLOP/s. */
  peak: Rate;
  /** A read of as many bytes as the layer's weights, 128-bit loads, one thread: GB/s. */
  stream: Rate;
  /** GFLOP/s if the weights were read once at the median stream rate. */
  memoryGflops: number;
  /** min(peak, memoryGflops), medians, and which of the two it is. */
  gflops: number;
  bound: "compute" | "memory";
}

const CHAINS = 10;
const LOADS = 8;

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `$${prefix}${i}`);
/** (op (op $x0 $x1) $x2) ... as text. */
const fold = (op: string, locals: string[]) =>
  locals.map((l) => `(local.get ${l})`).reduce((acc, l) => `(${op} ${acc} ${l})`);
const each = (locals: string[], line: (l: string, i: number) => string) =>
  locals.map(line).join("\n      ");

// Ten accumulators: more than the adds' latency times their throughput, so the loop runs at
// the multiply and add ports' rate; the operands never leave registers.
const ROOF_WAT = `(module
  (import "env" "memory" (memory 1 65536))
  (func (export "peak") (param $n i32) (result f32)
    (local $a v128) (local $b v128)
    ${each(names("c", CHAINS), (c) => `(local ${c} v128)`)}
    (local.set $a (v128.load (i32.const 0)))
    (local.set $b (v128.load (i32.const 16)))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      ${each(names("c", CHAINS), (c) => `(local.set ${c} (f32x4.add (local.get ${c}) (f32x4.mul (local.get $a) (local.get $b))))`)}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (f32x4.extract_lane 0 ${fold("f32x4.add", names("c", CHAINS))}))
  ;; Eight loads a step, folded with v128.or (one cycle, no float latency) so that the loads,
  ;; not the arithmetic, set the pace.
  (func (export "stream") (param $p i32) (param $end i32) (result i32)
    ${each(names("s", LOADS), (v) => `(local ${v} v128)`)}
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      ${each(names("s", LOADS), (v, i) => `(local.set ${v} (v128.or (local.get ${v}) (v128.load offset=${16 * i} (local.get $p))))`)}
      (local.set $p (i32.add (local.get $p) (i32.const ${16 * LOADS})))
      (br $next)))
    (i32x4.extract_lane 0 ${fold("v128.or", names("s", LOADS))})))`;

interface RoofExports {
  peak(n: number): number;
  stream(p: number, end: number): number;
}

/** Median (as the contenders' timings take it), slowest and fastest of some samples. */
function rate(samples: readonly number[]): Rate {
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

const ALIGN = 128;
const PEAK_STEPS = 100_000;
let compiled: WebAssembly.Module | undefined;

async function roofModule(): Promise<WebAssembly.Module> {
  if (compiled === undefined) {
    const wabt = await wabtInit();
    const module = wabt.parseWat("roof.wat", ROOF_WAT, { simd: true });
    compiled = new WebAssembly.Module(new Uint8Array(module.toBinary({}).buffer));
    module.destroy();
  }
  return compiled;
}

/**
 * The roof of one shape, measured a repetition at a time so that the bench can interleave it
 * with the contenders' repetitions. Its buffer, as large as the weights, is written first:
 * untouched pages would all read the kernel's one page of zeros.
 */
export class RoofProbe {
  readonly #peak: RoofExports["peak"];
  readonly #stream: RoofExports["stream"];
  readonly #end: number;
  readonly #peaks: number[] = [];
  readonly #streams: number[] = [];

  private constructor(
    exports: RoofExports,
    readonly weightBytes: number,
    end: number,
  ) {
    this.#peak = exports.peak;
    this.#stream = exports.stream;
    this.#end = end;
  }

  static async create(weightBytes: number): Promise<RoofProbe> {
    // The buffer: [ALIGN, end), the weight bytes rounded up to whole steps of the read loop.
    const end = ALIGN + Math.ceil(weightBytes / ALIGN) * ALIGN;
    const pages = Math.ceil(end / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    new Float32Array(memory.buffer).fill(1);
    const instance = new WebAssembly.Instance(await roofModule(), { env: { memory } });
    const probe = new RoofProbe(instance.exports as unknown as RoofExports, weightBytes, end);
    probe.#peak(PEAK_STEPS);
    probe.#stream(ALIGN, probe.#end);
    return probe;
  }

  /** One repetition of each probe, each lasting at least minMs. */
  repetition(minMs: number): void {
    this.#peaks.push(
      timeRate(() => this.#peak(PEAK_STEPS), PEAK_STEPS * CHAINS * 8, Math.max(minMs, 1)),
    );
    this.#streams.push(
      timeRate(() => this.#stream(ALIGN, this.#end), this.#end - ALIGN, Math.max(minMs, 1)),
    );
  }

  /** The roof from the repetitions so far. */
  result(gflopPerForward: number): ShapeRoof {
    return shapeRoof(rate(this.#peaks), rate(this.#streams), gflopPerForward, this.weightBytes);
  }
}

/** min(peak, flops per forward / time to read the weights once at the stream rate), medians. */
export function shapeRoof(
  peak: Rate,
  stream: Rate,
  gflopPerForward: number,
  weightBytes: number,
): ShapeRoof {
  const memoryGflops = (gflopPerForward * stream.median) / (weightBytes / 1e9);
  const bound = memoryGflops < peak.median ? "memory" : "compute";
  return {
    peak,
    stream,
    memoryGflops,
    gflops: bound === "memory" ? memoryGflops : peak.median,
    bound,
  };
}

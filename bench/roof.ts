// The roof of one thread on this machine, measured in the bench's own process: how fast a core
// multiplies and adds 128-bit vectors, and how fast it streams a layer's weights. A forward
// needs 4·T·dModel·dHidden flops (6· for the gated layer) and must read every weight at least
// once, so no one-thread kernel of 128-bit vectors can beat min(peak, flops / weight-read time).
import wabtInit from "wabt";

/** A measured rate: the median of the repetitions, and the slowest and fastest. */
export interface Rate {
  median: number;
  slowest: number;
  fastest: number;
}

export interface Roof {
  /** f32x4.mul then f32x4.add on ten independent register chains, one thread: GFLOP/s. */
  peak: Rate;
  /** A read of `bytes` bytes of WebAssembly memory, 128-bit loads, one thread: GB/s. */
  stream: (Rate & { bytes: number })[];
}

/** What bounds a shape on one thread: the arithmetic or the reading of its weights. */
export interface ShapeRoof {
  gflops: number;
  bound: "compute" | "memory";
  /** GFLOP/s if the weights were read once at the measured stream rate. */
  memoryGflops: number;
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
const PEAK_WAT = `(module
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

function rate(samples: number[]): Rate {
  const s = [...samples].sort((a, b) => a - b);
  return {
    median: s[Math.floor((s.length - 1) / 2)] as number,
    slowest: s[0] as number,
    fastest: s[s.length - 1] as number,
  };
}

/** Repeats `call` until `minMs` have passed, `reps` times; returns units per second / 1e9. */
function timeRate(call: () => void, units: number, reps: number, minMs: number): Rate {
  call();
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    let n = 0;
    let t = t0;
    do {
      call();
      n++;
      t = performance.now();
    } while (t - t0 < minMs);
    samples.push((units * n) / ((t - t0) / 1000) / 1e9);
  }
  return rate(samples);
}

const ALIGN = 128;

/**
 * Measures the peak and the stream rate for each size in `bytes` (rounded up to 128). The
 * buffer is written first: untouched pages would all read the kernel's one page of zeros.
 */
export async function measureRoof(
  bytes: readonly number[],
  options: { reps?: number; minRepMs?: number } = {},
): Promise<Roof> {
  const reps = options.reps ?? 7;
  const minMs = options.minRepMs ?? 100;
  const wabt = await wabtInit();
  const module = wabt.parseWat("roof.wat", PEAK_WAT, { simd: true });
  const binary = new Uint8Array(module.toBinary({}).buffer);
  module.destroy();
  const largest = Math.max(ALIGN, ...bytes.map((b) => Math.ceil(b / ALIGN) * ALIGN));
  const pages = Math.ceil((largest + ALIGN) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  new Float32Array(memory.buffer).fill(1);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory } });
  const { peak, stream } = instance.exports as unknown as RoofExports;

  const steps = 1_000_000;
  const peakRate = timeRate(() => peak(steps), steps * CHAINS * 8, reps, minMs);
  const streams = [...new Set(bytes)].map((b) => {
    const end = ALIGN + Math.ceil(b / ALIGN) * ALIGN;
    return { bytes: b, ...timeRate(() => stream(ALIGN, end), end - ALIGN, reps, minMs) };
  });
  return { peak: peakRate, stream: streams };
}

/** The one-thread roof of a shape: min(peak, flops per forward / time to read its weights). */
export function shapeRoof(
  roof: Roof,
  shape: { gflopPerForward: number; weightBytes: number },
): ShapeRoof | undefined {
  const s = roof.stream.find((r) => r.bytes === shape.weightBytes);
  if (s === undefined) return undefined;
  const memoryGflops = (shape.gflopPerForward * s.median) / (shape.weightBytes / 1e9);
  return memoryGflops < roof.peak.median
    ? { gflops: memoryGflops, bound: "memory", memoryGflops }
    : { gflops: roof.peak.median, bound: "compute", memoryGflops };
}

// Memory while loading a checkpoint and after: how many bytes a layer built by the checkpoint
// loader holds, against the file's weight bytes. Each way of loading runs in a child process of
// its own, so the peak (VmHWM) is that load's alone:
//
//   npm run bench:load -- [--size 4096x11008] [--layer gated|ffn] [--file bf16|f16|f32]
//
// The parent writes one safetensors file (a LLaMA-style gated layer by default, LLaMA-7B's
// widths, nn.Linear layout, no biases) to a temporary folder, then for each way:
//   kept      loader defaults: a 16-bit file gives a 16-bit layer (the file's values as they are)
//   f32       the loader with { dtype: "f32" }: the 16-bit values widened into a float32 layer
//   detour    the weights read as float32 (gatedFeedForwardWeightsFromCheckpoint), then
//             fromWeights(..., { dtype }) rounding them back: what loading cost before the
//             loaders kept 16 bits
// and reports, above the resident set before loading (the module compiled, nothing read):
// the peak while loading (file bytes included), and the resident set after the file's bytes
// were dropped and collected, with its ratio to the file's weight bytes.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type SafetensorsTensorInput,
  FeedForward,
  GatedFeedForward,
  feedForwardFromCheckpoint,
  feedForwardWeightsFromCheckpoint,
  gatedFeedForwardFromCheckpoint,
  gatedFeedForwardWeightsFromCheckpoint,
  llamaFeedForwardNames,
  optFeedForwardNames,
  serializeSafetensors,
} from "../src/index";
import { floatBitsToBf16, floatBitsToHalf } from "../src/dtype";
import { loadSafetensors } from "../src/node";
import { procStatus, resetPeak, settle } from "./memory";
import { Random } from "../src/random";

type FileType = "bf16" | "f16" | "f32";
type Way = "kept" | "f32" | "detour";

interface Options {
  dModel: number;
  dHidden: number;
  layer: "gated" | "ffn";
  file: FileType;
}

export interface LoadReading {
  way: Way;
  dtype: string;
  /** Bytes above the resident set before loading. */
  peak: number;
  after: number;
}

const MiB = 2 ** 20;

function parseArgs(argv: string[]): Options {
  const o: Options = { dModel: 4096, dHidden: 11008, layer: "gated", file: "bf16" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--size" && v !== undefined) {
      const m = /^(\d+)x(\d+)$/.exec(v);
      if (m === null) throw new RangeError(`--size must be DxH, such as 4096x11008, got ${v}`);
      o.dModel = Number(m[1]);
      o.dHidden = Number(m[2]);
      i++;
    } else if (a === "--layer" && (v === "gated" || v === "ffn")) {
      o.layer = v;
      i++;
    } else if (a === "--file" && (v === "bf16" || v === "f16" || v === "f32")) {
      o.file = v;
      i++;
    } else throw new RangeError(`unknown argument ${a} (see the header of bench/load-memory.ts)`);
  }
  return o;
}

const names = (o: Options) =>
  o.layer === "gated" ? llamaFeedForwardNames(0) : optFeedForwardNames(0);

/** The layer's weights as a safetensors file of `o.file` values, nn.Linear layout, no biases. */
function writeFile(o: Options, path: string): number {
  const rng = new Random(1);
  const n = names(o) as unknown as Record<string, string>;
  const keys = o.layer === "gated" ? ["wGate", "wUp", "wDown"] : ["w1", "w2"];
  const tensors: Record<string, SafetensorsTensorInput> = {};
  let bytes = 0;
  for (const k of keys) {
    const down = k === "wDown" || k === "w2";
    const shape = down ? [o.dModel, o.dHidden] : [o.dHidden, o.dModel];
    const f = new Float32Array(o.dModel * o.dHidden);
    rng.fillUniform(f, 1 / Math.sqrt(down ? o.dHidden : o.dModel));
    let data: Float32Array | Uint16Array = f;
    if (o.file !== "f32") {
      const u = new Uint32Array(f.buffer);
      const h = new Uint16Array(f.length);
      for (let i = 0; i < f.length; i++) {
        h[i] =
          o.file === "bf16" ? floatBitsToBf16(u[i] as number) : floatBitsToHalf(u[i] as number);
      }
      data = h;
    }
    bytes += data.byteLength;
    tensors[n[k] as string] = {
      dtype: o.file === "f32" ? "F32" : o.file === "bf16" ? "BF16" : "F16",
      shape,
      data,
    };
    if (o.layer === "ffn") {
      // OPT's names carry biases: float32, as the loaders keep them.
      const b = new Float32Array(down ? o.dModel : o.dHidden);
      tensors[n[k === "w1" ? "b1" : "b2"] as string] = { dtype: "F32", shape: [b.length], data: b };
    }
  }
  writeFileSync(path, serializeSafetensors(tensors));
  return bytes;
}

/** VmHWM and VmRSS, in bytes (Linux's /proc: bench:load measures there only). */
function status(): { hwm: number; rss: number } {
  const s = procStatus();
  if (s === null) throw new Error("bench:load reads /proc/self/status, which this system lacks");
  return s;
}

/** One way of loading (a function of its own, so that nothing it reads stays reachable). */
function build(file: object, o: Options, way: Way): FeedForward | GatedFeedForward {
  const n = names(o);
  const gated = o.layer === "gated";
  const kernel = "wasm" as const;
  const activation = n.activation;
  if (way === "detour") {
    const dtype = o.file;
    return gated
      ? GatedFeedForward.fromWeights(
          gatedFeedForwardWeightsFromCheckpoint(file as never, n as never),
          { kernel, dtype, activation },
        )
      : FeedForward.fromWeights(feedForwardWeightsFromCheckpoint(file as never, n as never), {
          kernel,
          dtype,
          activation,
        });
  }
  const opts = way === "f32" ? { kernel, dtype: "f32" as const } : { kernel };
  return gated
    ? gatedFeedForwardFromCheckpoint(file as never, n as never, opts)
    : feedForwardFromCheckpoint(file as never, n as never, opts);
}

/** In the child: one way of loading, measured. */
async function child(path: string, o: Options, way: Way): Promise<LoadReading> {
  // Warm: compile the kernel's module and touch the loader's code on a tiny layer first.
  new FeedForward({ dModel: 4, dHidden: 8, kernel: "wasm" }).dispose();
  await settle();
  resetPeak();
  const base = status().rss;
  let file: Awaited<ReturnType<typeof loadSafetensors>> | null = await loadSafetensors(path);
  const layer = build(file, o, way);
  const peak = status().hwm - base;
  file = null;
  await settle();
  layer.forwardToken(new Float32Array(o.dModel).fill(0.5));
  const after = status().rss - base;
  return { way, dtype: layer.dtype, peak, after };
}

/** Runs every way in a child process of its own and returns the readings. */
export function measureLoads(o: Options, ways: readonly Way[] = ["kept", "f32", "detour"]) {
  const dir = mkdtempSync(join(tmpdir(), "tokenwise-load-"));
  try {
    const path = join(dir, "layer.safetensors");
    const weightBytes = writeFile(o, path);
    const self = fileURLToPath(import.meta.url);
    const readings = ways.map((way) => {
      const r = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--child", path, JSON.stringify(o), way],
        { encoding: "utf8", maxBuffer: 2 ** 20 },
      );
      if (r.status !== 0) throw new Error(`load-memory child (${way}) failed:\n${r.stderr}`);
      return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as LoadReading;
    });
    return { weightBytes, readings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${head} (dirty tree)` : head;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    const reading = await child(
      argv[1] as string,
      JSON.parse(argv[2] as string) as Options,
      argv[3] as Way,
    );
    console.log(JSON.stringify(reading));
    return;
  }
  const o = parseArgs(argv);
  const { weightBytes, readings } = measureLoads(o);
  const mib = (b: number) => (b / MiB).toFixed(1);
  console.log(
    `${o.layer === "gated" ? "GatedFeedForward" : "FeedForward"} ${o.dModel} x ${o.dHidden}, a ${o.file.toUpperCase()} file: ${mib(weightBytes)} MiB of weights; commit ${gitCommit()}, Node ${process.version}`,
  );
  console.log(
    "| way | layer dtype | peak while loading, MiB | x weights | after, MiB | x weights |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const r of readings) {
    console.log(
      `| ${r.way} | ${r.dtype} | ${mib(r.peak)} | ${(r.peak / weightBytes).toFixed(2)} | ${mib(r.after)} | ${(r.after / weightBytes).toFixed(2)} |`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

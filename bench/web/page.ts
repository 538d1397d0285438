// The browser run's page (`npm run bench:web`): bundled by session.ts with esbuild, it builds the
// contenders that run in a browser and runs them as host.ts does in a child process. Node drives
// the harness (harness.ts) and opens one page per contender and call, like one process per
// contender: the page draws the problem from the seed itself, so it computes on the same bits as
// Node; it sends back its outputs as float32 bit patterns (the harness checks them, exactly and
// against the bound) and its own timings (performance.now() in the page, the loop runner.ts's).
// Packages come from the bundle: "bench-web:packages" is a module session.ts writes, with a
// loader for each peer installed (and where its WebAssembly files are served) and the custom
// kernels given with --custom.
import { CUSTOM, PACKAGES, VERSIONS } from "bench-web:packages";
import {
  type Contender,
  type HostKey,
  type Unavailable,
  type WebgpuCheck,
  runEach,
  setupLayers,
} from "../contender";
import { customContender, kernelsOf } from "../custom";
import { makeExactProblem } from "../exact";
import type { Variant } from "../layer";
import { naiveContender } from "../naive";
import type { PeerContext } from "../peers/context";
import { type PeerStatus, findPeer, loadPeers } from "../peers/table";
import { makeProblem } from "../problem";
import { LocalRunner, type RepTiming } from "../runner";
import type { Shape } from "../shapes";
import {
  findTokenwiseEntry,
  tokenwiseContender,
  tokenwiseContenders,
  withLayerOptions,
} from "../tokenwise";
import type { WeightDtype } from "../../src/dtype";

/** An output as it crosses to Node: a Float32Array's bytes in base64 (NaN payloads and −0 kept). */
export type Encoded = { f32: string } | { other: string };

/** What the page says of a contender: the harness's fields, and its key to rebuild it. */
export type Listed =
  | {
      id: string;
      label: string;
      group: Contender["group"];
      threads: number;
      native: boolean;
      library: string | null;
      key: HostKey;
      webgpu: WebgpuCheck | null;
    }
  | Unavailable;

export interface ListRequest {
  variant: Variant;
  kernels: readonly string[] | "all";
  threads: readonly number[];
  dtypes: readonly WeightDtype[];
  peers: readonly string[];
  naive: boolean;
  /** The --custom modules, by path (the bundle's keys). */
  custom: readonly string[];
}

/** The WebGPU adapter a page gets from navigator.gpu (the browser run with a webgpu contender). */
export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The browser calls it a fallback adapter (isFallbackAdapter). */
  fallback: boolean;
  /**
   * Computes on the CPU: a fallback adapter, or one that names a software rasterizer
   * (SwiftShader, llvmpipe, lavapipe, WARP). Its speed says nothing of a GPU's.
   */
  software: boolean;
}

export interface PageInfo {
  userAgent: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** WebAssembly relaxed SIMD validates here (f32x4.relaxed_madd). */
  relaxedSimd: boolean;
  simd: boolean;
  /** gc() is there (Chromium started with --js-flags=--expose-gc): the harness collects before each repetition. */
  gc: boolean;
  /** Asked for when a webgpu contender is: the adapter, or why there is none. */
  webgpu?: WebgpuAdapter | { error: string };
}

export interface BenchPage {
  info(req: { webgpu: boolean }): Promise<PageInfo>;
  list(req: ListRequest): Promise<{ contenders: Listed[]; peers: PeerStatus[] }>;
  exact(req: {
    key: HostKey;
    shape: Shape;
    seed: number;
    variant: Variant;
    budget: number;
  }): Promise<Encoded[]>;
  setup(req: { key: HostKey; shape: Shape; seed: number; variant: Variant }): Promise<void>;
  first(): Promise<{ output: Encoded; ms: number }>;
  each(): Promise<Encoded[]>;
  time(calls: number): Promise<RepTiming>;
  dispose(): Promise<void>;
}

declare global {
  interface Window {
    bench?: BenchPage;
    benchError?: string;
  }
}

/** A module of one function returning v128 through `op` on three v128 constants (or two). */
function simdModule(op: number[], operands: number): Uint8Array<ArrayBuffer> {
  const constant = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
  const body = [0x00, ...Array.from({ length: operands }, () => constant).flat(), ...op, 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // \0asm, version 1
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, body.length + 2, 0x01, body.length, ...body], // code section
  ]);
}

/** What navigator.gpu's adapter says of itself (GPUAdapterInfo; older Chromium: requestAdapterInfo). */
interface AdapterLike {
  info?: Partial<Record<"vendor" | "architecture" | "device" | "description", string>> & {
    isFallbackAdapter?: boolean;
  };
  isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<AdapterLike["info"]>;
}

async function webgpuAdapter(): Promise<WebgpuAdapter | { error: string }> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (gpu === undefined) return { error: "no navigator.gpu in this page" };
  const adapter = await gpu.requestAdapter();
  if (adapter === null) return { error: "navigator.gpu.requestAdapter() gave no adapter" };
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  const text = (k: "vendor" | "architecture" | "device" | "description") => info[k] ?? "";
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const named = ["vendor", "architecture", "device", "description"] as const;
  return {
    vendor: text("vendor"),
    architecture: text("architecture"),
    device: text("device"),
    description: text("description"),
    fallback,
    software:
      fallback || named.some((k) => /swiftshader|llvmpipe|lavapipe|\bwarp\b/i.test(text(k))),
  };
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function encode(v: unknown): Encoded {
  if (v instanceof Float32Array)
    return { f32: base64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  return {
    other: v === null || typeof v !== "object" ? String(v) : (v.constructor?.name ?? "object"),
  };
}

const peers: PeerContext = {
  dir: "(bundled into the page)",
  async load(name) {
    const load = PACKAGES[name];
    if (load === undefined) {
      throw new Error(
        VERSIONS[name] === undefined
          ? `Cannot find package '${name}' (install the bench's peers with: npm ci --prefix bench)`
          : `${name} does not run in a browser`,
      );
    }
    return load();
  },
  version: (name) => VERSIONS[name],
};

/**
 * A contender rebuilt from its key in this page. On more than one thread tokenwise's layer is
 * timed through forwardAsync: a page's main thread may not block, so its forward would compute
 * alone there (docs/threads.md).
 */
async function contenderFromKey(key: HostKey, variant: Variant): Promise<Contender> {
  switch (key.kind) {
    case "tokenwise": {
      const entry = findTokenwiseEntry(key.kernel, variant.layer);
      const row =
        key.tag === undefined ? entry : withLayerOptions(entry, key.tag, key.options ?? {});
      return tokenwiseContender(
        key.threads > 1 ? { ...row, async: true } : row,
        key.threads,
        variant.activation,
      );
    }
    case "peer":
      return findPeer(key.name).load(peers, key.threads, variant);
    case "naive":
      return naiveContender(variant);
    case "custom": {
      const load = CUSTOM[key.module];
      if (load === undefined) throw new Error(`${key.module} is not in the page's bundle`);
      const kernel = kernelsOf(await load(), key.module)[key.index];
      if (kernel === undefined)
        throw new RangeError(`${key.module} has no kernel at index ${key.index}`);
      const c = customContender(kernel, variant, { module: key.module, index: key.index });
      if ("reason" in c) throw new Error(c.reason);
      return c;
    }
    case "none":
      throw new Error("page: no contender");
  }
}

/**
 * Libraries that size their thread pool by navigator.hardwareConcurrency (jax-js does) get the
 * contender's own thread count: each contender has a page of its own.
 */
function reportCores(threads: number): void {
  Object.defineProperty(navigator, "hardwareConcurrency", { get: () => threads });
}

function listed(c: Contender | Unavailable): Listed {
  if ("reason" in c)
    return { id: c.id, label: c.label, group: c.group, threads: c.threads, reason: c.reason };
  if (c.host === undefined) throw new Error(`${c.id}: no key to rebuild it in another page`);
  return {
    id: c.id,
    label: c.label,
    group: c.group,
    threads: c.threads,
    native: c.native === true,
    library: c.library ?? null,
    key: c.host,
    webgpu: c.webgpu ?? null,
  };
}

let runner: LocalRunner | null = null;

const page: BenchPage = {
  async info({ webgpu }) {
    return {
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer === "function",
      hardwareConcurrency: navigator.hardwareConcurrency,
      relaxedSimd: WebAssembly.validate(simdModule([0xfd, 0x85, 0x02], 3)), // f32x4.relaxed_madd
      simd: WebAssembly.validate(simdModule([0xfd, 0xe4, 0x01], 2)), // f32x4.add
      gc: typeof (globalThis as { gc?: unknown }).gc === "function",
      ...(webgpu ? { webgpu: await webgpuAdapter() } : {}),
    };
  },

  async list(req) {
    const contenders: (Contender | Unavailable)[] = [
      ...(await tokenwiseContenders(req.kernels, req.threads, req.variant, req.dtypes)),
    ];
    for (const module of req.custom) {
      const load = CUSTOM[module];
      if (load === undefined) throw new Error(`${module} is not in the page's bundle`);
      kernelsOf(await load(), module).forEach((k, index) =>
        contenders.push(customContender(k, req.variant, { module, index })),
      );
    }
    const loaded = await loadPeers(peers, req.peers, req.threads, req.variant);
    contenders.push(...loaded.contenders);
    if (req.naive) contenders.push(naiveContender(req.variant));
    return { contenders: contenders.map(listed), peers: loaded.status };
  },

  async exact({ key, shape, seed, variant, budget }) {
    reportCores("threads" in key ? key.threads : 1);
    const contender = await contenderFromKey(key, variant);
    const exact = makeExactProblem(shape, seed, variant, budget);
    const instances = await setupLayers(
      contender,
      shape,
      exact.layers.map((l) => l.weights),
    );
    const outputs = await runEach(
      instances,
      exact.layers.map((l) => l.x),
    );
    return outputs.map(encode);
  },

  async setup({ key, shape, seed, variant }) {
    reportCores("threads" in key ? key.threads : 1);
    const contender = await contenderFromKey(key, variant);
    const problem = makeProblem(shape, seed, variant);
    runner = new LocalRunner(await setupLayers(contender, shape, problem.layers), problem.x);
  },

  async first() {
    if (runner === null) throw new Error("page: no contender");
    const { output, ms } = await runner.first();
    return { output: encode(output), ms };
  },

  async each() {
    if (runner === null) throw new Error("page: no contender");
    return (await runner.each()).map(encode);
  },

  async time(calls) {
    if (runner === null) throw new Error("page: no contender");
    return runner.time(calls);
  },

  async dispose() {
    await runner?.dispose();
    runner = null;
  },
};

window.bench = page;

// The peers a user would pick instead of tokenwise, one entry each: what it needs and how it is
// loaded. Each is a devDependency of bench/ only, loaded lazily; one that fails to load is
// reported as unavailable, with the reason, and skipped. Nothing here is Node's own: the browser
// run (web/page.ts) loads the same table from its bundle (index.ts is the Node side).
import { type WeightDtype, isQuant } from "../../src/dtype";
import type { Contender, Unavailable } from "../contender";
import { type Variant, describeVariant } from "../layer";
import { NO_WEBGPU, hasWebgpu, threadCounts } from "../tokenwise";
import { jaxContender } from "./jax";
import { mlMatrixContender } from "./ml-matrix";
import { ortNodeContender, ortWebContender } from "./ort";
import { tfjsContender } from "./tfjs";
import type { PeerContext } from "./context";

export type { PeerContext } from "./context";

export interface PeerEntry {
  /** The name used with --peers. */
  name: string;
  /** The npm packages it needs, whose versions the report records. */
  packages: readonly string[];
  threads: readonly number[] | "any";
  native?: boolean;
  /**
   * A peer of a weight type's rows (`--dtype f16`): in the default list only when the run has
   * that type, and unable to run without it (its model holds the weights in that type, so they
   * must be values the type holds: dtype.ts's rounding).
   */
  dtype?: WeightDtype;
  /**
   * Computes on a WebGPU device: run only when `--peers` names it (a software adapter, all a
   * machine without a GPU has, takes seconds at real shapes), and only where there is WebGPU (the
   * browser run), checked as reference-webgpu.ts says.
   */
  webgpu?: boolean;
  /** Why it cannot run this layer and activation, or null when it can (absent: it can run all). */
  cannot?(variant: Variant): string | null;
  load(ctx: PeerContext, threads: number, variant: Variant): Promise<Contender>;
}

export const PEERS: readonly PeerEntry[] = [
  {
    name: "tfjs-cpu",
    packages: ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu"],
    threads: [1],
    load: (ctx, _t, v) => tfjsContender(ctx, "cpu", v),
  },
  {
    name: "tfjs-wasm",
    packages: ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm"],
    threads: [1],
    load: (ctx, _t, v) => tfjsContender(ctx, "wasm", v),
  },
  {
    name: "tfjs-webgpu",
    packages: ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-webgpu"],
    threads: [1],
    webgpu: true,
    load: (ctx, _t, v) => tfjsContender(ctx, "webgpu", v),
  },
  {
    name: "ort-node",
    packages: ["onnxruntime-node"],
    threads: "any",
    native: true,
    load: ortNodeContender,
  },
  { name: "ort-web", packages: ["onnxruntime-web"], threads: "any", load: ortWebContender },
  {
    name: "ort-web-f16",
    packages: ["onnxruntime-web"],
    threads: "any",
    dtype: "f16",
    load: (ctx, t, v) => ortWebContender(ctx, t, v, "float16"),
  },
  {
    name: "ort-web-f16-graph",
    packages: ["onnxruntime-web"],
    threads: "any",
    dtype: "f16",
    load: (ctx, t, v) => ortWebContender(ctx, t, v, "float16-graph"),
  },
  {
    name: "ort-web-q8_0",
    packages: ["onnxruntime-web"],
    threads: "any",
    dtype: "q8_0",
    load: (ctx, t, v) => ortWebContender(ctx, t, v, "q8_0"),
  },
  {
    name: "ort-web-q4_0",
    packages: ["onnxruntime-web"],
    threads: "any",
    dtype: "q4_0",
    load: (ctx, t, v) => ortWebContender(ctx, t, v, "q4_0"),
  },
  {
    name: "ort-webgpu",
    packages: ["onnxruntime-web"],
    threads: [1],
    webgpu: true,
    // Its WebAssembly part runs the graph's host side on one thread.
    load: async (ctx, _t, v) => ({
      ...(await ortWebContender(ctx, 1, v, "float32", "webgpu")),
      id: "ort-webgpu",
      label: "ort-webgpu",
    }),
  },
  {
    name: "jax",
    packages: ["@jax-js/jax"],
    threads: [1],
    load: (ctx, _t, v) => jaxContender(ctx, v),
  },
  {
    name: "ml-matrix",
    packages: ["ml-matrix"],
    threads: [1],
    cannot: (v) =>
      v.activation === "gelu"
        ? "ml-matrix has no erf (nor has JavaScript's Math), so no exact gelu to apply"
        : null,
    load: (ctx, _t, v) => mlMatrixContender(ctx, v),
  },
];

export function findPeer(name: string): PeerEntry {
  const peer = PEERS.find((p) => p.name === name);
  if (peer === undefined) {
    throw new RangeError(
      `unknown peer "${name}"; the bench knows ${PEERS.map((p) => p.name).join(", ")}`,
    );
  }
  return peer;
}

export interface PeerStatus {
  name: string;
  versions: Record<string, string | null>;
  loaded: boolean;
  reason?: string;
  loadMs: number;
}

/**
 * The peers a run loads when none are named: every one, but a weight type's only in its runs,
 * and a WebGPU one never.
 */
export function defaultPeers(dtypes: readonly WeightDtype[]): string[] {
  return PEERS.filter(
    (p) => p.webgpu !== true && (p.dtype === undefined || dtypes.includes(p.dtype)),
  ).map((p) => p.name);
}

/** Loads the peers asked for, at each thread count; failures become Unavailable entries. */
export async function loadPeers(
  ctx: PeerContext,
  names: readonly string[],
  threads: readonly number[],
  variant: Variant,
): Promise<{ contenders: (Contender | Unavailable)[]; status: PeerStatus[] }> {
  const contenders: (Contender | Unavailable)[] = [];
  const status: PeerStatus[] = [];
  for (const name of names) {
    const peer = findPeer(name);
    const versions: Record<string, string | null> = {};
    for (const p of peer.packages) versions[p] = ctx.version(p) ?? null;
    const start = performance.now();
    // A quantized peer quantizes the float32 weights itself, as the layer of its dtype does.
    const cannot =
      peer.dtype !== undefined && !isQuant(peer.dtype) && variant.exact16 !== true
        ? `its model holds the weights as ${peer.dtype}: run it with --dtype ${peer.dtype}`
        : (peer.cannot?.(variant) ?? null);
    const noGpu = peer.webgpu === true && !hasWebgpu();
    let reason: string | undefined = noGpu
      ? NO_WEBGPU
      : cannot === null
        ? undefined
        : `cannot run the ${describeVariant(variant)} layer: ${cannot}`;
    for (const t of threadCounts(peer.threads, threads)) {
      const multi = peer.threads === "any" || peer.threads.length > 1;
      const id = multi ? `${name}@${t}t` : name;
      if (reason !== undefined && (cannot !== null || noGpu)) {
        contenders.push({ id, label: id, group: "peer", threads: t, reason });
        continue;
      }
      try {
        const c = await peer.load(ctx, t, variant);
        if (peer.dtype !== undefined) c.weightType = peer.dtype;
        contenders.push(c);
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
        contenders.push({ id, label: id, group: "peer", threads: t, reason });
      }
    }
    status.push({
      name,
      versions,
      loaded: reason === undefined,
      loadMs: performance.now() - start,
      ...(reason === undefined ? {} : { reason }),
    });
  }
  return { contenders, status };
}

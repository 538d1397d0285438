// The webgpu kernel: the layer as two compute passes on a WebGPU device (wgsl.ts), for
// FeedForward and GatedFeedForward in float32.
//
// x is (rows, dModel), the maps' weights are uploaded once as (in, out padded to TN) float32
// (16-bit weights widened on upload, exactly), the hidden (rows, dHidden) stays on the device,
// and out (rows, dModel) is read back into the caller's array. The buffers for a batch are kept
// and grown to the largest batch seen; a batch larger than the device's storage buffers allow
// runs in chunks of rows, which changes no bit (each token's row is computed alone).
import { type Dtype16, is16, narrowInto, widenInto } from "../../dtype";
import {
  type HiddenCount,
  type Kernel,
  type LayerShape,
  type StoredTensors,
  mapDims,
} from "../kernel";
import type { WeightSource } from "../source";
import { type Buffer, type Device, type Pipeline, MAP_READ, USAGE } from "./gpu";
import { maxBinding } from "./limits";
import { TM, TN, padded } from "./tiles";
import { PARAMS_BYTES, gemmParams, gemmWgsl } from "./wgsl";

const ZERO = new Uint32Array(1);

// Each device's pipelines, by shader source: layers of any size share them (compiling a
// shader takes a software adapter about a second).
const PIPELINES = new WeakMap<Device, Map<string, Pipeline>>();

/** The compute pipeline of a shader on a device: made once, then shared. */
export function pipelineOf(device: Device, code: string): Pipeline {
  let cache = PIPELINES.get(device);
  if (cache === undefined) {
    cache = new Map();
    PIPELINES.set(device, cache);
  }
  let pipeline = cache.get(code);
  if (pipeline === undefined) {
    const module = device.createShaderModule({ code });
    pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    cache.set(code, pipeline);
  }
  return pipeline;
}

/** One map's weights as the kernel keeps them on the host, for unpack. */
export type HostMap = { w: Float32Array | Uint16Array; b: Float32Array | null };

/** Reads map i of a source as the shape's dtype keeps it: float32, or 16-bit bits. */
export function readMap(source: WeightSource, shape: LayerShape, i: number): HostMap {
  const { rows, cols } = mapDims(shape, i);
  const dtype = shape.dtype;
  let w: Float32Array | Uint16Array;
  if (is16(dtype)) {
    const bits = new Uint16Array(rows * cols);
    const own = source.bits !== undefined && source.bits.dtype === dtype ? source.bits : null;
    const wide = own === null ? new Float32Array(cols) : null;
    for (let k = 0; k < rows; k++) {
      if (own !== null) own.row(i, k, bits.subarray(k * cols, (k + 1) * cols));
      else {
        source.row(i, k, wide as Float32Array);
        narrowInto(dtype as Dtype16, wide as Float32Array, bits, k * cols);
      }
    }
    w = bits;
  } else {
    const f = new Float32Array(rows * cols);
    for (let k = 0; k < rows; k++) source.row(i, k, f.subarray(k * cols, (k + 1) * cols));
    w = f;
  }
  let b: Float32Array | null = null;
  if (shape.hasBias) {
    b = new Float32Array(cols);
    source.bias(i, b);
  }
  return { w, b };
}

/** A map's weights as float32 (in, padded(out)), zero columns past out: what is uploaded. */
export function paddedWeights(
  m: HostMap,
  shape: LayerShape,
  rows: number,
  cols: number,
): Float32Array {
  const np = padded(cols);
  const out = new Float32Array(rows * np);
  const wide =
    m.w instanceof Float32Array
      ? m.w
      : widenInto(shape.dtype as Dtype16, m.w, new Float32Array(m.w.length));
  for (let k = 0; k < rows; k++) out.set(wide.subarray(k * cols, (k + 1) * cols), k * np);
  return out;
}

/**
 * The layer on a WebGPU device. Every call queues behind the one before it; a call that fails
 * (the device lost, a device error) writes nothing to out. It has no synchronous `forward`:
 * reading results back from a GPU is asynchronous.
 */
export class WebGpuKernel implements Kernel {
  readonly name = "webgpu" as const;
  readonly threadsInUse = 1;
  readonly unavailable = null;
  readonly #shape: LayerShape;
  readonly #device: Device;
  readonly #host: HostMap[];
  readonly #weights: Buffer[] = [];
  /** The two passes' parameters: rows, K, N, N padded / 4, base row 0. */
  readonly #params: [Buffer, Buffer];
  readonly #zeros: Buffer;
  readonly #first: Pipeline;
  readonly #last: Pipeline;
  /** Rows one dispatch may take: the device's buffer and dispatch limits. */
  readonly #maxRows: number;
  #cap = 0;
  #x: Buffer | null = null;
  #h: Buffer | null = null;
  #y: Buffer | null = null;
  #read: Buffer | null = null;
  #groups: [object, object] | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #lost: string | null = null;
  #disposed = false;
  readonly #params32: [Uint32Array, Uint32Array];

  constructor(shape: LayerShape, source: WeightSource, device: Device) {
    this.#shape = shape;
    this.#device = device;
    void device.lost.then((info) => {
      this.#lost = info.message === "" ? String(info.reason) : info.message;
    });
    const { dModel: D, dHidden: H, expand, hasBias } = shape;
    const widest = Math.max(D, H);
    const byBuffer = Math.floor(maxBinding(device) / (4 * widest));
    const byDispatch = device.limits.maxComputeWorkgroupsPerDimension * TM;
    this.#maxRows = Math.max(TM, Math.floor(Math.min(byBuffer, byDispatch) / TM) * TM);
    this.#host = [];
    for (let i = 0; i <= expand; i++) this.#host.push(readMap(source, shape, i));
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const storage = USAGE.STORAGE | USAGE.COPY_DST;
    this.#host.forEach((m, i) => {
      const { rows, cols } = mapDims(shape, i);
      this.#weights.push(this.#upload(paddedWeights(m, shape, rows, cols), storage));
      if (m.b !== null) {
        const b = new Float32Array(padded(cols));
        b.set(m.b);
        this.#weights.push(this.#upload(b, storage));
      }
    });
    const uniform = USAGE.UNIFORM | USAGE.COPY_DST;
    this.#params = [
      device.createBuffer({ size: PARAMS_BYTES, usage: uniform }),
      device.createBuffer({ size: PARAMS_BYTES, usage: uniform }),
    ];
    this.#params32 = [gemmParams(0, D, H, 0), gemmParams(0, H, D, 0)];
    this.#zeros = device.createBuffer({
      size: 4,
      usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST,
    });
    this.#first = this.#pipeline(
      gemmWgsl({
        bias: hasBias,
        activation: shape.activation,
        gated: expand === 2,
        count: true,
      }),
    );
    this.#last = this.#pipeline(
      gemmWgsl({ bias: hasBias, activation: null, gated: false, count: false }),
    );
  }

  /** Resolves once the uploads and pipelines are made, or rejects with the device's error. */
  async ready(where: string): Promise<void> {
    const validation = await this.#device.popErrorScope();
    const memory = await this.#device.popErrorScope();
    const e = memory ?? validation;
    if (e !== null) {
      this.dispose();
      throw new Error(
        `${where}: the webgpu kernel could not be set up on this device: ${e.message}`,
      );
    }
  }

  #upload(data: Float32Array, usage: number): Buffer {
    const buf = this.#device.createBuffer({ size: Math.max(16, data.byteLength), usage });
    this.#device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  #pipeline(code: string): Pipeline {
    return pipelineOf(this.#device, code);
  }

  /** The weight buffers of map i: w, then b when the layer has biases. */
  #map(i: number): { w: Buffer; b: Buffer | null } {
    const per = this.#shape.hasBias ? 2 : 1;
    const w = this.#weights[i * per] as Buffer;
    return { w, b: this.#shape.hasBias ? (this.#weights[i * per + 1] as Buffer) : null };
  }

  /** Buffers for `rows` rows (a multiple of TM), grown when smaller, with their bind groups. */
  async #grow(rows: number): Promise<void> {
    if (rows <= this.#cap) return;
    const cap = Math.min(this.#maxRows, Math.max(rows, 2 * this.#cap));
    const { dModel: D, dHidden: H, expand } = this.#shape;
    const device = this.#device;
    this.#freeBatch();
    device.pushErrorScope("out-of-memory");
    const storage = USAGE.STORAGE | USAGE.COPY_DST | USAGE.COPY_SRC;
    const x = device.createBuffer({ size: cap * D * 4, usage: storage });
    const h = device.createBuffer({ size: cap * H * 4, usage: storage });
    const y = device.createBuffer({ size: cap * D * 4, usage: storage });
    const read = device.createBuffer({
      size: cap * D * 4 + 4,
      usage: USAGE.MAP_READ | USAGE.COPY_DST,
    });
    const e = await device.popErrorScope();
    if (e !== null) {
      for (const b of [x, h, y, read]) b.destroy();
      throw new RangeError(
        `forwardAsync: cannot allocate the webgpu kernel's buffers for ${cap} rows: ${e.message}`,
      );
    }
    this.#x = x;
    this.#h = h;
    this.#y = y;
    this.#read = read;
    this.#cap = cap;
    const entries = (pairs: [number, Buffer | null][]) =>
      pairs
        .filter((p): p is [number, Buffer] => p[1] !== null)
        .map(([binding, buffer]) => ({ binding, resource: { buffer } }));
    const m0 = this.#map(0);
    const m1 = expand === 2 ? this.#map(1) : null;
    const last = this.#map(expand);
    this.#groups = [
      device.createBindGroup({
        layout: this.#first.getBindGroupLayout(0),
        entries: entries([
          [0, this.#params[0]],
          [1, x],
          [2, m0.w],
          [3, h],
          [4, this.#zeros],
          [5, m0.b],
          [6, m1 === null ? null : m1.w],
          [7, m1 === null ? null : m1.b],
        ]),
      }),
      device.createBindGroup({
        layout: this.#last.getBindGroupLayout(0),
        entries: entries([
          [0, this.#params[1]],
          [1, h],
          [2, last.w],
          [3, y],
          [5, last.b],
        ]),
      }),
    ];
  }

  #freeBatch(): void {
    for (const b of [this.#x, this.#h, this.#y, this.#read]) b?.destroy();
    this.#x = this.#h = this.#y = this.#read = null;
    this.#groups = null;
    this.#cap = 0;
  }

  forwardAsync(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): Promise<void> {
    const run = this.#queue.then(() => this.#run(x, xOff, rows, out, outOff, count));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): Promise<void> {
    const where = "forwardAsync";
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    this.#assertAlive(where);
    if (rows === 0) return;
    const D = this.#shape.dModel;
    const chunk = Math.min(rows, this.#maxRows);
    // More than one chunk goes to a staging array first, so a failure writes nothing to out.
    const staged = chunk < rows ? new Float32Array(rows * D) : null;
    let zeros = 0;
    try {
      await this.#grow(Math.ceil(chunk / TM) * TM);
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const n = Math.min(chunk, rows - r0);
        const to = staged ?? out;
        const toOff = staged === null ? outOff : r0 * D;
        zeros += await this.#chunk(x, xOff + r0 * D, n, to, toOff, where);
      }
    } catch (cause) {
      await this.#settleLost();
      this.#assertAlive(where);
      throw cause instanceof RangeError || (cause as Error).message.startsWith(where)
        ? cause
        : new Error(`${where}: the webgpu kernel's device failed: ${(cause as Error).message}`, {
            cause,
          });
    }
    if (staged !== null) out.set(staged, outOff);
    if (count !== undefined) count.zeros += zeros;
  }

  /** One chunk of rows through both passes; out is written only once the result is read. */
  async #chunk(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    where: string,
  ): Promise<number> {
    const device = this.#device;
    const { dModel: D, dHidden: H } = this.#shape;
    const [g0, g1] = this.#groups as [object, object];
    const read = this.#read as Buffer;
    device.pushErrorScope("validation");
    for (let p = 0; p < 2; p++) {
      const params = this.#params32[p] as Uint32Array;
      params[0] = rows;
      device.queue.writeBuffer(this.#params[p] as Buffer, 0, params);
    }
    device.queue.writeBuffer(this.#zeros, 0, ZERO);
    device.queue.writeBuffer(this.#x as Buffer, 0, x, xOff, rows * D);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const groupsY = Math.ceil(rows / TM);
    pass.setPipeline(this.#first);
    pass.setBindGroup(0, g0);
    pass.dispatchWorkgroups(padded(H) / TN, groupsY);
    pass.setPipeline(this.#last);
    pass.setBindGroup(0, g1);
    pass.dispatchWorkgroups(padded(D) / TN, groupsY);
    pass.end();
    const bytes = rows * D * 4;
    enc.copyBufferToBuffer(this.#y as Buffer, 0, read, 0, bytes);
    enc.copyBufferToBuffer(this.#zeros, 0, read, bytes, 4);
    device.queue.submit([enc.finish()]);
    const [error] = await Promise.all([
      device.popErrorScope(),
      read.mapAsync(MAP_READ, 0, bytes + 4),
    ]);
    try {
      if (error !== null)
        throw new Error(`${where}: the webgpu kernel's device failed: ${error.message}`);
      const range = read.getMappedRange(0, bytes + 4);
      out.set(new Float32Array(range, 0, rows * D), outOff);
      return new Uint32Array(range, bytes, 1)[0] as number;
    } finally {
      read.unmap();
    }
  }

  /** Gives a lost device's notice a moment to arrive, after a call failed. */
  async #settleLost(): Promise<void> {
    if (this.#lost !== null) return;
    await Promise.race([
      this.#device.lost.then(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
    if (this.#lost === null) await Promise.resolve();
  }

  #assertAlive(where: string): void {
    if (this.#lost !== null) {
      throw new Error(
        `${where}: the webgpu kernel's device was lost (${this.#lost}); make the layer again with create`,
      );
    }
  }

  unpack(): StoredTensors[] {
    return this.#host.map(({ w, b }) => ({ w: w.slice(), b: b === null ? null : b.slice() }));
  }

  /** Frees the GPU buffers once the calls already queued have settled (later ones reject). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.then(() => {
      this.#freeBatch();
      for (const b of this.#weights) b.destroy();
      for (const b of this.#params) b.destroy();
      this.#zeros.destroy();
    });
  }
}

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
/**
 * What each webgpu kernel keeps of its calls on a device: the queue they take turns in, whether
 * the device was lost, and whether the kernel was disposed.
 */
export class DeviceCalls {
  #queue: Promise<unknown> = Promise.resolve();
  #lost: string | null = null;
  #disposed = false;
  readonly #device: Device;

  constructor(device: Device) {
    this.#device = device;
    void device.lost.then((info) => {
      this.#lost = info.message === "" ? String(info.reason) : info.message;
    });
  }

  /** Runs `call` once the calls queued before it have settled. */
  queue<T>(call: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(call);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Throws, naming `where`, when the kernel was disposed or its device lost. */
  check(where: string): void {
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    this.#assertAlive(where);
  }

  /**
   * The error a failed call rejects with: the device's loss (given a moment to be noticed), or
   * the cause as it is when it is the kernel's own (a RangeError, or one naming `where`), else
   * the cause wrapped as the device's failure.
   */
  async failure(cause: unknown, where: string): Promise<Error> {
    if (this.#lost === null) {
      await Promise.race([
        this.#device.lost.then(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 100)),
      ]);
      if (this.#lost === null) await Promise.resolve();
    }
    this.#assertAlive(where);
    const e = cause as Error;
    return e instanceof RangeError || e.message.startsWith(where)
      ? e
      : new Error(`${where}: the webgpu kernel's device failed: ${e.message}`, { cause });
  }

  #assertAlive(where: string): void {
    if (this.#lost !== null) {
      throw new Error(
        `${where}: the webgpu kernel's device was lost (${this.#lost}); make the layer again with create`,
      );
    }
  }

  /** Marks the kernel disposed and runs `free` once the calls already queued have settled. */
  dispose(free: () => void): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.then(free);
  }
}

/** A buffer of `usage` holding `data` (at least 16 bytes). */
export function uploadTo(device: Device, data: Float32Array, usage: number): Buffer {
  const buf = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/**
 * Ends a kernel's set-up on the device: pops the validation and out-of-memory scopes its
 * constructor pushed and, if either caught an error, disposes of the kernel and throws it.
 */
export async function setUpOn(device: Device, where: string, dispose: () => void): Promise<void> {
  const validation = await device.popErrorScope();
  const memory = await device.popErrorScope();
  const e = memory ?? validation;
  if (e !== null) {
    dispose();
    throw new Error(`${where}: the webgpu kernel could not be set up on this device: ${e.message}`);
  }
}

/** A batch's buffers on the device: the tokens, the hidden values, the outputs, and a read-back. */
export interface BatchBuffers {
  x: Buffer;
  h: Buffer;
  y: Buffer;
  read: Buffer;
}

/**
 * A batch's buffers for `cap` rows of dModel inputs and outputs and `hidden` hidden values (the
 * read-back `extra` bytes longer), or a RangeError naming the rows when the device has no room.
 */
export async function batchBuffers(
  device: Device,
  cap: number,
  dModel: number,
  hidden: number,
  extra = 0,
): Promise<BatchBuffers> {
  device.pushErrorScope("out-of-memory");
  const storage = USAGE.STORAGE | USAGE.COPY_DST | USAGE.COPY_SRC;
  const x = device.createBuffer({ size: cap * dModel * 4, usage: storage });
  const h = device.createBuffer({ size: cap * hidden * 4, usage: storage });
  const y = device.createBuffer({ size: cap * dModel * 4, usage: storage });
  const read = device.createBuffer({
    size: cap * dModel * 4 + extra,
    usage: USAGE.MAP_READ | USAGE.COPY_DST,
  });
  const e = await device.popErrorScope();
  if (e !== null) {
    for (const b of [x, h, y, read]) b.destroy();
    throw new RangeError(
      `forwardAsync: cannot allocate the webgpu kernel's buffers for ${cap} rows: ${e.message}`,
    );
  }
  return { x, h, y, read };
}

/** Destroys a batch's buffers (none: nothing to do). */
export function freeBatchBuffers(io: BatchBuffers | null): void {
  if (io !== null) for (const b of [io.x, io.h, io.y, io.read]) b.destroy();
}

/** A map's weights and bias on the device. */
export type MapBuffer = { w: Buffer; b: Buffer | null };

/**
 * The bind groups of the layer's two passes: x·first (and x·second, a gated layer's up
 * projection) into h, then h·last into y, with each pass's parameters and the zero-count word.
 */
export function layerBindGroups(
  device: Device,
  pipelines: [Pipeline, Pipeline],
  params: [Buffer, Buffer],
  zeros: Buffer,
  io: BatchBuffers,
  first: MapBuffer,
  second: MapBuffer | null,
  last: MapBuffer,
): [object, object] {
  const entries = (pairs: [number, Buffer | null][]) =>
    pairs
      .filter((p): p is [number, Buffer] => p[1] !== null)
      .map(([binding, buffer]) => ({ binding, resource: { buffer } }));
  return [
    device.createBindGroup({
      layout: pipelines[0].getBindGroupLayout(0),
      entries: entries([
        [0, params[0]],
        [1, io.x],
        [2, first.w],
        [3, io.h],
        [4, zeros],
        [5, first.b],
        [6, second === null ? null : second.w],
        [7, second === null ? null : second.b],
      ]),
    }),
    device.createBindGroup({
      layout: pipelines[1].getBindGroupLayout(0),
      entries: entries([
        [0, params[1]],
        [1, io.h],
        [2, last.w],
        [3, io.y],
        [5, last.b],
      ]),
    }),
  ];
}

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
  #io: BatchBuffers | null = null;
  #groups: [object, object] | null = null;
  readonly #calls: DeviceCalls;
  readonly #params32: [Uint32Array, Uint32Array];

  constructor(shape: LayerShape, source: WeightSource, device: Device) {
    this.#shape = shape;
    this.#device = device;
    this.#calls = new DeviceCalls(device);
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
  ready(where: string): Promise<void> {
    return setUpOn(this.#device, where, () => this.dispose());
  }

  #upload(data: Float32Array, usage: number): Buffer {
    return uploadTo(this.#device, data, usage);
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
    const io = await batchBuffers(device, cap, D, H, 4);
    this.#io = io;
    this.#cap = cap;
    const m1 = expand === 2 ? this.#map(1) : null;
    this.#groups = layerBindGroups(
      device,
      [this.#first, this.#last],
      this.#params,
      this.#zeros,
      io,
      this.#map(0),
      m1,
      this.#map(expand),
    );
  }

  #freeBatch(): void {
    freeBatchBuffers(this.#io);
    this.#io = null;
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
    return this.#calls.queue(() => this.#run(x, xOff, rows, out, outOff, count));
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
    this.#calls.check(where);
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
      throw await this.#calls.failure(cause, where);
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
    const { x: xBuf, y, read } = this.#io as BatchBuffers;
    device.pushErrorScope("validation");
    for (let p = 0; p < 2; p++) {
      const params = this.#params32[p] as Uint32Array;
      params[0] = rows;
      device.queue.writeBuffer(this.#params[p] as Buffer, 0, params);
    }
    device.queue.writeBuffer(this.#zeros, 0, ZERO);
    device.queue.writeBuffer(xBuf, 0, x, xOff, rows * D);
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
    enc.copyBufferToBuffer(y, 0, read, 0, bytes);
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

  unpack(): StoredTensors[] {
    return this.#host.map(({ w, b }) => ({ w: w.slice(), b: b === null ? null : b.slice() }));
  }

  /** Frees the GPU buffers once the calls already queued have settled (later ones reject). */
  dispose(): void {
    this.#calls.dispose(() => {
      this.#freeBatch();
      for (const b of this.#weights) b.destroy();
      for (const b of this.#params) b.destroy();
      this.#zeros.destroy();
    });
  }
}

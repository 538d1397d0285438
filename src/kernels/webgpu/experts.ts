// A mixture's experts on a WebGPU device: every expert's maps uploaded once (16-bit weights
// widened to float32 on upload, exactly, as for a layer), one set of batch buffers for them
// all, and a block's experts run in one submission with one copy back.
//
// x is (R, dModel): the groups of a block's tokens one after another, step i's group at rows
// base_i .. base_i + rows_i - 1; each step is the layers' two GEMMs (wgsl.ts) on its rows alone
// (the shaders' base row), the hidden (R, dHidden of the step's expert) and y (R, dModel) stay
// on the device until y is read back. A row is computed alone, by the shaders and tile shapes a
// gated layer uses, so a token's output from an expert is the same bits in any group, at any
// base, in any submission.
import type { ExpertsKernel } from "../experts";
import { type LayerShape, type StoredTensors, mapDims } from "../kernel";
import type { WeightSource } from "../source";
import { type Buffer, type Device, type Pipeline, MAP_READ, USAGE } from "./gpu";
import {
  type BatchBuffers,
  type HostMap,
  type MapBuffer,
  batchBuffers,
  freeBatchBuffers,
  layerBindGroups,
  paddedWeights,
  pipelineOf,
  DeviceCalls,
  readMap,
  setUpOn,
  uploadTo,
} from "./kernel";
import { maxBinding } from "./limits";
import { TM, TN, padded } from "./tiles";
import { PARAMS_BYTES, gemmParams, gemmWgsl } from "./wgsl";

/** One expert's weight buffers: per map, w and (with biases) b. */
type MapBuffers = MapBuffer[];

/**
 * The experts of a mixture (gated shapes of one dModel, activation and bias; a shared expert
 * may have another hidden width) on a WebGPU device. No synchronous `run`: reading results back
 * from a GPU is asynchronous. Every call queues behind the one before it; a call that fails
 * (the device lost, a device error) rejects and writes nothing to its output.
 */
export class WebGpuExperts implements ExpertsKernel {
  readonly name = "webgpu" as const;
  readonly threadsInUse = 1;
  readonly unavailable = null;
  readonly count: number;
  readonly #shapes: readonly LayerShape[];
  readonly #device: Device;
  readonly #host: HostMap[][];
  readonly #maps: MapBuffers[] = [];
  /** Per expert, the two passes' uniform parameters. */
  readonly #params: [Buffer, Buffer][] = [];
  readonly #first: Pipeline;
  readonly #last: Pipeline;
  /** The first pass's count of zero hidden values: written, never read. */
  readonly #zeros: Buffer;
  /** Rows one submission may take: the device's storage buffer limit. */
  readonly #maxRows: number;
  readonly #hMax: number;
  #cap = 0;
  #io: BatchBuffers | null = null;
  #groups: [object, object][] | null = null;
  readonly #calls: DeviceCalls;

  /** Each source is read in full, in order, as its expert is uploaded. */
  constructor(shapes: readonly LayerShape[], sources: readonly WeightSource[], device: Device) {
    const first = shapes[0] as LayerShape;
    this.count = shapes.length;
    this.#shapes = shapes;
    this.#device = device;
    this.#calls = new DeviceCalls(device);
    this.#hMax = Math.max(...shapes.map((s) => s.dHidden));
    this.#maxRows = Math.floor(maxBinding(device) / (4 * Math.max(first.dModel, this.#hMax)));
    this.#host = shapes.map((s, e) =>
      [0, 1, 2].map((i) => readMap(sources[e] as WeightSource, s, i)),
    );
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const storage = USAGE.STORAGE | USAGE.COPY_DST;
    const uniform = USAGE.UNIFORM | USAGE.COPY_DST;
    shapes.forEach((s, e) => {
      const host = this.#host[e] as HostMap[];
      this.#maps.push(
        host.map((m, i) => {
          const { rows, cols } = mapDims(s, i);
          const w = this.#upload(paddedWeights(m, s, rows, cols), storage);
          if (m.b === null) return { w, b: null };
          const b = new Float32Array(padded(cols));
          b.set(m.b);
          return { w, b: this.#upload(b, storage) };
        }),
      );
      this.#params.push([
        device.createBuffer({ size: PARAMS_BYTES, usage: uniform }),
        device.createBuffer({ size: PARAMS_BYTES, usage: uniform }),
      ]);
    });
    const bias = first.hasBias;
    // The gated layer's own shaders, its count included: an expert runs the very code a
    // GatedFeedForward of its weights runs on this device, so it computes the same bits.
    this.#zeros = device.createBuffer({ size: 4, usage: USAGE.STORAGE });
    this.#first = pipelineOf(
      device,
      gemmWgsl({ bias, activation: first.activation, gated: true, count: true }),
    );
    this.#last = pipelineOf(
      device,
      gemmWgsl({ bias, activation: null, gated: false, count: false }),
    );
  }

  /** Resolves once the uploads and pipelines are made, or rejects with the device's error. */
  ready(where: string): Promise<void> {
    return setUpOn(this.#device, where, () => this.dispose());
  }

  #upload(data: Float32Array, usage: number): Buffer {
    return uploadTo(this.#device, data, usage);
  }

  /** Buffers for `rows` rows, grown when smaller, with every expert's bind groups. */
  async #grow(rows: number): Promise<void> {
    if (rows <= this.#cap) return;
    const cap = Math.min(this.#maxRows, Math.max(rows, 2 * this.#cap));
    const D = (this.#shapes[0] as LayerShape).dModel;
    const device = this.#device;
    this.#freeBatch();
    const io = await batchBuffers(device, cap, D, this.#hMax);
    this.#io = io;
    this.#cap = cap;
    this.#groups = this.#maps.map((m, e) => {
      const [gate, up, down] = m as [MapBuffer, MapBuffer, MapBuffer];
      return layerBindGroups(
        device,
        [this.#first, this.#last],
        this.#params[e] as [Buffer, Buffer],
        this.#zeros,
        io,
        gate,
        up,
        down,
      );
    });
  }

  #freeBatch(): void {
    freeBatchBuffers(this.#io);
    this.#io = null;
    this.#groups = null;
    this.#cap = 0;
  }

  /**
   * Step i runs expert experts[i] on rows[i] tokens; x holds the steps' tokens one group after
   * another, and out receives their outputs in the same rows. Each expert appears once.
   */
  runMany(
    experts: Int32Array,
    rows: Int32Array,
    steps: number,
    x: Float32Array,
    out: Float32Array,
  ): Promise<void> {
    return this.#calls.queue(() => this.#run(experts, rows, steps, x, out));
  }

  runAsync(e: number, x: Float32Array, rows: number, out: Float32Array): Promise<void> {
    return this.runMany(Int32Array.of(e), Int32Array.of(rows), 1, x, out);
  }

  async #run(
    experts: Int32Array,
    rows: Int32Array,
    steps: number,
    x: Float32Array,
    out: Float32Array,
  ): Promise<void> {
    const where = "forwardAsync";
    this.#calls.check(where);
    let total = 0;
    for (let s = 0; s < steps; s++) total += rows[s] as number;
    if (total === 0) return;
    try {
      await this.#grow(Math.min(total, this.#maxRows));
      // As many whole steps a submission as its buffers hold (a step has at most one block).
      let s0 = 0;
      let r0 = 0;
      while (s0 < steps) {
        let s1 = s0;
        let n = 0;
        while (s1 < steps && n + (rows[s1] as number) <= this.#cap) n += rows[s1++] as number;
        await this.#submit(experts, rows, s0, s1, x, r0, n, out, where);
        s0 = s1;
        r0 += n;
      }
    } catch (cause) {
      throw await this.#calls.failure(cause, where);
    }
  }

  /** Steps s0 .. s1 - 1, n rows of x from row r0, in one submission; out written once read. */
  async #submit(
    experts: Int32Array,
    rows: Int32Array,
    s0: number,
    s1: number,
    x: Float32Array,
    r0: number,
    n: number,
    out: Float32Array,
    where: string,
  ): Promise<void> {
    const device = this.#device;
    const D = (this.#shapes[0] as LayerShape).dModel;
    const { x: xBuf, y, read } = this.#io as BatchBuffers;
    const groups = this.#groups as [object, object][];
    device.pushErrorScope("validation");
    device.queue.writeBuffer(xBuf, 0, x, r0 * D, n * D);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    let base = 0;
    for (let s = s0; s < s1; s++) {
      const e = experts[s] as number;
      const m = rows[s] as number;
      const H = (this.#shapes[e] as LayerShape).dHidden;
      const [p0, p1] = this.#params[e] as [Buffer, Buffer];
      device.queue.writeBuffer(p0, 0, gemmParams(m, D, H, base));
      device.queue.writeBuffer(p1, 0, gemmParams(m, H, D, base));
      const [g0, g1] = groups[e] as [object, object];
      const groupsY = Math.ceil(m / TM);
      pass.setPipeline(this.#first);
      pass.setBindGroup(0, g0);
      pass.dispatchWorkgroups(padded(H) / TN, groupsY);
      pass.setPipeline(this.#last);
      pass.setBindGroup(0, g1);
      pass.dispatchWorkgroups(padded(D) / TN, groupsY);
      base += m;
    }
    pass.end();
    const bytes = n * D * 4;
    enc.copyBufferToBuffer(y, 0, read, 0, bytes);
    device.queue.submit([enc.finish()]);
    const [error] = await Promise.all([device.popErrorScope(), read.mapAsync(MAP_READ, 0, bytes)]);
    try {
      if (error !== null)
        throw new Error(`${where}: the webgpu kernel's device failed: ${error.message}`);
      out.set(new Float32Array(read.getMappedRange(0, bytes), 0, n * D), r0 * D);
    } finally {
      read.unmap();
    }
  }

  unpack(e: number): StoredTensors[] {
    return (this.#host[e] as HostMap[]).map(({ w, b }) => ({
      w: w.slice(),
      b: b === null ? null : b.slice(),
    }));
  }

  /** Frees the GPU buffers once the calls already queued have settled (later ones reject). */
  dispose(): void {
    this.#calls.dispose(() => {
      this.#freeBatch();
      for (const m of this.#maps) for (const { w, b } of m) [w, b].forEach((x) => x?.destroy());
      for (const p of this.#params) for (const b of p) b.destroy();
      this.#zeros.destroy();
    });
  }
}

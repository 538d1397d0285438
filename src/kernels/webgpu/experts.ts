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
import { type HostMap, paddedWeights, pipelineOf, readMap } from "./kernel";
import { maxBinding } from "./limits";
import { TM, TN, padded } from "./tiles";
import { PARAMS_BYTES, gemmParams, gemmWgsl } from "./wgsl";

/** One expert's weight buffers: per map, w and (with biases) b. */
type MapBuffers = { w: Buffer; b: Buffer | null }[];

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
  #x: Buffer | null = null;
  #h: Buffer | null = null;
  #y: Buffer | null = null;
  #read: Buffer | null = null;
  #groups: [object, object][] | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #lost: string | null = null;
  #disposed = false;

  /** Each source is read in full, in order, as its expert is uploaded. */
  constructor(shapes: readonly LayerShape[], sources: readonly WeightSource[], device: Device) {
    const first = shapes[0] as LayerShape;
    this.count = shapes.length;
    this.#shapes = shapes;
    this.#device = device;
    void device.lost.then((info) => {
      this.#lost = info.message === "" ? String(info.reason) : info.message;
    });
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

  /** Buffers for `rows` rows, grown when smaller, with every expert's bind groups. */
  async #grow(rows: number): Promise<void> {
    if (rows <= this.#cap) return;
    const cap = Math.min(this.#maxRows, Math.max(rows, 2 * this.#cap));
    const D = (this.#shapes[0] as LayerShape).dModel;
    const device = this.#device;
    this.#freeBatch();
    device.pushErrorScope("out-of-memory");
    const storage = USAGE.STORAGE | USAGE.COPY_DST | USAGE.COPY_SRC;
    const x = device.createBuffer({ size: cap * D * 4, usage: storage });
    const h = device.createBuffer({ size: cap * this.#hMax * 4, usage: storage });
    const y = device.createBuffer({ size: cap * D * 4, usage: storage });
    const read = device.createBuffer({ size: cap * D * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const e = await device.popErrorScope();
    if (e !== null) {
      for (const b of [x, h, y, read]) b.destroy();
      throw new RangeError(
        `forwardAsync: cannot allocate the webgpu kernel's buffers for ${cap} rows: ${e.message}`,
      );
    }
    [this.#x, this.#h, this.#y, this.#read, this.#cap] = [x, h, y, read, cap];
    const entries = (pairs: [number, Buffer | null][]) =>
      pairs
        .filter((p): p is [number, Buffer] => p[1] !== null)
        .map(([binding, buffer]) => ({ binding, resource: { buffer } }));
    this.#groups = this.#maps.map((m, e) => {
      const [gate, up, down] = m as [MapBuffers[0], MapBuffers[0], MapBuffers[0]];
      const [p0, p1] = this.#params[e] as [Buffer, Buffer];
      return [
        device.createBindGroup({
          layout: this.#first.getBindGroupLayout(0),
          entries: entries([
            [0, p0],
            [1, x],
            [2, gate.w],
            [3, h],
            [4, this.#zeros],
            [5, gate.b],
            [6, up.w],
            [7, up.b],
          ]),
        }),
        device.createBindGroup({
          layout: this.#last.getBindGroupLayout(0),
          entries: entries([
            [0, p1],
            [1, h],
            [2, down.w],
            [3, y],
            [5, down.b],
          ]),
        }),
      ];
    });
  }

  #freeBatch(): void {
    for (const b of [this.#x, this.#h, this.#y, this.#read]) b?.destroy();
    this.#x = this.#h = this.#y = this.#read = null;
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
    const run = this.#queue.then(() => this.#run(experts, rows, steps, x, out));
    this.#queue = run.catch(() => undefined);
    return run;
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
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    this.#assertAlive(where);
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
      await this.#settleLost();
      this.#assertAlive(where);
      throw cause instanceof RangeError || (cause as Error).message.startsWith(where)
        ? cause
        : new Error(`${where}: the webgpu kernel's device failed: ${(cause as Error).message}`, {
            cause,
          });
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
    const read = this.#read as Buffer;
    const groups = this.#groups as [object, object][];
    device.pushErrorScope("validation");
    device.queue.writeBuffer(this.#x as Buffer, 0, x, r0 * D, n * D);
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
    enc.copyBufferToBuffer(this.#y as Buffer, 0, read, 0, bytes);
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

  /** Gives a lost device's notice a moment to arrive, after a call failed. */
  async #settleLost(): Promise<void> {
    if (this.#lost !== null) return;
    await Promise.race([
      this.#device.lost.then(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
  }

  #assertAlive(where: string): void {
    if (this.#lost !== null) {
      throw new Error(
        `${where}: the webgpu kernel's device was lost (${this.#lost}); make the layer again with create`,
      );
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
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.then(() => {
      this.#freeBatch();
      for (const m of this.#maps) for (const { w, b } of m) [w, b].forEach((x) => x?.destroy());
      for (const p of this.#params) for (const b of p) b.destroy();
      this.#zeros.destroy();
    });
  }
}

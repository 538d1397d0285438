// The worker pool: the same bits on 1, 2 or 3 threads, sync and async, for FeedForward and
// GatedFeedForward; calls that overlap; workers that throw, exit or are killed mid-call; and a
// pool that lets Node exit.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";
import {
  type ActivationName,
  FeedForward,
  GatedFeedForward,
  matrix,
  type Matrix,
} from "../src/index";
import { kernelOf } from "../src/layers/core";
import type { Pool } from "../src/threads/pool";
import { seededFloats } from "./helpers/arbitraries";
import { expectSameMatrix } from "./helpers/bits";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const D = 37; // not a multiple of 16: the last panel of the condensation is partial
const H = 150;
const layers: FeedForward[] = [];

async function layer(
  threads: number,
  seed = 5,
  activation: ActivationName = "relu",
): Promise<FeedForward> {
  const ffn = await FeedForward.create({
    dModel: D,
    dHidden: H,
    seed,
    kernel: "wasm",
    threads,
    activation,
  });
  layers.push(ffn);
  return ffn;
}

function batch(rows: number, seed: number): Matrix {
  return matrix(rows, D, seededFloats(rows * D, seed, 2));
}

/** A forwardAsync's result, or a rejection if it has not settled in 5 s (a job it never saw). */
async function settled(call: Promise<Matrix>): Promise<Matrix> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("forwardAsync did not settle in 5 s")), 5_000);
  });
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

function pool(ffn: FeedForward): Pool {
  return (kernelOf(ffn) as unknown as { pool(): Pool }).pool();
}

afterAll(() => {
  for (const l of layers) l.dispose();
});

describe("threads give one thread's bits", () => {
  // 1 token (columns split only), 2, 63, 64 and 65 (a block of 64 and one more), 130.
  it.each([1, 2, 63, 64, 65, 130])(
    "%i tokens on 1, 2 and 3 threads, sync and async",
    async (rows) => {
      const [one, two, three] = await Promise.all([layer(1), layer(2), layer(3)]);
      expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
      const x = batch(rows, rows);
      const want = one.forward(x);
      expectSameMatrix(two.forward(x), want);
      expectSameMatrix(three.forward(x), want);
      expectSameMatrix(await two.forwardAsync(x), want);
      expectSameMatrix(await three.forwardAsync(x), want);
      // and each token alone
      const r = rows - 1;
      const alone = two.forwardToken(x.data.slice(r * D, (r + 1) * D));
      expect(Array.from(alone)).toEqual(Array.from(want.data.subarray(r * D, (r + 1) * D)));
    },
  );

  // Other activations run in the workers too, over each thread's own columns of the hidden
  // rows, with the function the calling thread uses (bundled into the workers' script).
  it.each(["gelu", "geluTanh", "silu"] as const)(
    "%s: 1, 2, 3 and 65 tokens on 2 and 3 threads, sync and async",
    async (activation) => {
      const [one, two, three] = await Promise.all([
        layer(1, 9, activation),
        layer(2, 9, activation),
        layer(3, 9, activation),
      ]);
      expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
      expect(two.threadsFallback).toBe(null);
      for (const rows of [1, 2, 3, 65]) {
        const x = batch(rows, 100 + rows);
        const want = one.forward(x);
        expectSameMatrix(two.forward(x), want);
        expectSameMatrix(three.forward(x), want);
        expectSameMatrix(await two.forwardAsync(x), want);
        expectSameMatrix(await three.forwardAsync(x), want);
      }
    },
  );

  it("writes into a caller's out and returns it", async () => {
    const two = await layer(2);
    const x = batch(9, 1);
    const out = matrix(9, D);
    expect(await two.forwardAsync(x, out)).toBe(out);
    expectSameMatrix(out, (await layer(1)).forward(x));
  });

  it("rejects bad input before any worker runs, and changes nothing", async () => {
    const two = await layer(2);
    const out = matrix(3, D, new Float32Array(3 * D).fill(7));
    await expect(two.forwardAsync(matrix(3, D + 1), out)).rejects.toThrow(
      `forwardAsync: x has ${D + 1} columns, expected dModel = ${D}`,
    );
    expect(out.data.every((v) => v === 7)).toBe(true);
    await expect(two.forwardAsync(out, out)).rejects.toThrow("forwardAsync: out overlaps x");
  });
});

describe("overlapping calls", () => {
  it("queue async calls on one layer, and run a blocking call beside them", async () => {
    const two = await layer(2);
    const want = (await layer(1)).forward(batch(100, 9));
    const x = batch(100, 9);
    const pending = [two.forwardAsync(x), two.forwardAsync(x), two.forwardAsync(x)];
    let settled = 0;
    for (const p of pending) void p.then(() => settled++);
    // Each call's turn starts in a microtask, and workers answer in a task: after a few
    // microtasks the first call is running on the pool, and none can have finished.
    for (let i = 0; i < 4; i++) await Promise.resolve();
    expect(settled).toBe(0);
    // A blocking call now would wait on a pool that is busy: it computes on the calling thread
    // instead, on its own scratch, and returns (were it to wait on the pool, this test would
    // time out, or hang: a blocked thread runs no timer).
    const meanwhile = two.forward(x);
    expectSameMatrix(meanwhile, want);
    for (const y of await Promise.all(pending)) expectSameMatrix(y, want);
    expect(settled).toBe(3);
    // and the layer still runs both kinds of call on its threads
    expect([two.threads, two.threadsFallback]).toEqual([2, null]);
    expectSameMatrix(two.forward(x), want);
    expectSameMatrix(await two.forwardAsync(x), want);
  }, 8_000);

  it("a blocking call between the blocks of a long async call, and before any has started", async () => {
    const two = await layer(2);
    const x = batch(300, 10); // several blocks of rows, each a round trip to the workers
    const want = (await layer(1)).forward(x);
    const before = two.forward(x); // no async call yet: on the pool, blocking
    const long = two.forwardAsync(x);
    let done = false;
    void long.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    const results = [];
    while (!done) {
      results.push(two.forward(x)); // each while the async call is in flight
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(results.length).toBeGreaterThan(0);
    for (const y of [before, ...results, await long]) expectSameMatrix(y, want);
  }, 8_000);
});

describe("faults", () => {
  it("a worker that throws: forward throws, naming it; the next call works", async () => {
    const two = await layer(2);
    const x = batch(5, 3);
    const want = two.forward(x);
    // In a blocking call the caller computes the first share and worker 0 the second (the
    // last worker sits it out), so the fault goes to worker 0.
    pool(two).injectFault(0, "throw");
    expect(() => two.forward(x)).toThrow("worker 0 threw: fault injected by a test");
    expectSameMatrix(two.forward(x), want);
  });

  it("a worker that throws under forwardAsync rejects it; the next call works", async () => {
    const two = await layer(2);
    const x = batch(5, 4);
    const want = two.forward(x);
    pool(two).injectFault(0, "throw");
    await expect(two.forwardAsync(x)).rejects.toThrow("worker 0 threw: fault injected by a test");
    expectSameMatrix(await two.forwardAsync(x), want);
  });

  it("a worker whose thread exits mid-call rejects the call; a new pool takes over", async () => {
    const two = await layer(2);
    const x = batch(5, 5);
    const want = two.forward(x);
    const before = pool(two);
    before.injectFault(1, "exit");
    await expect(two.forwardAsync(x)).rejects.toThrow(/worker 1 failed: .*exited/);
    expect(before.failure).not.toBe(null);
    expectSameMatrix(await two.forwardAsync(x), want);
    expect(pool(two)).not.toBe(before);
  });

  // A blocked caller cannot receive the exit event: only the watchdog sees that no worker
  // makes progress (10 s in use; 300 ms here).
  it("a worker that exits under a blocking forward: the watchdog throws; the next call works", async () => {
    const two = await layer(2);
    const x = batch(5, 8);
    const want = two.forward(x);
    const before = pool(two);
    before.setWatchdog(300);
    before.injectFault(0, "exit");
    const t0 = performance.now();
    expect(() => two.forward(x)).toThrow("the workers made no progress for 0.3 s; one has died");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(before.failure).not.toBe(null);
    expectSameMatrix(two.forward(x), want);
    expect(pool(two)).not.toBe(before);
  });

  // A worker that stops without exiting sends no event: an awaiting caller's watchdog (a timer)
  // sees that no worker makes progress, as a blocked caller's does.
  it("a worker that stops under forwardAsync: the watchdog rejects the call; the next call works", async () => {
    const two = await layer(2);
    const x = batch(5, 12);
    const want = two.forward(x);
    const before = pool(two);
    before.setWatchdog(300);
    before.injectStall(0, -1); // worker 0 sleeps on the next job's word until it is ended
    const t0 = performance.now();
    await expect(two.forwardAsync(x)).rejects.toThrow(
      "the workers made no progress for 0.3 s; one has died",
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(before.failure).not.toBe(null);
    expectSameMatrix(await two.forwardAsync(x), want);
    expect(pool(two)).not.toBe(before);
    expectSameMatrix(two.forward(x), want);
  });

  it("a worker killed in the middle of a long call rejects it; the next call works", async () => {
    const two = await layer(2);
    const big = batch(32768, 6); // 512 blocks: the kill lands while blocks are still running
    const small = batch(3, 7);
    const want = two.forward(small);
    const p = two.forwardAsync(big);
    setTimeout(() => pool(two).killWorker(0), 2);
    await expect(p).rejects.toThrow(/worker 0 failed/);
    expectSameMatrix(await two.forwardAsync(small), want);
    expectSameMatrix(two.forward(small), want);
  });
});

describe("job words", () => {
  // A blocking call's last worker sits the job out; if it reads the job's word late (a busy
  // machine deschedules it), the job may be over and the next one posted. It must still sit
  // out the job it read, not take part in it with the next job's words: that made an awaiting
  // call's "done" name a job that was over, and the call never settled.
  it("a worker that reads a blocking call's word late does not join the next call", async () => {
    const two = await layer(2);
    const x = batch(65, 11);
    const want = (await layer(1)).forward(x);
    const p = pool(two);
    p.injectStall(1); // worker 1 sleeps 50 ms after it reads each job's word
    try {
      for (let i = 0; i < 4; i++) {
        expectSameMatrix(two.forward(x), want);
        // posted while worker 1 still sleeps on the blocking call's word
        const y = await settled(two.forwardAsync(x));
        expectSameMatrix(y, want);
        // Once worker 1 has woken and done what it does, each job has counted its own
        // participants at its barriers, no more.
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(p.strayArrivals).toBe(0);
      }
    } finally {
      p.injectStall(null);
    }
    expectSameMatrix(two.forward(x), want);
  }, 30_000);
});

describe("idle workers", () => {
  // Each layer has its own pool, and a model runs its layers one after another: a job posted
  // by another pool tells this one's workers to sleep rather than spin for a next job that is a
  // whole model away (they would take the cores the next layer's threads need). The same layer
  // called again at once is not hushed.
  it("a job on another layer's pool hushes this one's, the same layer's does not", async () => {
    const a = await layer(2, 21);
    const b = await layer(2, 22);
    const x = batch(3, 4);
    const wantA = (await layer(1, 21)).forward(x);
    const wantB = (await layer(1, 22)).forward(x);
    expectSameMatrix(a.forward(x), wantA);
    const pa = pool(a);
    const pb = pool(b); // made here: its first job comes next
    const a0 = pa.hushes;
    const b0 = pb.hushes;
    expectSameMatrix(a.forward(x), wantA);
    expect(pa.hushes).toBe(a0);
    expectSameMatrix(b.forward(x), wantB);
    expect(pa.hushes).toBe(a0 + 1);
    expectSameMatrix(b.forward(x), wantB);
    expectSameMatrix(await b.forwardAsync(x), wantB);
    expect(pb.hushes).toBe(b0);
    expectSameMatrix(await a.forwardAsync(x), wantA);
    expect(pb.hushes).toBe(b0 + 1);
    expect(pa.hushes).toBe(a0 + 1);
    // In turn, as a model's layers run: each job hushes the other pool once.
    for (let i = 0; i < 3; i++) {
      expectSameMatrix(b.forward(x), wantB);
      expectSameMatrix(a.forward(x), wantA);
    }
    expect(pa.hushes).toBe(a0 + 4);
    expect(pb.hushes).toBe(b0 + 4);
  });

  // A blocking call's last worker sits the job out: it starts with the first awaited call
  // (forwardAsync), so a layer only ever called with forward() has one thread fewer. Once
  // started it sleeps on a word of its own (LAST), which only jobs it takes part in
  // (forwardAsync's) and the end of the pool notify, so a blocking call does not wake it. The
  // others sleep on the job word.
  it("the worker that sits blocking calls out starts with the first async call and sleeps apart", async () => {
    const three = await layer(3, 23);
    const x = batch(5, 6);
    const want = (await layer(1, 23)).forward(x);
    expectSameMatrix(three.forward(x), want);
    const p = pool(three);
    const asleep = async (workers: number) => {
      // Until all of them sleep (each polls a while first); a woken worker finds no job.
      for (let i = 0; i < 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        const w = p.wakeIdle();
        if (w.gen + w.last === workers) return w;
      }
      throw new Error("the workers did not go to sleep in 2 s");
    };
    expect(p.spawned).toBe(2);
    expect(await asleep(2)).toEqual({ gen: 2, last: 0 });
    for (let i = 0; i < 3; i++) expectSameMatrix(three.forward(x), want);
    expect(p.spawned).toBe(2);
    expectSameMatrix(await three.forwardAsync(x), want);
    expect(p.spawned).toBe(3);
    expect(await asleep(3)).toEqual({ gen: 2, last: 1 });
    for (let i = 0; i < 3; i++) {
      expectSameMatrix(three.forward(x), want);
      expectSameMatrix(await three.forwardAsync(x), want);
    }
    expect(p.spawned).toBe(3);
    expect(await asleep(3)).toEqual({ gen: 2, last: 1 });
    expect(p.strayArrivals).toBe(0);
  });

  // The last worker joins the job posted just after it starts, whichever came before: many
  // blocking calls (its first job word is then far from 0), or none.
  it.each([
    ["after 40 blocking calls", 40],
    ["as the layer's first call", 0],
  ])("the last worker starts for an async call %s and gives its bits", async (_name, before) => {
    const two = await layer(2, 24);
    const x = batch(7, 9);
    const want = (await layer(1, 24)).forward(x);
    for (let i = 0; i < before; i++) expectSameMatrix(two.forward(x), want);
    const y = await settled(two.forwardAsync(x));
    expectSameMatrix(y, want);
    expect(pool(two).spawned).toBe(2);
    expectSameMatrix(two.forward(x), want);
    expectSameMatrix(await two.forwardAsync(x), want);
    expect(pool(two).strayArrivals).toBe(0);
  });
});

describe("lifecycle", () => {
  it("a disposed layer refuses calls; dispose twice is harmless; `using` disposes", async () => {
    const two = await layer(2);
    two.forward(batch(2, 1));
    two.dispose();
    two.dispose();
    expect(() => two.forward(batch(2, 1))).toThrow("forward: the layer was disposed");
    await expect(two.forwardAsync(batch(2, 1))).rejects.toThrow(
      "forwardAsync: the layer was disposed",
    );
    let seen: FeedForward | undefined;
    {
      using scoped = await layer(2);
      scoped.forward(batch(2, 1));
      seen = scoped;
    }
    expect(() => seen?.forward(batch(2, 1))).toThrow("the layer was disposed");
  });

  it("an idle pool does not keep a Node process alive", () => {
    // A script that computes on two threads and never disposes: it must end by itself.
    assertDistFresh("threads test (an idle pool)");
    const script = `
      import { FeedForward, matrix } from ${JSON.stringify(join(ROOT, "dist/index.js"))};
      const ffn = await FeedForward.create({ dModel: 8, dHidden: 32, threads: 2 });
      const x = matrix(4, 8, new Float32Array(32).fill(1));
      ffn.forward(x);
      await ffn.forwardAsync(x);
      console.log("done", ffn.threads);
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 20_000,
      encoding: "utf8",
    });
    expect(out.trim()).toBe("done 2");
  });

  it("the constructor takes one thread only, and says how to get more", () => {
    expect(() => new FeedForward({ dModel: 4, dHidden: 8, threads: 2 })).toThrow(
      "needs the async factory: await FeedForward.create(options)",
    );
    expect(new FeedForward({ dModel: 4, dHidden: 8, threads: 1 }).threads).toBe(1);
  });

  it("the js kernel runs on one thread and says why", async () => {
    const js = await FeedForward.create({ dModel: 4, dHidden: 8, kernel: "js", threads: 2 });
    expect(js.threads).toBe(1);
    expect(js.threadsFallback).toMatch(/threads need the wasm kernel/);
  });
});

describe("workers that cannot start", () => {
  // A platform whose workers fail before they ever run (as a page whose Content-Security-Policy
  // forbids blob: workers): the layer computes on the calling thread from then on, gives the
  // same bits, and says why in threadsFallback.
  it("forwardAsync falls back to the calling thread, for good, and says why", async () => {
    const { ThreadedWasmKernel } = await import("../src/kernels/wasm/threaded");
    const { gemmModuleSync } = await import("../src/kernels/wasm/module");
    const { seededSource } = await import("../src/kernels/source");
    const host = {
      cores: 2,
      unavailable: null,
      canBlock: true,
      spawn() {
        const listeners: ((e: Error) => void)[] = [];
        setTimeout(() => {
          for (const l of listeners) l(new Error("Refused to create a worker from 'blob:'"));
        }, 1);
        return {
          post() {},
          onMessage() {},
          onFailure: (l: (e: Error) => void) => void listeners.push(l),
          terminate() {},
          ref() {},
          unref() {},
        };
      },
    };
    const shape = {
      dModel: D,
      dHidden: H,
      expand: 1,
      hasBias: true,
      activation: "relu",
      dtype: "f32",
    } as const;
    const kernel = new ThreadedWasmKernel(
      shape,
      seededSource(5, shape),
      gemmModuleSync(true),
      host,
      2,
    );
    const x = batch(7, 21);
    const want = (await layer(1)).forward(x);
    const out = new Float32Array(7 * D);
    expect(kernel.threadsInUse).toBe(2);
    await kernel.forwardAsync(x.data, 0, 7, out, 0);
    expect(Array.from(out)).toEqual(Array.from(want.data));
    expect(kernel.threadsInUse).toBe(1);
    expect(kernel.unavailable).toMatch(/worker threads could not start.*blob:/);
    const again = new Float32Array(7 * D);
    kernel.forward(x.data, 0, 7, again, 0); // on this thread now, at once
    expect(Array.from(again)).toEqual(Array.from(want.data));
  });
});

describe("GatedFeedForward on threads", () => {
  const gatedLayers: GatedFeedForward[] = [];
  afterAll(() => {
    for (const l of gatedLayers) l.dispose();
  });
  async function gated(
    threads: number,
    activation: ActivationName,
    bias: boolean,
  ): Promise<GatedFeedForward> {
    const options = { dModel: D, dHidden: H, seed: 11, activation, bias, kernel: "wasm" as const };
    const glu = await GatedFeedForward.create({ ...options, threads });
    gatedLayers.push(glu);
    return glu;
  }

  // Each thread computes its own columns of the gate, the up projection and their product,
  // then its own output columns: every count splits columns only; 130 tokens cross a block.
  it.each(["silu", "relu", "gelu", "geluTanh"] as const)(
    "%s, with and without biases: 1, 2, 3, 65 and 130 tokens on 2 and 3 threads, sync and async",
    async (activation) => {
      for (const bias of [false, true]) {
        const one = await gated(1, activation, bias);
        const two = await gated(2, activation, bias);
        const three = await gated(3, activation, bias);
        expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
        expect([two.threadsFallback, three.kernel]).toEqual([null, "wasm"]);
        for (const rows of [1, 2, 3, 65, 130]) {
          const x = batch(rows, 200 + rows);
          const want = one.forward(x);
          expectSameMatrix(two.forward(x), want);
          expectSameMatrix(three.forward(x), want);
          expectSameMatrix(await two.forwardAsync(x), want);
          expectSameMatrix(await three.forwardAsync(x), want);
          const r = rows - 1;
          const alone = three.forwardToken(x.data.slice(r * D, (r + 1) * D));
          expect(Array.from(alone)).toEqual(Array.from(want.data.subarray(r * D, (r + 1) * D)));
        }
      }
    },
  );

  it("from weights: the same layer as fromWeights, on two threads", async () => {
    const source = await gated(1, "silu", true);
    const weights = source.weights;
    const two = await GatedFeedForward.create({ weights, kernel: "wasm", threads: 2 });
    gatedLayers.push(two);
    expect([two.threads, two.activation, two.hasBias]).toEqual([2, "silu", true]);
    const x = batch(7, 3);
    expectSameMatrix(await two.forwardAsync(x), GatedFeedForward.fromWeights(weights).forward(x));
    expect(two.weights.wUp.data).toEqual(weights.wUp.data);
  });

  it("weights, toJSON and backward read the threaded layer's packed weights as one thread's", async () => {
    const one = await gated(1, "gelu", true);
    const two = await gated(2, "gelu", true);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    const x = batch(4, 8);
    const dY = batch(4, 9);
    const [a, b] = [one.backward(x, dY), two.backward(x, dY)];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const key of ["dX", "dWGate", "dWUp", "dWDown"] as const) expectSameMatrix(b[key], a[key]);
    for (const key of ["dbGate", "dbUp", "dbDown"] as const) {
      expect(Array.from(b[key] ?? [])).toEqual(Array.from(a[key] ?? [NaN]));
    }
  });

  it("a worker that throws: forward throws, naming it; the next call works", async () => {
    const two = await gated(2, "silu", false);
    const x = batch(5, 3);
    const want = two.forward(x);
    const kernel = kernelOf(two) as unknown as { pool(): Pool };
    kernel.pool().injectFault(0, "throw");
    expect(() => two.forward(x)).toThrow("worker 0 threw: fault injected by a test");
    expectSameMatrix(two.forward(x), want);
  });

  it("bad options are refused with the option's name; the constructor takes one thread", async () => {
    await expect(GatedFeedForward.create({ dModel: 4, dHidden: 8, threads: 0 })).rejects.toThrow(
      "GatedFeedForward.create: options.threads",
    );
    await expect(
      GatedFeedForward.create({ dModel: 4, dHidden: 8, thread: 2 } as never),
    ).rejects.toThrow("GatedFeedForward.create: unknown option options.thread");
    expect(() => new GatedFeedForward({ dModel: 4, dHidden: 8, threads: 2 })).toThrow(
      "needs the async factory: await GatedFeedForward.create(options)",
    );
    const w = { wGate: matrix(2, 3), wUp: matrix(2, 4), wDown: matrix(3, 2) };
    await expect(GatedFeedForward.create({ weights: w, threads: 2 })).rejects.toThrow(
      "GatedFeedForward.create: weights.wUp is 2 x 4, expected (wGate.rows, wGate.cols) = 2 x 3",
    );
    const js = await GatedFeedForward.create({ dModel: 4, dHidden: 8, kernel: "js", threads: 2 });
    expect([js.threads, js.kernel]).toEqual([1, "js"]);
    expect(js.threadsFallback).toMatch(/threads need the wasm kernel/);
  });

  it("rejects bad input before any worker runs, and changes nothing", async () => {
    const two = await gated(2, "silu", false);
    const out = matrix(3, D, new Float32Array(3 * D).fill(7));
    await expect(two.forwardAsync(matrix(3, D + 1), out)).rejects.toThrow(
      `forwardAsync: x has ${D + 1} columns, expected dModel = ${D}`,
    );
    expect(() => two.forward(matrix(3, D + 1), out)).toThrow(`forward: x has ${D + 1} columns`);
    expect(out.data.every((v) => v === 7)).toBe(true);
  });

  it("a disposed layer refuses calls, async ones too", async () => {
    const two = await gated(2, "silu", false);
    two.forward(batch(2, 1));
    two.dispose();
    expect(() => two.forward(batch(2, 1))).toThrow("forward: the layer was disposed");
    await expect(two.forwardAsync(batch(2, 1))).rejects.toThrow(
      "forwardAsync: the layer was disposed",
    );
  });
});

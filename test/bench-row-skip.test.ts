// The row-skip probe (bench/row-skip.ts) times several reads of W2 and compares their times; each
// must compute what it says, over the layout it says, or the ceiling it prints means nothing.
// Each is checked here bit for bit against a float32 reference of its own layout: +0, then
// + x_k * w_kj for the listed k in order, each product and sum rounded; `loads`, which does no
// arithmetic, against the xor of the rows it lists.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { K, N, RowSkip, parseArgs } from "../bench/row-skip";
import { ROWS_LIST } from "../src/kernels/wasm/panels";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The reference sums over the listed k, with w(k, j) reading the layout. */
function reference(
  x: Float32Array,
  list: number[],
  w: (k: number, j: number) => number,
  outputs = N,
): Float32Array {
  const out = new Float32Array(outputs);
  for (let j = 0; j < outputs; j++) {
    let s = 0;
    for (const k of list) s = Math.fround(s + Math.fround((x[k] as number) * w(k, j)));
    out[j] = s;
  }
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("row-skip probe", () => {
  it("each read computes the layer's sums over its own layout", async () => {
    const probe = await RowSkip.create(2);
    const f = new Float32Array(probe.memory.buffer);
    const x = f.slice(0, K);
    const c = 1; // the second copy: offsets past the first are used
    const base = probe.copy(c) / 4;
    const all = Array.from({ length: K }, (_, k) => k);
    // Rows kept with probability 1/2 (list slot 0) and every row (slot 1).
    const n = probe.list(0, 0.5, 7);
    expect(n).toBeGreaterThan(K / 4);
    expect(n).toBeLessThan((3 * K) / 4);
    const listed = Array.from(new Int32Array(probe.memory.buffer, probe.listAt(0), n));
    for (let i = 1; i < n; i++)
      expect(listed[i] as number).toBeGreaterThan(listed[i - 1] as number);
    expect(probe.list(1, 1, 7)).toBe(K);

    const whole = (k: number, j: number) => f[base + k * N + j] as number;
    const half = N / 2;
    const groups = (k: number, j: number) =>
      (j < half ? f[base + k * half + j] : f[base + (K * N) / 2 + k * half + j - half]) as number;
    const panels = (k: number, j: number) =>
      f[base + (j >> 4) * K * 16 + k * 16 + (j & 15)] as number;

    probe.panels(c);
    expect(bits(probe.out())).toEqual(bits(reference(x, all, panels)));
    probe.panels(c, true);
    expect(bits(probe.out())).toEqual(bits(reference(x, all, panels)));
    // The copy read as W1 (N inputs, K outputs, relu): the first N of x.
    const w1 = (k: number, j: number) => f[base + (j >> 4) * N * 16 + k * 16 + (j & 15)] as number;
    const first = reference(
      x.subarray(0, N),
      Array.from({ length: N }, (_, k) => k),
      w1,
      K,
    );
    for (let j = 0; j < K; j++) if ((first[j] as number) < 0) first[j] = 0;
    for (const pairs of [false, true]) {
      probe.first(c, pairs);
      const got = new Float32Array(probe.memory.buffer, probe.outAt(), K).slice();
      expect(bits(got)).toEqual(bits(first));
    }
    probe.rows(c, probe.listAt(1), K);
    expect(bits(probe.out())).toEqual(bits(reference(x, all, groups)));
    // Half the rows listed: the layer's path reads every row (ROWS_LIST); turns reads the list.
    probe.rows(c, probe.listAt(0), n);
    expect(bits(probe.out())).toEqual(bits(reference(x, all, groups)));
    probe.turns(c, probe.listAt(0), n);
    expect(bits(probe.out())).toEqual(bits(reference(x, listed, groups)));
    // A fifth of the rows listed (slot 2): the layer's path reads the list, group after group.
    const m = probe.list(2, 0.2, 7);
    expect(m).toBeLessThan(K * ROWS_LIST);
    const few = Array.from(new Int32Array(probe.memory.buffer, probe.listAt(2), m));
    probe.rows(c, probe.listAt(2), m);
    expect(bits(probe.out())).toEqual(bits(reference(x, few, groups)));
    probe.read(c, probe.listAt(0), n);
    expect(bits(probe.out())).toEqual(bits(reference(x, listed, whole)));
    probe.read(c, probe.listAt(1), K);
    expect(bits(probe.out())).toEqual(bits(reference(x, all, whole)));
    // A list shorter than a block, and one row.
    probe.read(c, probe.listAt(0), 5);
    expect(bits(probe.out())).toEqual(bits(reference(x, listed.slice(0, 5), whole)));
    probe.read(c, probe.listAt(0), 1);
    expect(bits(probe.out())).toEqual(bits(reference(x, listed.slice(0, 1), whole)));
    // loads: the xor of each listed whole row's 32-bit words, lane by lane (word j in lane j mod
    // 4), so a row left out or read twice changes it.
    const words = new Uint32Array(probe.memory.buffer);
    const xor = (list: number[]) => {
      const lanes = new Uint32Array(4);
      for (const k of list)
        for (let j = 0; j < N; j++)
          lanes[j & 3] = (lanes[j & 3] as number) ^ (words[base + k * N + j] as number);
      return Array.from(lanes);
    };
    const loaded = () => Array.from(new Uint32Array(probe.memory.buffer, probe.outAt(), 4));
    for (const [slot, list] of [
      [0, listed],
      [1, all],
      [2, few],
    ] as const) {
      probe.loads(c, probe.listAt(slot), list.length);
      expect(loaded()).toEqual(xor(list));
    }
    for (const count of [1, 5, 17]) {
      probe.loads(c, probe.listAt(0), count);
      expect(loaded()).toEqual(xor(listed.slice(0, count)));
    }
    expect(xor(listed)).not.toEqual(xor(listed.slice(1)));
  });

  it("rejects bad arguments, naming them", () => {
    expect(parseArgs(["--shares", "0,0.5", "--reps", "3"])).toMatchObject({
      shares: [0, 0.5],
      reps: 3,
    });
    expect(() => parseArgs(["--shares", "0,1"])).toThrow(/--shares/);
    expect(() => parseArgs(["--shares", "x"])).toThrow(/--shares/);
    expect(() => parseArgs(["--reps", "0"])).toThrow(/--reps/);
    expect(() => parseArgs(["--bytes", "1024"])).toThrow(/--bytes/);
    expect(() => parseArgs(["--threads", "2"])).toThrow(/unknown argument --threads/);
    expect(() => parseArgs(["--shares", Array(200).fill("0.5").join(",")])).toThrow(
      /--shares: at most \d+ shares/,
    );
  });

  it("runs from npm, one copy, and refuses a bad argument with exit code 2", () => {
    const args = ["--bytes", String(K * N * 4), "--reps", "3", "--shares", "0,0.5"];
    const run = spawnSync("npm", ["run", "--silent", "bench:row-skip", "--", ...args], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("row-skip: 1 copies of W2");
    expect(run.stdout).toMatch(/\| panels \| 0% \| [\d.]+ \| 1\.000 \(1\.000–1\.000\) \|/);
    for (const read of ["rows", "whole", "loads"])
      for (const share of ["0%", "50%"]) expect(run.stdout).toContain(`| ${read} | ${share} |`);
    expect(run.stdout).toMatch(/rows at 50%: the layer [\d.]+x its own 0%; within the 0% goal/);
    expect(run.stdout).toMatch(
      /loads at 50%: no exact read of the list is faster; the layer at most \(W1 \+ [\d.]+\) \/ \(W1 \+ [\d.]+\) = [\d.]+x its own 0%, within the 0% goal at most \(W1 \+ [\d.]+\) \/ \(W1 \+ [\d.]+\) = [\d.]+x$/m,
    );
    const bad = spawnSync("npm", ["run", "--silent", "bench:row-skip", "--", "--reps", "0"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^bench:row-skip: --reps: an integer in 1\.\.1000, got 0/);
  }, 60_000);
});

// The quantized kernels on relaxed SIMD (relaxed.wat, relaxed.ts): their panels' packing, the
// maps they refuse, and their outputs' bits against gemm.wat's qgemm. Node 20's V8 has relaxed
// SIMD only behind --experimental-wasm-relaxed-simd, so the bits are compared in a Node process
// of their own started with that flag (test/support/relaxed-check.ts), whatever Node runs the
// tests; the browser tests compare them in Chromium too.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeBytes } from "../src/base64";
import { blockBytes } from "../src/dtype";
import { packQuantPanels, unpackQuantPanels } from "../src/kernels/wasm/quant-panels";
import { hasRelaxedDot, relaxedQuantAt } from "../src/kernels/wasm/relaxed";
import { RELAXED_WASM } from "../src/kernels/wasm/relaxed.wasm";
import { seededFloats } from "./helpers/arbitraries";
import { expectRelaxedCheckPassed } from "./helpers/relaxed-summary";
import type { RelaxedAsyncSummary } from "./support/relaxed-async";
import type { RelaxedSummary } from "./support/relaxed-check";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Seeded bytes: N rows of K / 32 ggml blocks of any content. */
function anyBlocks(dtype: "q8_0" | "q4_0", K: number, N: number, seed: number): Uint8Array {
  const u = seededFloats((N * K * blockBytes(dtype)) / 32, seed, 1);
  return Uint8Array.from(u, (v) => Math.floor((v + 1) * 128) & 255);
}

describe("relaxed panels", () => {
  it.each(["q8_0", "q4_0"] as const)(
    "%s: pack and unpack give every block back, in qgemm's bytes, laid out otherwise",
    (dtype) => {
      const [K, N] = [96, 48];
      const blocks = anyBlocks(dtype, K, N, 3);
      const u8 = new Uint8Array(64 + blocks.length + 64).fill(0xa5);
      packQuantPanels(blocks, dtype, K, N, u8, 64, relaxedQuantAt);
      expect(Array.from(unpackQuantPanels(u8, 64, dtype, K, N, relaxedQuantAt))).toEqual(
        Array.from(blocks),
      );
      // Nothing written outside the map's bytes.
      expect(u8.subarray(0, 64).every((v) => v === 0xa5)).toBe(true);
      expect(u8.subarray(64 + blocks.length).every((v) => v === 0xa5)).toBe(true);
      // As many bytes as qgemm's panels, the scales where qgemm has them, the quants elsewhere.
      const q = new Uint8Array(64 + blocks.length);
      packQuantPanels(blocks, dtype, K, N, q, 64);
      const a = Array.from(u8.subarray(64, 64 + blocks.length));
      const b = Array.from(q.subarray(64));
      expect(a).not.toEqual(b);
      const pb = 16 * blockBytes(dtype);
      for (let at = 0; at < a.length; at += pb)
        expect(a.slice(at, at + 32)).toEqual(b.slice(at, at + 32));
      expect(Array.from(unpackQuantPanels(q, 64, dtype, K, N))).toEqual(Array.from(blocks));
    },
  );

  it("puts column 4g+i's input 4t+j (Q8_0) at 32 + 64t + 16g + 4i + j of its block", () => {
    const [K, N] = [32, 16];
    const blocks = new Uint8Array(N * 34);
    for (let c = 0; c < N; c++)
      for (let k = 0; k < K; k++) blocks[c * 34 + 2 + k] = (c * 32 + k) & 127;
    const u8 = new Uint8Array(544);
    packQuantPanels(blocks, "q8_0", K, N, u8, 0, relaxedQuantAt);
    expect(u8[32 + 64 * 2 + 16 * 1 + 4 * 3 + 1]).toBe((7 * 32 + 9) & 127); // c = 7, k = 9
  });

  it("puts Q4_0 inputs 8t+j and 8t+4+j of column 4g+i in one byte, low and high nibble", () => {
    const [K, N] = [32, 16];
    const blocks = new Uint8Array(N * 18);
    // Column 5: input k's nibble is k mod 16 (low nibbles inputs 0..15, high 16..31).
    for (let k = 0; k < 16; k++) blocks[5 * 18 + 2 + k] = k | (k << 4);
    const u8 = new Uint8Array(288);
    packQuantPanels(blocks, "q4_0", K, N, u8, 0, relaxedQuantAt);
    // t = 2, j = 1: inputs 17 (low nibble, 17 mod 16 = 1) and 21 (high, 5); g = 1, i = 1.
    expect(u8[32 + 64 * 2 + 16 * 1 + 4 * 1 + 1]).toBe(1 | (5 << 4));
  });
});

describe("relaxed.wat against qgemm", () => {
  it("gives qgemm's bits at every shape, batch, thread count and edge of the dot's range", () => {
    // Node 20 needs the flag; Node 22 and later have relaxed SIMD and refuse it as unknown.
    const flag = hasRelaxedDot() ? [] : ["--experimental-wasm-relaxed-simd"];
    let text: string;
    try {
      text = execFileSync(
        process.execPath,
        [...flag, "--import", "tsx", "test/support/relaxed-check.ts"],
        { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
    } catch (e) {
      const { status, stdout, stderr } = e as { status: number; stdout: string; stderr: string };
      throw new Error(`relaxed-check exited ${status}: ${stderr}\n${stdout.slice(0, 4000)}`);
    }
    expectRelaxedCheckPassed(JSON.parse(text) as RelaxedSummary);
  }, 120_000);

  it("create compiles relaxed.wat ahead, asynchronously, for one thread and for workers", () => {
    const flag = hasRelaxedDot() ? [] : ["--experimental-wasm-relaxed-simd"];
    const text = execFileSync(
      process.execPath,
      [...flag, "--import", "tsx", "test/support/relaxed-async.ts"],
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    const summary = JSON.parse(text) as RelaxedAsyncSummary;
    expect(summary.threads).toEqual([1, 2]);
    // Nothing of a kernel's size compiled synchronously; relaxed.wat compiled asynchronously
    // twice (its private-memory and shared-memory forms, which differ in one byte).
    expect(summary.sync).toEqual([]);
    const relaxedBytes = decodeBytes(RELAXED_WASM)?.length;
    expect(relaxedBytes).toBeGreaterThan(1024);
    expect(summary.async.filter((n) => n === relaxedBytes)).toHaveLength(2);
  }, 60_000);
});

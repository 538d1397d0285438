// FeedForward.create and GatedFeedForward.create warm the WebAssembly kernel before they resolve
// (src/kernels/wasm/module.ts): timed batches of calls until the engine's optimized code runs.
// How fast the first call then is, the bench measures; here, that the warm-up can never hang a
// caller, even one whose clock does not move: a test suite's fake timers freeze setTimeout,
// Date and performance.now, and create must still resolve, with a layer that computes.
import { afterEach, expect, it, vi } from "vitest";
import { FeedForward, GatedFeedForward, matrix } from "../src/index";
import { expectSameMatrix } from "./helpers/bits";

afterEach(() => {
  vi.useRealTimers();
});

it("create resolves under fake timers (frozen clock), and its layers compute what the constructor's do", async () => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date", "performance"],
  });
  expect(performance.now()).toBe(performance.now()); // the clock stands still
  const x = matrix(
    5,
    8,
    Float32Array.from({ length: 40 }, (_, i) => Math.sin(i)),
  );
  // The first create of each module (private, and shared for threads) in this process warms it.
  const one = await FeedForward.create({ dModel: 8, dHidden: 24, seed: 3, kernel: "wasm" });
  const two = await GatedFeedForward.create({
    dModel: 8,
    dHidden: 24,
    seed: 3,
    kernel: "wasm",
    activation: "silu",
    threads: 2,
  });
  vi.useRealTimers();
  expect([one.kernel, two.kernel, two.threads]).toEqual(["wasm", "wasm", 2]);
  expectSameMatrix(one.forward(x), new FeedForward({ dModel: 8, dHidden: 24, seed: 3 }).forward(x));
  const sync = new GatedFeedForward({ dModel: 8, dHidden: 24, seed: 3, activation: "silu" });
  expectSameMatrix(await two.forwardAsync(x), sync.forward(x));
  one.dispose();
  two.dispose();
}, 20_000);

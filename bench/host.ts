// A child process that hosts one contender for the harness: an isolated peer timed on its own
// (onnxruntime-web fixes its thread count per process), or a memory probe measuring the peak
// resident memory of one contender alone. It rebuilds the problem from the seed, so it computes
// on the same bits as the parent. Spoken to over IPC by hosted.ts.
import { procStatus, resetPeak, settle } from "./memory";
import { type Contender, type HostKey, runEach, setupLayers } from "./contender";
import { makeExactProblem } from "./exact";
import type { Variant } from "./layer";
import { customContender } from "./custom";
import { loadCustomModule } from "./custom-module";
import { naiveContender } from "./naive";
import { findPeer, nodePeers } from "./peers/index";
import { makeProblem } from "./problem";
import { LocalRunner } from "./runner";
import type { Shape } from "./shapes";
import { findTokenwiseEntry, tokenwiseContender, withLayerOptions } from "./tokenwise";

export type HostRequest =
  | { op: "setup"; key: HostKey; shape: Shape; seed: number; peersDir: string; variant: Variant }
  | {
      op: "exact";
      key: HostKey;
      shape: Shape;
      seed: number;
      peersDir: string;
      variant: Variant;
      budget: number;
    }
  | { op: "first" }
  | { op: "each" }
  | { op: "time"; calls: number }
  | { op: "memory"; calls: number }
  | { op: "exit" };

export interface MemoryReading {
  /** Peak resident set of the process's whole life, setup (with the caller's weights) included, bytes. */
  peakRss: number;
  /** Peak resident set while running, after setup and after the caller's weights were freed. */
  runPeakRss: number | null;
  /** Resident set at the end. */
  rss: number;
}

export async function contenderFromKey(
  key: HostKey,
  peersDir: string,
  variant: Variant,
): Promise<Contender | null> {
  switch (key.kind) {
    case "none":
      return null;
    case "naive":
      return naiveContender(variant);
    case "tokenwise": {
      const entry = findTokenwiseEntry(key.kernel, variant.layer);
      return tokenwiseContender(
        key.tag === undefined ? entry : withLayerOptions(entry, key.tag, key.options ?? {}),
        key.threads,
        variant.activation,
      );
    }
    case "peer":
      return findPeer(key.name).load(nodePeers(peersDir), key.threads, variant);
    case "custom": {
      const { module, kernels } = await loadCustomModule(key.module);
      const kernel = kernels[key.index];
      if (kernel === undefined)
        throw new RangeError(`${module} has no kernel at index ${key.index}`);
      const c = customContender(kernel, variant, { module, index: key.index });
      if ("reason" in c) throw new Error(c.reason);
      return c;
    }
  }
}

async function main(): Promise<void> {
  let runner: LocalRunner | null = null;
  let x: Float32Array | null = null;
  const reply = (message: unknown) => process.send?.(message);
  process.on("message", async (raw) => {
    const req = raw as HostRequest;
    try {
      switch (req.op) {
        case "setup": {
          const contender = await contenderFromKey(req.key, req.peersDir, req.variant);
          // Only this scope holds the problem: once setup returns, the caller's copy of the weights
          // can be collected, leaving whatever the contender itself keeps.
          const problem = makeProblem(req.shape, req.seed, req.variant);
          x = problem.x;
          const start = performance.now();
          if (contender !== null)
            runner = new LocalRunner(await setupLayers(contender, req.shape, problem.layers), x);
          reply({ ok: true, setupMs: performance.now() - start });
          break;
        }
        case "exact": {
          // The exact check (exact.ts) in this process: the same problem, drawn from the seed.
          const contender = await contenderFromKey(req.key, req.peersDir, req.variant);
          if (contender === null) throw new Error("host: no contender");
          const exact = makeExactProblem(req.shape, req.seed, req.variant, req.budget);
          const instances = await setupLayers(
            contender,
            req.shape,
            exact.layers.map((l) => l.weights),
          );
          const outputs = await runEach(
            instances,
            exact.layers.map((l) => l.x),
          );
          reply({ ok: true, outputs });
          break;
        }
        case "first": {
          if (runner === null) throw new Error("host: no contender");
          const { output, ms } = await runner.first();
          reply({ ok: true, output, ms });
          break;
        }
        case "each": {
          if (runner === null) throw new Error("host: no contender");
          reply({ ok: true, outputs: await runner.each() });
          break;
        }
        case "time": {
          if (runner === null) throw new Error("host: no contender");
          reply({ ok: true, timing: await runner.time(req.calls) });
          break;
        }
        case "memory": {
          // VmHWM is this process's own peak since it started (getrusage's maxrss is not: after
          // fork and exec it starts from the parent's resident set).
          const setupPeak = procStatus()?.hwm ?? null;
          await settle();
          const reset = resetPeak();
          for (let i = 0; i < req.calls && runner !== null; i++) await runner.first();
          const status = procStatus();
          const runPeak = reset && status !== null ? status.hwm : null;
          const reading: MemoryReading = {
            peakRss:
              setupPeak !== null
                ? Math.max(setupPeak, runPeak ?? 0)
                : process.resourceUsage().maxRSS * 1024,
            runPeakRss: runPeak,
            rss: status?.rss ?? process.memoryUsage().rss,
          };
          reply({ ok: true, reading });
          break;
        }
        case "exit": {
          await runner?.dispose();
          reply({ ok: true });
          process.exit(0);
        }
      }
    } catch (e) {
      reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  reply({ ok: true, ready: true });
}

void main();

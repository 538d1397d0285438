import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The webgpu kernel's tests run Dawn (the "webgpu" devDependency) on SwiftShader, the CPU
// Vulkan driver Debian's chromium ships. The Vulkan loader reads VK_ICD_FILENAMES, and the
// dynamic linker LD_LIBRARY_PATH (for a libvulkan.so.1 where the system has none), when a
// process starts: so they are set here, in the process that starts the test workers.
const SWIFTSHADER = "/usr/lib/chromium";
if (existsSync(`${SWIFTSHADER}/vk_swiftshader_icd.json`)) {
  process.env.VK_ICD_FILENAMES ??= `${SWIFTSHADER}/vk_swiftshader_icd.json`;
  if (!existsSync("/usr/lib/x86_64-linux-gnu/libvulkan.so.1")) {
    const path = process.env.LD_LIBRARY_PATH;
    if (!(path ?? "").split(":").includes(SWIFTSHADER)) {
      process.env.LD_LIBRARY_PATH = path ? `${path}:${SWIFTSHADER}` : SWIFTSHADER;
    }
  }
}

// The files that take longest (15 to 120 s each on a 2-core AMD EPYC machine; the 87 files
// sum to about 9 minutes there), started first: with two workers, a long file started late
// runs alone at the end. Vitest orders files by their last run's times when it has them, but a
// fresh clone (CI) has none, and there bench-exact (the longest) started at 258 s of a 375 s
// run. These go first either way, the rest after them in Vitest's order.
const LONGEST = [
  "test/bench-exact.test.ts",
  "test/layers/layer.prop.test.ts",
  "test/layers/moe.prop.test.ts",
  "test/allocation.test.ts",
  "test/webgpu-moe.test.ts",
  "test/webgpu.test.ts",
  "test/browser/webgpu.test.ts",
  "test/wasm-relaxed.test.ts",
  "test/threads.test.ts",
  "test/package.test.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST.indexOf(relative(f.project.config.root, f.moduleId).replaceAll("\\", "/"));
      return i < 0 ? LONGEST.length : i;
    };
    // Array sort is stable: files of one rank keep Vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The console report, and a JSON one that scripts/test-summary.mjs turns into one line.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    // One test file per core. (Vitest's default leaves a core for its own process: one file at
    // a time on a 2-core machine, where the suite then took 9 minutes; the files' work is
    // mostly one thread each.)
    maxWorkers: availableParallelism(),
    sequence: { sequencer: LongestFirst },
    // A worker runs its files one after another in one process, importing the library once
    // (not once a file): importing took 29 s of the workers' time, 11 to 13 s this way. No
    // test file depends on state another leaves: the suite passes in the order of a fresh
    // clone and in the order of the last run's times.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

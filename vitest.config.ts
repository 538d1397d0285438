import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

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

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The console report, and a JSON one that scripts/test-summary.mjs turns into one line.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    // One test file per core. (Vitest's default leaves a core for its own process: one file at
    // a time on a 2-core machine, where the suite then took 9 minutes; the files' work is
    // mostly one thread each.)
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

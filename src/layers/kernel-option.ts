// The kernel and threads options, shared by the layers: which kernel a choice gives here, and
// how many threads a layer made by an async factory gets.
import type { KernelName } from "../kernels/kernel";
import { wasmAvailability } from "../kernels/wasm/module";
import { threadHost } from "../threads/platform";

/** The kernel a choice resolves to here, or a clear error if "wasm" cannot run. */
export function resolveKernel(choice: "auto" | KernelName, where: string): KernelName {
  if (choice === "js") return "js";
  const wasm = wasmAvailability();
  if (wasm.ok) return "wasm";
  if (choice === "auto") return "js";
  throw new Error(`${where}: kernel "wasm" is not available: ${wasm.reason}`);
}

/** How many threads a layer gets here, and if fewer than asked, why. */
export async function planThreads(kernel: KernelName, requested: number | undefined) {
  if (requested === 1) return { threads: 1, host: null, fallback: null };
  const host = await threadHost();
  const want = requested ?? host.cores;
  if (want <= 1) return { threads: 1, host: null, fallback: null };
  if (kernel !== "wasm") {
    return {
      threads: 1,
      host: null,
      fallback: "threads need the wasm kernel; this layer runs the js kernel",
    };
  }
  if (host.unavailable !== null) return { threads: 1, host: null, fallback: host.unavailable };
  return { threads: want, host, fallback: null };
}

// The process's resident memory, for the memory probes (host.ts) and bench:load
// (load-memory.ts): its peak and current resident set, a reset of the peak, and a collection
// that waits until the resident set stops shrinking.
import { readFileSync, writeFileSync } from "node:fs";

/** VmHWM (peak) and VmRSS from /proc/self/status, in bytes; null where there is no /proc. */
export function procStatus(): { hwm: number; rss: number } | null {
  try {
    const text = readFileSync("/proc/self/status", "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
    const hwm = kb("VmHWM");
    const rss = kb("VmRSS");
    return Number.isFinite(hwm) && Number.isFinite(rss) ? { hwm, rss } : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS mark to the current RSS (Linux: "5" to /proc/self/clear_refs). */
export function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Collects garbage until the resident set stops shrinking. V8 frees the memory of dead
 * ArrayBuffers after the collection, from a task of its own, so one gc() call is not enough.
 */
export async function settle(): Promise<void> {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rss = procStatus()?.rss ?? process.memoryUsage().rss;
    if (rss > last - 2 ** 20) return;
    last = rss;
  }
}

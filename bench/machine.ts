// What the numbers were measured on.
import { readFileSync } from "node:fs";
import os from "node:os";

export interface Machine {
  cpu: string;
  /** Logical cores the OS reports, and how many this process may use. */
  cores: number;
  availableParallelism: number;
  /** SIMD features of the CPU, from /proc/cpuinfo where there is one. */
  simd: string[];
  memoryBytes: number;
  platform: string;
  arch: string;
  osRelease: string;
  node: string;
  v8: string;
}

function cpuFlags(): string[] {
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? "").split(/\s+/));
    return [
      "sse4_2",
      "avx",
      "avx2",
      "fma",
      "avx512f",
      "avx512_bf16",
      "avx_vnni",
      "amx_tile",
    ].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    simd: cpuFlags(),
    memoryBytes: os.totalmem(),
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    node: process.versions.node,
    v8: process.versions.v8,
  };
}

export function machineLine(m: Machine): string {
  const simd = m.simd.length > 0 ? ` (${m.simd.join(", ")})` : "";
  return `${m.cpu}${simd}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.platform} ${m.arch}, Node ${m.node}, V8 ${m.v8}`;
}

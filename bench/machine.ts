// What the numbers were measured on, and from which code: the machine, the commit, the load.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { lastLevelCacheBytes } from "./roof";

export interface Machine {
  /** The CPU's model name (/proc/cpuinfo's "model name", or what the OS reports). */
  cpu: string;
  /** The largest cache sysfs reports, bytes (a virtual machine may report its host's). */
  lastLevelCacheBytes: number | null;
  /** Running under a hypervisor (the "hypervisor" CPU flag). */
  virtual: boolean | null;
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

function cpuinfo(): string | null {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return null;
  }
}

function cpuFlags(text: string | null): string[] {
  if (text === null) return [];
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? "").split(/\s+/));
  return ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx_vnni", "amx_tile"].filter(
    (f) => flags.has(f),
  );
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const info = cpuinfo();
  const model = info === null ? undefined : /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim();
  return {
    cpu: model ?? cpus[0]?.model.trim() ?? "unknown",
    lastLevelCacheBytes: lastLevelCacheBytes(),
    virtual: info === null ? null : /^flags\s*:.*\bhypervisor\b/m.test(info),
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    simd: cpuFlags(info),
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
  const llc =
    m.lastLevelCacheBytes === null || m.lastLevelCacheBytes === undefined
      ? ""
      : `, ${(m.lastLevelCacheBytes / 2 ** 20).toFixed(0)} MiB last-level cache`;
  const vm = m.virtual ? ", virtual machine" : "";
  return `${m.cpu}${simd}, ${m.cores} cores${llc}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB${vm}, ${m.platform} ${m.arch}, Node ${m.node}, V8 ${m.v8}`;
}

/** The code a run measured: its git commit, and whether the work tree differed from it. */
export interface GitState {
  commit: string;
  /** Uncommitted changes to tracked files, or untracked files, when the run started. */
  dirty: boolean;
  /** The changed paths (git status --porcelain), at most 20. */
  changes: string[];
}

/** The git state of the folder `dir` is in, or null without git or outside a repository. */
export function gitState(dir: string): GitState | null {
  const git = (...args: string[]) =>
    spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", timeout: 10_000 });
  const head = git("rev-parse", "HEAD");
  if (head.status !== 0) return null;
  const status = git("status", "--porcelain", "--untracked-files=normal");
  const changes = status.status === 0 ? status.stdout.split("\n").filter((l) => l !== "") : [];
  return { commit: head.stdout.trim(), dirty: changes.length > 0, changes: changes.slice(0, 20) };
}

/** os.loadavg(): runnable processes averaged over 1, 5 and 15 minutes (zeros on Windows). */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = os.loadavg();
  return [a ?? 0, b ?? 0, c ?? 0];
}

// The parent's side of host.ts: starts a child process for one contender and talks to it.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HostKey } from "./contender";
import type { HostRequest, MemoryReading } from "./host";
import type { Variant } from "./layer";
import type { RepTiming, Runner } from "./runner";
import type { Shape } from "./shapes";

const HOST = fileURLToPath(new URL("./host.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Reply {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** Node flags for a child: the TypeScript loader this process runs under, and --expose-gc. */
function childExecArgv(): string[] {
  const argv = process.execArgv.filter((a) => !a.startsWith("--inspect"));
  const hasLoader = argv.some(
    (a) =>
      a === "--import" ||
      a.startsWith("--import=") ||
      a === "--loader" ||
      a.startsWith("--loader="),
  );
  const flags = hasLoader ? argv : [...argv, "--import", "tsx"];
  return flags.includes("--expose-gc") ? flags : [...flags, "--expose-gc"];
}

export class Host {
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];
  #pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  #exited: Error | null = null;
  readonly #ready: Promise<Reply>;

  /**
   * @param memoryProbe - fix glibc's mmap threshold so freed large arrays leave the resident set
   *   at once; otherwise the caller's freed weights could linger and be reused, hiding memory.
   */
  constructor(memoryProbe: boolean) {
    const env = { ...process.env };
    if (memoryProbe) {
      env.MALLOC_MMAP_THRESHOLD_ = "131072";
      env.MALLOC_TRIM_THRESHOLD_ = "131072";
    }
    this.#child = fork(HOST, [], {
      cwd: ROOT,
      execArgv: childExecArgv(),
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env,
    });
    this.#child.stderr?.on("data", (d: Buffer) => {
      this.#stderr.push(d.toString());
      if (this.#stderr.length > 50) this.#stderr.shift();
    });
    this.#child.on("message", (m) => {
      const p = this.#pending;
      this.#pending = null;
      p?.resolve(m as Reply);
    });
    this.#child.on("exit", (code, signal) => {
      const tail = this.#stderr.join("").trim().split("\n").slice(-3).join(" | ");
      this.#exited = new Error(
        `host process exited (${signal ?? `code ${code}`})${tail === "" ? "" : `: ${tail}`}`,
      );
      const p = this.#pending;
      this.#pending = null;
      p?.reject(this.#exited);
    });
    this.#ready = new Promise((resolve, reject) => (this.#pending = { resolve, reject }));
    this.#ready.catch(() => {}); // a child that dies at start is reported by request()
  }

  async request(req: HostRequest): Promise<Reply> {
    await this.#ready;
    if (this.#exited !== null) throw this.#exited;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#child.send(req);
    });
    if (!reply.ok) throw new Error(reply.error ?? "host: unknown error");
    return reply;
  }

  async close(): Promise<void> {
    if (this.#exited !== null) return;
    try {
      await this.request({ op: "exit" });
    } catch {
      // it exits either way
    }
    if (this.#exited === null) this.#child.kill();
  }
}

/** A contender timed in its own process. */
export class HostedRunner implements Runner {
  readonly #host: Host;

  private constructor(host: Host) {
    this.#host = host;
  }

  static async start(
    key: HostKey,
    shape: Shape,
    seed: number,
    peersDir: string,
    variant: Variant,
  ): Promise<HostedRunner> {
    const host = new Host(false);
    try {
      await host.request({ op: "setup", key, shape, seed, peersDir, variant });
    } catch (e) {
      await host.close();
      throw e;
    }
    return new HostedRunner(host);
  }

  async first(): Promise<{ output: unknown; ms: number }> {
    const r = await this.#host.request({ op: "first" });
    return { output: r.output, ms: r.ms as number };
  }

  async each(): Promise<unknown[]> {
    return (await this.#host.request({ op: "each" })).outputs as unknown[];
  }

  async time(calls: number): Promise<RepTiming> {
    return (await this.#host.request({ op: "time", calls })).timing as RepTiming;
  }

  dispose(): Promise<void> {
    return this.#host.close();
  }
}

/**
 * A contender's outputs on the exact problem (exact.ts), one per layer, computed in a process of
 * its own (a contender timed in one: its thread count is fixed per process).
 */
export async function exactOutputs(
  key: HostKey,
  shape: Shape,
  seed: number,
  peersDir: string,
  variant: Variant,
  budget: number,
): Promise<unknown[]> {
  const host = new Host(false);
  try {
    return (await host.request({ op: "exact", key, shape, seed, peersDir, variant, budget }))
      .outputs as unknown[];
  } finally {
    await host.close();
  }
}

/** Peak resident memory of one contender (or none: Node's baseline) in a process of its own. */
export async function measureMemory(
  key: HostKey,
  shape: Shape,
  seed: number,
  peersDir: string,
  variant: Variant,
  calls: number,
): Promise<MemoryReading> {
  const host = new Host(true);
  try {
    await host.request({ op: "setup", key, shape, seed, peersDir, variant });
    return (await host.request({ op: "memory", calls })).reading as MemoryReading;
  } finally {
    await host.close();
  }
}

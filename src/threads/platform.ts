// Threads in Node (worker_threads) and in browsers (Web Workers), behind one face. Nothing
// here imports a Node built-in statically: Node's module is loaded with a dynamic import whose
// name bundlers do not follow, so the main entry still loads in a browser.

/** A worker, whichever kind. */
export interface WorkerHandle {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  /** A failure: an error thrown at top level, or the thread ending. */
  onFailure(listener: (error: Error) => void): void;
  terminate(): void;
  /** Keep (or stop keeping) a Node process alive while this worker lives. */
  ref(): void;
  unref(): void;
}

export interface ThreadHost {
  /** Logical cores, for the default thread count. */
  cores: number;
  /** Why threads cannot run here, or null if they can. */
  unavailable: string | null;
  /** Whether this thread may block in Atomics.wait (Node's main thread, any worker). */
  canBlock: boolean;
  spawn(source: string): WorkerHandle;
}

interface NodeWorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true; execArgv: string[] },
  ) => {
    postMessage(m: unknown): void;
    on(event: string, listener: (arg: never) => void): void;
    terminate(): Promise<number>;
    ref(): void;
    unref(): void;
  };
}

interface NodeOs {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

function blockingAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let host: Promise<ThreadHost> | undefined;

/** What this environment offers for threads (looked up once). */
export function threadHost(): Promise<ThreadHost> {
  host ??= isNode() ? nodeHost() : Promise.resolve(webHost());
  return host;
}

/**
 * Run before the worker's script in a Node worker: the `self` a browser worker has
 * (postMessage, onmessage, close), over worker_threads' parentPort, so that the script itself
 * is the same on both platforms. It starts the script in strict mode, as the script's own
 * "use strict" no longer comes first.
 */
const NODE_WORKER_PRELUDE = `"use strict";
{
  const { parentPort } = require("node:worker_threads");
  globalThis.self = {
    postMessage: (message) => parentPort.postMessage(message),
    close: () => process.exit(1),
    set onmessage(listener) {
      parentPort.removeAllListeners("message");
      if (listener) parentPort.on("message", (data) => listener({ data }));
    },
  };
}
`;

async function nodeHost(): Promise<ThreadHost> {
  const threadsName = "node:worker_threads";
  const osName = "node:os";
  const wt = (await import(
    /* @vite-ignore */ /* webpackIgnore: true */ threadsName
  )) as NodeWorkerThreads;
  const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ osName)) as NodeOs;
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    unavailable: null,
    canBlock: blockingAllowed(),
    spawn(source) {
      // execArgv: [] so that loaders of the parent (tsx, test runners) are not started in the
      // worker, whose plain code needs none and whose start must not wait on the parent.
      const w = new wt.Worker(NODE_WORKER_PRELUDE + source, { eval: true, execArgv: [] });
      return {
        post: (m) => w.postMessage(m),
        onMessage: (listener) => w.on("message", listener as (arg: never) => void),
        onFailure(listener) {
          w.on("error", ((e: Error) => listener(e)) as (arg: never) => void);
          w.on("exit", ((code: number) =>
            listener(new Error(`a worker thread exited (code ${code})`))) as (arg: never) => void);
        },
        terminate: () => void w.terminate(),
        ref: () => w.ref(),
        unref: () => w.unref(),
      };
    },
  };
}

function webHost(): ThreadHost {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    crossOriginIsolated?: boolean;
  };
  const cores = g.navigator?.hardwareConcurrency ?? 1;
  let unavailable: string | null = null;
  if (typeof Worker !== "function") unavailable = "this environment has no Web Workers";
  else if (typeof SharedArrayBuffer !== "function" || g.crossOriginIsolated === false) {
    unavailable =
      "SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  return {
    cores,
    unavailable,
    canBlock: unavailable === null && blockingAllowed(),
    spawn(source) {
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const w = new Worker(url);
      return {
        post: (m) => w.postMessage(m),
        onMessage: (listener) => w.addEventListener("message", (e) => listener(e.data)),
        onFailure(listener) {
          w.addEventListener("error", (e) => {
            e.preventDefault();
            listener(
              new Error(
                e.message ||
                  "a worker failed to start (a Content-Security-Policy may forbid blob: workers)",
              ),
            );
          });
        },
        terminate() {
          w.terminate();
          URL.revokeObjectURL(url);
        },
        ref() {},
        unref() {},
      };
    },
  };
}

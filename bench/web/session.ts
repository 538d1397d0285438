// The Node side of the browser run (`npm run bench:web`): bundles page.ts with esbuild, serves it
// from 127.0.0.1 with the headers that make a page cross-origin isolated (COOP and COEP: then it
// has SharedArrayBuffer, and threads), starts Debian's Chromium headless through playwright-core
// (never a downloaded browser) with a fresh profile, and gives the harness each contender that
// runs in the page as a remote one (contender.ts's RemoteHost): a page of its own for each exact
// check and each timed setup, as hosted.ts gives a child process.
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import type { Contender, HostKey, RemoteHost, Unavailable } from "../contender";
import type { Variant } from "../layer";
import { PEERS, type PeerStatus } from "../peers/index";
import { peerVersion } from "../peers/resolve";
import type { RepTiming, Runner } from "../runner";
import type { Shape } from "../shapes";
import type { BenchPage, Encoded, Listed, ListRequest, PageInfo } from "./page";

/** Debian's Chromium; the bench never downloads a browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Chromium's flags: no sandbox (containers), no GPU, nothing that talks to the network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // gc() in the page: the harness collects garbage before each repetition (method, point 6).
  "--js-flags=--expose-gc",
];

/**
 * WebGPU on SwiftShader, Chromium's CPU Vulkan driver (as the browser tests start it), added when
 * a webgpu contender is asked for: headless Chromium offers no adapter without them. Its speed is
 * a CPU's, so its rows are a sanity check (report.ts says so beside them).
 */
export const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

const PAGE = fileURLToPath(new URL("./page.ts", import.meta.url));

/**
 * Where each peer package's browser build is loaded from. Most are bundled with the page;
 * onnxruntime-web is imported from its own file as served (its threads start workers from the
 * URL of its own module, and it fetches its WebAssembly beside it), and tfjs's WebAssembly
 * backend is told where its .wasm files are served, and one thread (a cross-origin isolated page
 * gets its threaded build, whose XNNPACK pool would otherwise take every core).
 */
function packagesModule(peersDir: string, custom: readonly string[]): string {
  const lines = ["export const PACKAGES = {};", "export const CUSTOM = {};"];
  const versions: Record<string, string> = {};
  for (const p of new Set(PEERS.flatMap((e) => e.packages))) {
    const v = peerVersion(peersDir, p);
    if (v === undefined) continue;
    versions[p] = v;
    const name = JSON.stringify(p);
    if (p === "onnxruntime-node") continue; // native: no browser build
    if (p === "onnxruntime-web") {
      lines.push(
        `PACKAGES[${name}] = () => import("/peers/onnxruntime-web/dist/ort.bundle.min.mjs");`,
      );
    } else if (p === "@tensorflow/tfjs-backend-wasm") {
      lines.push(
        `PACKAGES[${name}] = async () => { const m = await import(${name}); m.setWasmPaths("/peers/@tensorflow/tfjs-backend-wasm/dist/"); m.setThreadsCount(1); return m; };`,
      );
    } else {
      lines.push(`PACKAGES[${name}] = () => import(${name});`);
    }
  }
  lines.push(`export const VERSIONS = ${JSON.stringify(versions)};`);
  for (const m of custom)
    lines.push(`CUSTOM[${JSON.stringify(m)}] = () => import(${JSON.stringify(m)});`);
  return lines.join("\n");
}

/** Bundles page.ts (and the peers, and the custom modules) into `outDir`, as ES modules. */
async function bundle(outDir: string, peersDir: string, custom: readonly string[]): Promise<void> {
  await build({
    entryPoints: { page: PAGE },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
    external: ["/peers/*"],
    plugins: [
      {
        name: "bench-web-packages",
        setup(b) {
          b.onResolve({ filter: /^bench-web:packages$/ }, () => ({
            path: "packages",
            namespace: "bench-web",
          }));
          // The --custom modules by their absolute paths (whatever folder the peers are in).
          b.onResolve({ filter: /.*/, namespace: "bench-web" }, (args) =>
            custom.includes(args.path) ? { path: args.path } : undefined,
          );
          b.onLoad({ filter: /.*/, namespace: "bench-web" }, () => ({
            contents: packagesModule(peersDir, custom),
            resolveDir: peersDir,
            loader: "js",
          }));
        },
      },
    ],
  });
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
};

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tokenwise bench</title>
<script type="module">
try { await import("/bundle/page.js"); } catch (e) { window.benchError = String(e && e.stack ? e.stack : e); }
</script></head><body>tokenwise bench: driven by npm run bench:web</body></html>`;

/** The file a path under `root` names, or null outside it. */
function inside(root: string, rel: string): string | null {
  const clean = normalize(decodeURIComponent(rel)).replace(/^[/\\]+/, "");
  if (clean.split(sep).includes("..")) return null;
  return join(root, clean);
}

/**
 * Serves the page at /, its bundle under /bundle/, and the peers' packages under /peers/ (their
 * WebAssembly and module files), from 127.0.0.1, every response cross-origin isolating.
 */
async function serve(bundleDir: string, peersDir: string) {
  const packages = new Set(PEERS.flatMap((e) => e.packages));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    let file: string | null = null;
    if (path.startsWith("/bundle/")) file = inside(bundleDir, path.slice("/bundle/".length));
    else if (path.startsWith("/peers/")) {
      const rel = path.slice("/peers/".length);
      const pkg = [...packages].find((p) => rel.startsWith(`${p}/`));
      if (pkg !== undefined) file = inside(join(peersDir, "node_modules"), rel);
    }
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
      "Cache-Control": "no-store",
    };
    if (path === "/") {
      res.writeHead(200, { ...headers, "Content-Type": TYPES[".html"] }).end(HTML);
      return;
    }
    const stat = file === null ? undefined : statSync(file, { throwIfNoEntry: false });
    if (file === null || stat === undefined || !stat.isFile()) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`404: ${path}`);
      return;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": String(stat.size),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The browser a run used, for the report's provenance. */
export interface BrowserInfo extends PageInfo {
  /** "Chromium", and its version (CDP's Browser.getVersion, whose product says "Chrome"). */
  product: string;
  version: string;
  /** The V8 in it. */
  v8: string;
  executablePath: string;
  args: string[];
}

function decode(e: Encoded): unknown {
  if ("f32" in e) {
    const bytes = Buffer.from(e.f32, "base64");
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  }
  return e.other;
}

/** The message of a page's error, without playwright's wrapping and call log. */
function pageError(e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  const first = text.split("\n")[0] ?? text;
  return new Error(first.replace(/^page\.evaluate: ([A-Za-z]*Error: )?/, ""));
}

/** Calls one of the page's functions (page.ts's BenchPage) with its argument. */
async function call<T>(page: Page, op: keyof BenchPage, arg?: unknown): Promise<T> {
  try {
    return (await page.evaluate(
      ({ op, arg }) =>
        ((window.bench as BenchPage)[op] as (a: unknown) => unknown)(arg) as Promise<unknown>,
      { op, arg },
    )) as T;
  } catch (e) {
    throw pageError(e);
  }
}

/** One contender's page, timed by the harness. */
class PageRunner implements Runner {
  readonly #page: Page;

  constructor(page: Page) {
    this.#page = page;
  }

  async first(): Promise<{ output: unknown; ms: number }> {
    const r = await call<{ output: Encoded; ms: number }>(this.#page, "first");
    return { output: decode(r.output), ms: r.ms };
  }

  async each(): Promise<unknown[]> {
    return (await call<Encoded[]>(this.#page, "each")).map(decode);
  }

  time(calls: number): Promise<RepTiming> {
    return call<RepTiming>(this.#page, "time", calls);
  }

  async dispose(): Promise<void> {
    try {
      await call(this.#page, "dispose");
    } finally {
      await this.#page.close();
    }
  }
}

export interface BrowserRun {
  info: BrowserInfo;
  /**
   * The contenders that run in the page, and the peers' status (as loadPeers gives it). Once: the
   * page that lists them closes after.
   */
  list(req: ListRequest): Promise<{ contenders: (Contender | Unavailable)[]; peers: PeerStatus[] }>;
  close(): Promise<void>;
}

/**
 * Bundles the page, serves it, starts Chromium; the returned run lists the contenders and makes
 * each a remote one. Close it when done.
 */
export async function openBrowserRun(options: {
  peersDir: string;
  custom: readonly string[];
  /** A webgpu contender is asked for: start Chromium with WEBGPU_ARGS. */
  webgpu?: boolean;
}): Promise<BrowserRun> {
  const webgpu = options.webgpu === true;
  const args = webgpu ? [...CHROMIUM_ARGS, ...WEBGPU_ARGS] : CHROMIUM_ARGS;
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `bench:web: no Chromium at ${CHROMIUM}. Run scripts/ensure-chromium.sh (as root it installs Debian's chromium package); the bench never downloads a browser.`,
    );
  }
  const work = mkdtempSync(join(tmpdir(), "tokenwise-bench-web-"));
  const closers: (() => Promise<void>)[] = [
    async () => rmSync(work, { recursive: true, force: true }),
  ];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    await bundle(join(work, "bundle"), options.peersDir, options.custom);
    const server = await serve(join(work, "bundle"), options.peersDir);
    closers.push(server.close);
    const context: BrowserContext = await chromium.launchPersistentContext(join(work, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args,
    });
    closers.push(() => context.close());

    const open = async (): Promise<Page> => {
      const page = await context.newPage();
      try {
        const response = await page.goto(`${server.origin}/`);
        if (response?.status() !== 200) throw new Error(`bench page: HTTP ${response?.status()}`);
        await page.waitForFunction(() => window.bench !== undefined || window.benchError);
        const failed = await page.evaluate(() => window.benchError);
        if (failed !== undefined) throw new Error(`bench page failed to load: ${failed}`);
      } catch (e) {
        await page.close();
        throw e;
      }
      return page;
    };
    const lobby = await open();
    const pageInfo = await lobby.evaluate((req) => (window.bench as BenchPage).info(req), {
      webgpu,
    });
    const cdp = await context.newCDPSession(lobby);
    const version = (await cdp.send("Browser.getVersion")) as {
      product: string;
      jsVersion: string;
    };
    await cdp.detach();
    const info: BrowserInfo = {
      ...pageInfo,
      product: "Chromium",
      version: version.product.split("/")[1] ?? version.product,
      v8: version.jsVersion,
      executablePath: CHROMIUM,
      args,
    };
    // A row on a software adapter says so in its label, wherever the row is shown.
    const adapter = info.webgpu;
    const onCpu = adapter !== undefined && "software" in adapter && adapter.software;

    const remote = (key: HostKey): RemoteHost => ({
      where: "Chromium",
      async start(shape: Shape, seed: number, variant: Variant) {
        const page = await open();
        try {
          await call(page, "setup", { key, shape, seed, variant });
        } catch (e) {
          await page.close();
          throw e;
        }
        return new PageRunner(page);
      },
      async exact(shape: Shape, seed: number, variant: Variant, budget: number) {
        const page = await open();
        try {
          return (await call<Encoded[]>(page, "exact", { key, shape, seed, variant, budget })).map(
            decode,
          );
        } finally {
          await page.close();
        }
      },
    });

    return {
      info,
      async list(req) {
        // The lobby loaded every peer and probed the thread counts: it closes before any timing.
        const { contenders, peers } = await call<{ contenders: Listed[]; peers: PeerStatus[] }>(
          lobby,
          "list",
          req,
        ).finally(() => lobby.close());
        return {
          peers,
          contenders: contenders.map((c): Contender | Unavailable =>
            "reason" in c
              ? c
              : {
                  id: c.id,
                  label: c.webgpu !== null && onCpu ? `${c.label} (software GPU)` : c.label,
                  group: c.group,
                  threads: c.threads,
                  native: c.native,
                  ...(c.library === null ? {} : { library: `${c.library}, in Chromium` }),
                  ...(c.webgpu === null ? {} : { webgpu: c.webgpu }),
                  host: c.key,
                  remote: remote(c.key),
                  setup() {
                    throw new Error(`${c.id} runs in Chromium: the harness uses its remote host`);
                  },
                },
          ),
        };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

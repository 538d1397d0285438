// A small static server for the browser tests and the demo (node:http, no dependencies).
//
// Every URL is /<mode>/<path>. The mode picks the response headers (MODES below); the path is a
// file of the repository under one of ROOTS. Because the layout under a mode is the repository's
// own, relative imports work unchanged: test/browser/pages/harness.js imports
// ../../../dist/index.js and examples/browser/main.js imports ../../dist/index.js, the built ESM
// bundle a user would import. Responses are never cached, so a rebuild is seen at once.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

const ISOLATED = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/** The header sets, one per URL prefix. */
export const MODES = {
  /** No special headers: not cross-origin isolated, so no SharedArrayBuffer. */
  plain: {},
  /** COOP + COEP: cross-origin isolated, SharedArrayBuffer available (threads). */
  isolated: ISOLATED,
  /** Forbids eval, new Function and WebAssembly compilation (no 'wasm-unsafe-eval'). */
  "csp-strict": { "Content-Security-Policy": "default-src 'self'; script-src 'self'" },
  /** Forbids eval and new Function, allows WebAssembly. */
  "csp-wasm": {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'",
  },
  /** Cross-origin isolated, but its policy forbids blob: workers (worker-src falls back to script-src). */
  "isolated-no-blob": {
    ...ISOLATED,
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'",
  },
} as const satisfies Record<string, Record<string, string>>;

/** A key of {@link MODES}. */
export type Mode = keyof typeof MODES;

/** The only directories served, relative to the repository root. */
export const ROOTS = ["dist/", "test/browser/pages/", "examples/browser/"] as const;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface ServerOptions {
  /** The repository root. */
  root: string;
  /** Default 0: any free port. */
  port?: number;
  /** Where `/` redirects, e.g. "/isolated/examples/browser/". */
  index?: string;
}

export interface StaticServer {
  /** e.g. "http://127.0.0.1:40123", no trailing slash. */
  readonly origin: string;
  /** The URL of a repository path under a mode: `url("plain", "test/browser/pages/harness.html")`. */
  url(mode: Mode, path: string): string;
  close(): Promise<void>;
}

/** The file a request path names, or null if it is outside the served roots. */
function resolve(root: string, path: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null; // a malformed escape
  }
  const rel = normalize(decoded).replace(/^[/\\]+/, "");
  if (rel.split(sep).includes("..")) return null;
  const posix = rel.split(sep).join("/");
  if (!ROOTS.some((r) => posix.startsWith(r))) return null;
  return join(root, rel, posix.endsWith("/") ? "index.html" : "");
}

/**
 * Starts the server on 127.0.0.1.
 *
 * @returns the running server; call close() when done
 */
export async function startServer(options: ServerOptions): Promise<StaticServer> {
  const { root, port = 0, index } = options;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === "/" && index !== undefined) {
      res.writeHead(302, { Location: index }).end();
      return;
    }
    const [, mode = "", ...rest] = url.pathname.split("/");
    const headers: Record<string, string> | undefined = Object.hasOwn(MODES, mode)
      ? MODES[mode as Mode]
      : undefined;
    const file = headers === undefined ? null : resolve(root, rest.join("/"));
    const stat = file === null ? undefined : statSync(file, { throwIfNoEntry: false });
    if (headers === undefined || file === null || stat === undefined || !stat.isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(`404: ${url.pathname} (served: /<${Object.keys(MODES).join("|")}>/<${ROOTS}>...)`);
      return;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": String(stat.size),
      "Cache-Control": "no-store",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (mode, path) => `${origin}/${mode}/${path.replace(/^\//, "")}`,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : ok()));
      }),
  };
}

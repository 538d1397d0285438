// The code each worker runs, as text: a Node worker is started from it with { eval: true },
// a browser worker from a blob: URL, so the package needs no separate file to be served. It is
// plain JavaScript with no imports; the constants are spliced in from protocol.ts.
import * as P from "./protocol";

export const WORKER_SOURCE = `"use strict";
const GEN = ${P.GEN}, CMD = ${P.CMD}, ROWS = ${P.ROWS}, ARRIVE = ${P.ARRIVE}, ERROR = ${P.ERROR};
const HEART = ${P.HEART}, FAULT = ${P.FAULT}, MESSAGE_LENGTH = ${P.MESSAGE_LENGTH};
const SHIFT = ${P.SHIFT}, STARTED = ${P.STARTED};
const MESSAGE_AT = ${P.MESSAGE_AT}, MESSAGE_MAX = ${P.MESSAGE_MAX}, EXIT = ${P.EXIT};
const SPIN = ${P.SPIN}, CHUNK = 16;
let port, quit;
if (typeof self === "undefined") {
  const wt = require("node:worker_threads");
  port = wt.parentPort;
  quit = () => process.exit(1);
  port.once("message", start);
} else {
  port = self;
  quit = () => self.close();
  self.onmessage = (e) => { self.onmessage = null; start(e.data); };
}

function start(init) {
  const { module, memory, id, n, L } = init;
  const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
  const c = new Int32Array(memory.buffer, L.ctrl, 64);
  const bytes = new Uint8Array(memory.buffer, L.ctrl + MESSAGE_AT, MESSAGE_MAX);

  // Panels in groups of CHUNK: the same sums as one call (columns are independent), and a
  // heartbeat between groups for the blocked caller's watchdog.
  // x is in row pairs (see copyPairsIn); pair writes out in pairs too, for the next map.
  function linear(x, lda, rows, K, w, p0, p1, bias, relu, pair, out, ldo) {
    for (let p = p0; p < p1; p += CHUNK) {
      const p2 = Math.min(p1, p + CHUNK);
      gemm(x, lda, rows, K, w, K * 64, p, p2, bias, relu ? 1 : 0, pair ? 1 : 0, out, ldo);
      Atomics.add(c, HEART, 1);
    }
  }
  // Participant p of n takes panels [floor(P p / n), floor(P (p + 1) / n)): output columns,
  // never k. In a job run by a blocking caller, the caller is participant 0 and worker w is
  // participant w + 1 (SHIFT = 1), so the last worker sits it out; otherwise worker w is w.
  const lo = (P, p) => Math.floor((P * p) / n);
  const hi = (P, p) => Math.floor((P * (p + 1)) / n);
  // ARRIVE only ever grows (wrapping at 2^32): job g's barrier is at 2n(g-1) + n and it is
  // done at 2n g, so no one resets a counter that a slow worker may still be reading.
  const reached = (v, target) => ((v - target) | 0) >= 0;
  function arrive() {
    const mine = (Atomics.add(c, ARRIVE, 1) + 1) | 0;
    Atomics.notify(c, ARRIVE);
    return mine;
  }
  // Waits spin first: a futex sleep and wake costs tens of microseconds, a whole decode step
  // costs a few hundred, and the other side is usually about to arrive.
  function barrier(target) {
    arrive();
    for (let spin = 0; ; spin++) {
      const v = Atomics.load(c, ARRIVE);
      if (reached(v, target)) return;
      if (spin >= SPIN) Atomics.wait(c, ARRIVE, v);
    }
  }
  function fail(e) {
    if (Atomics.compareExchange(c, ERROR, 0, id + 1) !== 0) return;
    const text = new TextEncoder().encode(String((e && e.message) || e)).slice(0, MESSAGE_MAX);
    bytes.set(text);
    c[MESSAGE_LENGTH] = text.length;
  }

  Atomics.add(c, STARTED, 1);
  port.postMessage({ ready: id });
  let gen = 0;
  for (let spin = 0; ; spin++) {
    const g = Atomics.load(c, GEN);
    if (g === gen) {
      if (spin >= SPIN) Atomics.wait(c, GEN, gen);
      continue;
    }
    gen = g;
    if (c[CMD] === EXIT) return;
    const shift = c[SHIFT];
    const p = id + shift;
    if (p >= n) { spin = SPIN; continue; } // not in this job: back to sleep at once
    spin = 0;
    const rows = c[ROWS];
    const half = Math.imul(2 * n, gen - 1) + n;
    let failed = false;
    try {
      if (c[FAULT] === -(id + 1)) quit();
      if (c[FAULT] === id + 1) throw new Error("fault injected by a test");
      linear(L.poolX, L.dModel * 4, rows, L.dModel, L.w1, lo(L.p1, p), hi(L.p1, p), L.b1, true,
             true, L.poolHidden, L.hPad * 4);
    } catch (e) { failed = true; fail(e); }
    barrier(half);
    if (Atomics.load(c, CMD) === EXIT) return; // the pool was retired while we waited
    try {
      if (!failed) linear(L.poolHidden, L.hPad * 4, rows, L.dHidden, L.w2, lo(L.p2, p),
                          hi(L.p2, p), L.b2, false, false, L.poolOut, L.dPad * 4);
    } catch (e) { fail(e); }
    // The last to finish tells a caller that awaits (forwardAsync); a blocking caller watches
    // ARRIVE instead, so a blocking call sends no message and allocates nothing.
    if (arrive() === ((half + n) | 0) && shift === 0) port.postMessage({ done: gen });
  }
}
`;

// The demo: each word's journey through a real tokenwise FeedForward layer, as heat strips.
// Plain ES module, no framework, no bundler: it imports the package's built ESM entry.
import { FeedForward, matmul, matrix, relu } from "../../dist/index.js";
import { embed as embedWord } from "./words.js";

const D_MODEL = 16;
const D_HIDDEN = 64;
const MAX_TOKENS = 10;
const WORDS = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "sofa", "quietly"];
const EXAMPLES = ["the cat sat on the mat", "the dog sat on the mat", "to be or not to be"];

const $ = (id) => document.getElementById(id);
const app = $("app");
const state = { ffn: null, seed: 42, previous: null, runs: 0, timer: 0, selected: 0, last: null };

// --- the numbers ----------------------------------------------------------------------------

/** A word's input vector: D_MODEL numbers in [-1, 1] drawn from Random(hash(word)). */
function embed(word) {
  return embedWord(word, D_MODEL);
}

/** m with a column of ones appended: [m 1]. */
function withOnes(m) {
  const out = matrix(m.rows, m.cols + 1);
  for (let i = 0; i < m.rows; i++) {
    out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), i * (m.cols + 1));
    out.data[i * (m.cols + 1) + m.cols] = 1;
  }
  return out;
}

/** w with the bias appended as one more row: [w; b]. Then [x 1]·[w; b] = x·w + b. */
function withBiasRow(w, b) {
  const out = matrix(w.rows + 1, w.cols);
  out.data.set(w.data);
  out.data.set(b, w.rows * w.cols);
  return out;
}

// The js kernel sums each element exactly as matmul does (float64, k in order, rounded once),
// so the step-by-step pictures can be checked against it bit for bit. The layer in use may be
// the wasm kernel, which sums in float32: it agrees within the bound of docs/numerics.md.
const twins = new WeakMap();
function jsTwin(ffn) {
  if (ffn.kernel === "js") return ffn;
  if (!twins.has(ffn)) twins.set(ffn, FeedForward.fromWeights(ffn.weights, { kernel: "js" }));
  return twins.get(ffn);
}

/** Every stage for the batch, from the layer's weights, and the layer's own forward. */
function journey(ffn, words) {
  const x = matrix(words.length, D_MODEL);
  words.forEach((w, i) => x.data.set(embed(w), i * D_MODEL));
  const { w1, b1, w2, b2 } = ffn.weights;
  const expanded = matmul(withOnes(x), withBiasRow(w1, b1)); // x·W1 + b1
  const kept = relu(expanded);
  const stepwise = matmul(withOnes(kept), withBiasRow(w2, b2)); // ·W2 + b2
  const y = ffn.forward(x);
  const yJs = jsTwin(ffn).forward(x);
  return { x, expanded, kept, stepwise, y, yJs };
}

const bitsOf = (f) => new Uint32Array(f.buffer, f.byteOffset, f.length);

function sameBits(a, b) {
  const p = bitsOf(a);
  const q = bitsOf(b);
  return p.length === q.length && p.every((v, i) => v === q[i]);
}

/** Distance in units in the last place between two float32 values of the same sign. */
function ulps(a, b) {
  return Math.abs(bitsOf(new Float32Array([a]))[0] - bitsOf(new Float32Array([b]))[0]);
}

// --- pictures -------------------------------------------------------------------------------

const NEG = [59, 111, 216]; // blue
const ZERO = [246, 246, 244];
const POS = [232, 89, 12]; // orange
const OFF = [30, 41, 59]; // slate: switched off by ReLU

/** A diverging colour: the square root lifts small values so they stay visible. */
function colour(v, max) {
  const t = max > 0 ? Math.min(1, Math.sqrt(Math.abs(v) / max)) : 0;
  const end = v < 0 ? NEG : POS;
  const c = ZERO.map((z, k) => Math.round(z + (end[k] - z) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

const strips = new WeakMap(); // canvas -> what it shows, for the tooltip

/** Draws one heat strip: one cell a value. `off[j]` marks a unit ReLU switched off. */
function drawStrip(canvas, values, max, off) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  const cell = width / values.length;
  const gap = cell >= 8 ? 1 : 0.5;
  for (let j = 0; j < values.length; j++) {
    const x0 = j * cell;
    if (off && off[j]) {
      ctx.fillStyle = `rgb(${OFF.join(", ")})`;
      ctx.fillRect(x0, 0, cell - gap, height);
    } else {
      ctx.fillStyle = colour(values[j], max);
      ctx.fillRect(x0, 0, cell - gap, height);
    }
  }
}

/** Draws values as a grid of squares, `cols` a line; off units dark with a cross. */
function drawCells(canvas, values, cols, max, off, size) {
  const dpr = window.devicePixelRatio || 1;
  const lines = Math.ceil(values.length / cols);
  const gap = 3;
  const width = cols * size + (cols - 1) * gap;
  const height = lines * size + (lines - 1) * gap;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  values.forEach((v, k) => {
    const x0 = (k % cols) * (size + gap);
    const y0 = Math.floor(k / cols) * (size + gap);
    const isOff = off && off[k];
    ctx.fillStyle = isOff ? `rgb(${OFF.join(", ")})` : colour(v, max);
    ctx.beginPath();
    ctx.roundRect(x0, y0, size, size, 3);
    ctx.fill();
    if (isOff) {
      ctx.strokeStyle = "rgb(100, 116, 139)";
      ctx.lineWidth = 1.5;
      const m = size * 0.3;
      ctx.beginPath();
      ctx.moveTo(x0 + m, y0 + m);
      ctx.lineTo(x0 + size - m, y0 + size - m);
      ctx.moveTo(x0 + size - m, y0 + m);
      ctx.lineTo(x0 + m, y0 + size - m);
      ctx.stroke();
    }
  });
}

/** The selected word, step by step, in big squares. */
function spotlight() {
  const last = state.last;
  if (!last) return;
  const i = Math.min(state.selected, last.words.length - 1);
  const { j, scale, words } = last;
  const pick = (m) => m.data.subarray(i * m.cols, (i + 1) * m.cols);
  const expanded = pick(j.expanded);
  const off = Array.from(expanded, (v) => v < 0);
  const offCount = off.filter(Boolean).length;
  $("spot-title").textContent = `“${words[i]}”, step by step`;
  drawCells($("spot-x"), pick(j.x), 4, scale.x, null, 30);
  drawCells($("spot-expanded"), expanded, 8, scale.expanded, null, 17);
  drawCells($("spot-kept"), pick(j.kept), 8, scale.expanded, off, 17);
  drawCells($("spot-y"), pick(j.y), 4, scale.y, null, 30);
  $("spot-x-note").textContent = `${D_MODEL} numbers from the word`;
  const above = expanded.filter((v) => v > 0).length;
  $("spot-expanded-note").textContent = `${above} above zero, ${offCount} below`;
  $("spot-kept-note").textContent = `${offCount} switched off`;
  $("spot-y-note").textContent = `back to ${D_MODEL}`;
  for (const row of document.querySelectorAll(".row")) {
    row.classList.toggle("selected", Number(row.dataset.index) === i);
  }
  $("spot-title").dataset.index = String(i);
}

function maxAbs(m) {
  let max = 0;
  for (const v of m.data) max = Math.max(max, Math.abs(v));
  return max;
}

// --- the page -------------------------------------------------------------------------------

function tokens() {
  return $("sentence").value.trim().split(/\s+/).filter(Boolean).slice(0, MAX_TOKENS);
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render() {
  const words = tokens();
  const ffn = state.ffn;
  const rows = $("rows");
  rows.replaceChildren();
  if (words.length === 0) {
    rows.append(el("p", "empty", "Type a word or two above."));
    state.last = null;
    $("summary").textContent = "";
    $("check").textContent = "";
    state.previous = null;
    finishRun();
    return;
  }
  const j = journey(ffn, words);
  const scale = {
    x: maxAbs(j.x),
    expanded: maxAbs(j.expanded),
    y: maxAbs(j.y),
  };
  const previous = state.previous;
  const statuses = [];
  words.forEach((word, i) => {
    const pick = (m) => m.data.subarray(i * m.cols, (i + 1) * m.cols);
    const x = pick(j.x);
    const expanded = pick(j.expanded);
    const y = pick(j.y);
    const off = Array.from(expanded, (v) => v < 0);
    const offCount = off.filter(Boolean).length;
    const before = previous && previous.seed === state.seed ? previous.rows[i] : undefined;
    const status = before === undefined ? "new" : sameBits(before.y, y) ? "identical" : "changed";
    statuses.push({ status, word, before: before?.word });

    const row = el("div", `grid row ${status}`);
    row.dataset.token = word;
    row.dataset.index = String(i);
    row.dataset.status = status;
    const tok = el("span", "tok");
    const name = el("span", "name");
    name.append(el("span", "word", word));
    // The same word elsewhere in the batch: the same bits, whatever its position.
    const first = words.indexOf(word);
    if (first < i && sameBits(y, j.y.data.subarray(first * D_MODEL, (first + 1) * D_MODEL))) {
      name.append(el("span", "twin", `same bits as #${first + 1}`));
    }
    tok.append(el("span", "idx", String(i + 1)), name);
    row.append(tok);
    const canvases = [
      ["x", x, scale.x, null],
      ["expanded", expanded, scale.expanded, null],
      // Kept units keep their colour: the same scale as the expanded strip.
      ["kept", pick(j.kept), scale.expanded, off],
      ["y", y, scale.y, null],
    ].map(([stage, values, max, offs]) => {
      const c = el("canvas", `strip ${stage}`);
      c.dataset.stage = stage;
      strips.set(c, { word, stage, values, max, off: offs });
      row.append(c);
      return [c, values, max, offs];
    });
    const side = el("span", "side");
    const badge = el(
      "span",
      `badge ${status}`,
      status === "identical" ? "= bitwise identical" : status === "changed" ? "● changed" : "new",
    );
    side.append(badge, el("span", "off-count", `${offCount} of ${D_HIDDEN} units off`));
    // The layer's own count (forwardToken's stats): the share of hidden values that were zero,
    // the rows of W2 its second matmul skipped for this token.
    const stats = { hidden: 0, zeros: 0, zeroShare: 0 };
    ffn.forwardToken(x, undefined, stats);
    const share = el("span", "zero-share", `${Math.round(stats.zeroShare * 100)}% zero, skipped`);
    share.title = `${stats.zeros} of ${stats.hidden} hidden values were zero, so the layer read only the other rows of W2`;
    side.append(share);

    row.append(side);
    row.addEventListener("click", () => {
      state.selected = i;
      spotlight();
    });
    rows.append(row);
    requestAnimationFrame(() => canvases.forEach((args) => drawStrip(...args)));
  });

  summarise(statuses, previous);
  const firstChanged = statuses.findIndex((s) => s.status === "changed");
  if (firstChanged >= 0) state.selected = firstChanged;
  state.last = { words, j, scale };
  spotlight();
  const exact = sameBits(j.stepwise.data, j.yJs.data);
  let worst = 0;
  j.stepwise.data.forEach((v, k) => (worst = Math.max(worst, ulps(v, j.yJs.data[k]))));
  let drift = 0;
  j.y.data.forEach((v, k) => (drift = Math.max(drift, Math.abs(v - j.yJs.data[k]))));
  const kernelNote =
    ffn.kernel === "js"
      ? ""
      : ` The ${ffn.kernel} kernel in use sums in float32: it differs from it by at most ${drift.toExponential(1)}, within the bound of docs/numerics.md.`;
  $("check").className = `check ${exact ? "ok" : "bad"}`;
  $("check").textContent = exact
    ? `✓ The step-by-step y (matmul → relu → matmul on ffn.weights) equals the js kernel's forward bit for bit.${kernelNote}`
    : `✗ The step-by-step y differs from the js kernel's forward by up to ${worst} ulp.`;
  state.previous = {
    seed: state.seed,
    rows: words.map((word, i) => ({ word, y: j.y.data.slice(i * D_MODEL, (i + 1) * D_MODEL) })),
  };
  finishRun();
}

function summarise(statuses, previous) {
  const summary = $("summary");
  const changed = statuses.filter((s) => s.status === "changed");
  const same = statuses.filter((s) => s.status === "identical");
  summary.className = "summary";
  if (!previous) {
    summary.textContent = "Change one word: only its row will change.";
  } else if (previous.seed !== state.seed) {
    summary.textContent = `New layer (seed ${state.seed}): every row is new.`;
  } else if (changed.length === 0 && same.length === statuses.length) {
    summary.textContent = `Nothing changed: all ${same.length} rows bitwise identical.`;
  } else {
    const what = changed.map((s) => (s.before ? `${s.before} → ${s.word}` : s.word)).join(", ");
    const added = statuses.length - changed.length - same.length;
    summary.className = "summary live";
    summary.textContent =
      `${changed.length} row${changed.length === 1 ? "" : "s"} changed${what ? ` (${what})` : ""}` +
      `${added > 0 ? `, ${added} new` : ""}; ` +
      `other rows: ${same.length} bitwise identical to the last run.`;
  }
}

function finishRun() {
  state.runs++;
  app.dataset.run = String(state.runs);
  app.dataset.ready = "true";
  window.clearTimeout(state.timer);
  state.timer = window.setTimeout(
    () => time().catch((e) => ($("timing").textContent = `${e}`)),
    120,
  );
}

/** Times ffn.forward on the current batch for about 40 ms. */
async function time() {
  const words = tokens();
  if (words.length === 0) return;
  const ffn = state.ffn;
  const x = matrix(words.length, D_MODEL);
  words.forEach((w, i) => x.data.set(embed(w), i * D_MODEL));
  const out = matrix(words.length, D_MODEL);
  const threaded = (ffn.threads ?? 1) > 1 && typeof ffn.forwardAsync === "function";
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    if (threaded) await ffn.forwardAsync(x, out);
    else ffn.forward(x, out);
    if (state.ffn !== ffn) return; // a new layer replaced this one meanwhile
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < 40 || runs < 3);
  const perToken = (elapsed * 1000) / (runs * words.length);
  $("timing").textContent =
    perToken < 10 ? `${perToken.toFixed(2)} µs` : `${perToken.toFixed(1)} µs`;
  $("timing").title = `${runs} runs of forward on ${words.length} tokens`;
}

// --- the layer ------------------------------------------------------------------------------

async function makeLayer(seed) {
  const options = { dModel: D_MODEL, dHidden: D_HIDDEN, seed };
  // FeedForward.create (the WebAssembly kernel) and the threads option are newer than the
  // constructor: use them when the package has them.
  if (typeof FeedForward.create !== "function") return new FeedForward(options);
  const threaded = typeof FeedForward.prototype.forwardAsync === "function";
  const threads = Math.min(2, navigator.hardwareConcurrency || 1);
  return FeedForward.create({ ...options, kernel: "auto", ...(threaded ? { threads } : {}) });
}

async function useLayer(seed) {
  const ffn = await makeLayer(seed);
  const old = state.ffn;
  state.ffn = ffn;
  state.seed = seed;
  // Let a timing loop still running on the old layer finish its call before freeing it.
  if (old) window.setTimeout(() => old.dispose(), 500);
  $("kernel").textContent = ffn.kernel;
  $("threads").textContent = String(ffn.threads ?? 1);
  $("threads").title =
    ffn.threadsFallback ?? (ffn.threads ? "" : "this build of tokenwise runs on one thread");
  $("shape").textContent = `${ffn.dModel} → ${ffn.dHidden} → ${ffn.dModel}`;
  $("head-x").textContent = ` · ${D_MODEL}`;
  $("head-h").textContent = ` · ${D_HIDDEN}`;
  $("head-r").textContent = ` · ${D_HIDDEN}`;
  $("head-y").textContent = ` · ${D_MODEL}`;
  render();
}

// --- wiring ---------------------------------------------------------------------------------

function button(text, onClick, className = "chip") {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function setSentence(text) {
  $("sentence").value = text;
  render();
}

$("words").append(
  ...WORDS.map((w) =>
    button(w, () => {
      const now = tokens();
      if (now.length >= MAX_TOKENS) now.pop();
      setSentence([...now, w].join(" "));
    }),
  ),
);
$("examples").append(...EXAMPLES.map((s) => button(`“${s}”`, () => setSentence(s), "chip quote")));
$("sentence").addEventListener("input", render);
$("seed").addEventListener("change", () => {
  const seed = Number($("seed").value);
  // A change event comes again on blur: only a new seed makes a new layer (and re-renders).
  if (Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 && seed !== state.seed) useLayer(seed);
});
$("reseed").addEventListener("click", () => {
  const seed = Math.floor(Math.random() * 1000);
  $("seed").value = String(seed);
  useLayer(seed);
});

// The tooltip: which unit, its value, and whether ReLU switched it off.
const tip = $("tip");
$("rows").addEventListener("mousemove", (e) => {
  const info = strips.get(e.target);
  if (!info) {
    tip.hidden = true;
    return;
  }
  const rect = e.target.getBoundingClientRect();
  const j = Math.min(
    info.values.length - 1,
    Math.floor(((e.clientX - rect.left) / rect.width) * info.values.length),
  );
  const names = { x: "input", expanded: "x·W1 + b1", kept: "after ReLU", y: "output" };
  const off = info.off && info.off[j] ? " · switched off" : "";
  tip.textContent = `“${info.word}” ${names[info.stage]} [${j}] = ${info.values[j].toPrecision(4)}${off}`;
  tip.style.left = `${e.clientX + 12}px`;
  tip.style.top = `${e.clientY + 14}px`;
  tip.hidden = false;
});
$("rows").addEventListener("mouseleave", () => (tip.hidden = true));
window.addEventListener("resize", () => {
  for (const c of document.querySelectorAll("canvas.strip")) {
    const info = strips.get(c);
    if (info) drawStrip(c, info.values, info.max, info.off);
  }
});

useLayer(Number($("seed").value)).catch((e) => {
  app.dataset.error = String(e);
  $("summary").textContent = `Could not start: ${e}`;
});

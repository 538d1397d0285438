// The routing card: the same words through a MixtureOfExperts layer. Each word's router picks
// its top 2 of 8 experts; the grid shows which, with their weights, and checks that a word
// routed alone gets the very experts and weights (and output bits) it gets in the batch.
import { MixtureOfExperts, matrix } from "../../dist/index.js";
import { embed } from "./words.js";

const D_MODEL = 16;
const EXPERTS = 8;
const TOP_K = 2;
const MAX_TOKENS = 10;

const $ = (id) => document.getElementById(id);
const card = $("routing");
let runs = 0;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const bitsOf = (f) => new Uint32Array(f.buffer, f.byteOffset, f.length);
const sameBits = (a, b) => bitsOf(a).every((v, i) => v === bitsOf(b)[i]);

function words() {
  return $("sentence").value.trim().split(/\s+/).filter(Boolean).slice(0, MAX_TOKENS);
}

function render(moe) {
  const list = words();
  const grid = $("routes");
  grid.replaceChildren();
  const head = el("div", "route-row head");
  head.append(el("span", "", "token"));
  for (let e = 0; e < EXPERTS; e++) head.append(el("span", "", `expert ${e}`));
  head.append(el("span", "", "alone"));
  grid.append(head);
  if (list.length > 0) {
    const x = matrix(list.length, D_MODEL);
    list.forEach((w, i) => x.data.set(embed(w, D_MODEL), i * D_MODEL));
    const r = moe.route(x);
    const y = moe.forward(x);
    let agree = 0;
    list.forEach((word, t) => {
      const row = el("div", "route-row");
      row.dataset.token = word;
      row.append(el("span", "word", word));
      const chosen = new Map();
      for (let j = 0; j < TOP_K; j++) {
        chosen.set(r.experts[t * TOP_K + j], r.weights[t * TOP_K + j]);
      }
      for (let e = 0; e < EXPERTS; e++) {
        const w = chosen.get(e);
        const cell = el("span", w === undefined ? "expert" : "expert chosen");
        if (w !== undefined) {
          cell.textContent = w.toFixed(2);
          cell.dataset.weight = String(w);
          cell.style.setProperty("--w", String(w));
          cell.title = `expert ${e}: weight ${w}`;
        }
        row.append(cell);
      }
      // The word by itself: the same experts, weights and output, to the bit.
      const one = matrix(1, D_MODEL, x.data.slice(t * D_MODEL, (t + 1) * D_MODEL));
      const alone = moe.route(one);
      const same =
        Array.from(alone.experts).every((e, j) => e === r.experts[t * TOP_K + j]) &&
        sameBits(alone.weights, r.weights.subarray(t * TOP_K, (t + 1) * TOP_K)) &&
        sameBits(moe.forward(one).data, y.data.subarray(t * D_MODEL, (t + 1) * D_MODEL));
      if (same) agree++;
      const check = el(
        "span",
        same ? "alone same" : "alone differs",
        same ? "same bits" : "differs",
      );
      row.append(check);
      grid.append(row);
    });
    $("routes-check").textContent =
      `${agree} of ${list.length} words routed alone get the same experts, weights and output bits as in the batch.`;
  } else {
    $("routes-check").textContent = "";
  }
  runs++;
  card.dataset.run = String(runs);
}

async function start() {
  const moe = await MixtureOfExperts.create({
    dModel: D_MODEL,
    dHidden: 32,
    experts: EXPERTS,
    topK: TOP_K,
    seed: 7,
    threads: 1,
  });
  $("routing-shape").textContent =
    `${EXPERTS} experts of ${D_MODEL} → ${moe.dHidden} → ${D_MODEL}, top ${TOP_K}, ${moe.kernel}`;
  // Re-route whenever the page has re-run its layer (it counts its runs in #app's data-run).
  new MutationObserver(() => render(moe)).observe($("app"), {
    attributes: true,
    attributeFilter: ["data-run"],
  });
  render(moe);
  card.dataset.ready = "true";
}

start().catch((e) => {
  $("routes-check").textContent = `could not build the mixture: ${e}`;
});

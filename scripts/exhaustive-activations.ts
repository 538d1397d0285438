// Every float32 bit pattern (all 2^32) through the WebAssembly kernel's `act` and through the
// JavaScript functions of src/kernels/activation.ts, compared bit for bit; NaN results count
// apart (their payloads are nobody's contract). Takes minutes, so it is not part of `npm test`:
// run it after changing either side, `npm run verify:activations [gelu|geluTanh|silu]`.
import {
  ACTIVATIONS,
  ACTIVATION_WASM,
  type ActivationName,
  activateRange,
} from "../src/kernels/activation";
import { allocateMemory } from "../src/kernels/wasm/kernel";
import { type GemmExports, activatePanels } from "../src/kernels/wasm/panels";
import { layout } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";

const CHUNK = 1 << 22;
const asked = process.argv.slice(2) as ActivationName[];
const names = asked.length > 0 ? asked : ACTIVATIONS.filter((a) => a !== "relu");

// One token of dHidden = CHUNK: the hidden row is the buffer `act` works on.
const lay = layout(1, CHUNK, 1, false);
const memory = allocateMemory(lay, false);
const { act } = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
  .exports as unknown as GemmExports;
const wasm = new Float32Array(memory.buffer, lay.hidden[0] as number, CHUNK);
const wasmBits = new Uint32Array(memory.buffer, lay.hidden[0] as number, CHUNK);
const js = new Float32Array(CHUNK);
const jsBits = new Uint32Array(js.buffer);

let failed = false;
for (const name of names) {
  const t0 = performance.now();
  let differ = 0;
  let nan = 0;
  for (let base = 0; base < 2 ** 32; base += CHUNK) {
    for (let i = 0; i < CHUNK; i++) jsBits[i] = base + i;
    wasmBits.set(jsBits);
    activateRange(js, 0, CHUNK, name);
    activatePanels(act, lay, lay.hidden[0] as number, 1, 0, lay.p1, ACTIVATION_WASM[name]);
    for (let i = 0; i < CHUNK; i++) {
      if (jsBits[i] === wasmBits[i]) continue;
      if (Number.isNaN(js[i]) && Number.isNaN(wasm[i])) nan++;
      else if (differ++ < 5) {
        const x = (base + i).toString(16).padStart(8, "0");
        console.log(
          `${name}(0x${x}): js 0x${jsBits[i]?.toString(16)}, wasm 0x${wasmBits[i]?.toString(16)}`,
        );
      }
    }
  }
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`${name}: ${differ} of 2^32 inputs differ (NaN payloads apart: ${nan}), ${s} s`);
  failed ||= differ > 0;
}
process.exitCode = failed ? 1 : 0;

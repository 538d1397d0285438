// Benches the example kernel from a script, with the bench's API:
//
//   npx tsx --expose-gc docs/examples/bench-custom-kernel.ts
//
// The kernel is given as a module path, so the harness can also measure its memory in a child
// process; an in-memory kernel object works too (contenders: [myKernel]), without the memory probe.
import { fileURLToPath } from "node:url";
import { benchmark } from "../../bench/api";

const report = await benchmark({
  shapes: ["S2", "16x256x1024"],
  contenders: [{ module: fileURLToPath(new URL("./custom-kernel.ts", import.meta.url)) }],
  peers: ["tfjs-wasm", "ort-web"], // reported as unavailable if bench/node_modules is not installed
  reps: 5,
  log: (line) => console.error(line),
});

for (const shape of report.shapes) {
  for (const r of shape.results) {
    const t = r.timing;
    console.log(
      `${shape.name.padEnd(12)} ${r.label.padEnd(24)} ${r.status.padEnd(11)}`,
      t === undefined
        ? (r.reason ?? "")
        : `${t.gflops.toFixed(2)} GFLOP/s, ${t.msPerToken.toFixed(3)} ms/token`,
    );
  }
}

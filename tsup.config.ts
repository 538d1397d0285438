import { defineConfig } from "tsup";

export default defineConfig({
  // "node" is the Node-only entry (tokenwise/node); "index" must stay free of Node built-ins.
  entry: { index: "src/index.ts", node: "src/node.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  // Both entries share one copy of the safetensors code (in a chunk), so a SafetensorsError
  // thrown by tokenwise/node is an instance of the class tokenwise exports, in ESM and in CJS.
  splitting: true,
  external: [/^node:/],
  treeshake: true,
});

import { defineConfig } from "tsup";

export default defineConfig({
  // "node" is the Node-only entry (tokenwise/node); "index" must stay free of Node built-ins.
  entry: { index: "src/index.ts", node: "src/node.ts" },
  format: ["esm", "cjs"],
  dts: {
    // The types use Symbol.dispose (the layers are Disposable), which TypeScript declares in its
    // esnext.disposable lib: a consumer whose lib stops at ES2022 would fail with TS2550 on our
    // d.ts files. This directive brings that lib in for them. tsup's bundler drops a
    // `/// <reference lib>` written in src/, so it goes at the top of every d.ts file here.
    banner: '/// <reference lib="esnext.disposable" />',
  },
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  // Both entries share one copy of the safetensors code (in a chunk), so a SafetensorsError
  // thrown by tokenwise/node is an instance of the class tokenwise exports, in ESM and in CJS.
  splitting: true,
  // Every chunk is named chunk-<hash>, the webgpu kernel's too (loaded on demand by a dynamic
  // import): the package tests tell the package's own chunks from other imports by that name.
  esbuildOptions(options) {
    options.chunkNames = "chunk-[hash]";
  },
  external: [/^node:/],
  treeshake: true,
});

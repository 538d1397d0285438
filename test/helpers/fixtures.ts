// Reading the committed fixtures (test/fixtures/, made by scripts/fixtures/).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function readFixture<T>(path: string): T {
  const url = new URL(`../fixtures/${path}`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), "utf8")) as T;
}

/** Float32 values from little-endian bytes in base64. */
export function decodeF32(text: string): Float32Array {
  const bytes = Buffer.from(text, "base64");
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Float32 values from big-endian hex bit patterns, e.g. "3f800000" for 1. */
export function fromHex(hex: readonly string[]): Float32Array {
  return new Float32Array(new Uint32Array(hex.map((h) => parseInt(h, 16))).buffer);
}

// Reads test/fixtures/activations.bin, made by scripts/fixtures/make_activation_fixtures.py
// (which documents the layout): the sample points x, PyTorch's outputs and the true values.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface ActivationFixture {
  n: number;
  x: Float32Array;
  torch: { gelu: Float32Array; geluTanh: Float32Array; silu: Float32Array; sigmoid: Float32Array };
  truth: {
    gelu: Float32Array;
    geluTanh: Float32Array;
    silu: Float32Array;
    sigmoid: Float32Array;
    erf: Float32Array;
  };
  meta: Record<string, unknown>;
}

const MAGIC = "tokenwise-act-v1";

export function loadActivationFixture(): ActivationFixture {
  const dir = new URL("../fixtures/", import.meta.url);
  const bytes = gunzipSync(readFileSync(new URL("activations.bin", dir)));
  const meta = JSON.parse(readFileSync(new URL("activations.json", dir), "utf8")) as Record<
    string,
    unknown
  >;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) throw new Error(`activations.bin: bad magic ${magic}`);
  const n = view.getUint32(16, true);
  const columns = view.getUint32(20, true);
  if (columns !== 10 || bytes.length !== 64 + columns * n * 4) {
    throw new Error(`activations.bin: ${columns} columns of ${n} do not fit ${bytes.length} bytes`);
  }
  // Each column is byte-shuffled: its n first bytes, then its n second bytes, and so on.
  const column = (c: number): Float32Array => {
    const out = new Float32Array(n);
    const dv = new DataView(out.buffer);
    const base = 64 + c * n * 4;
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < 4; b++) dv.setUint8(i * 4 + b, bytes[base + b * n + i] as number);
    }
    // The file is little-endian; reread through a DataView so big-endian hosts agree.
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  };
  return {
    n,
    x: column(0),
    torch: { gelu: column(1), geluTanh: column(2), silu: column(3), sigmoid: column(4) },
    truth: {
      gelu: column(5),
      geluTanh: column(6),
      silu: column(7),
      sigmoid: column(8),
      erf: column(9),
    },
    meta,
  };
}

export interface Float64Fixture {
  n: number;
  x: Float64Array;
  erf: Float64Array;
  erfc: Float64Array;
  gelu: Float64Array;
  geluTanh: Float64Array;
  silu: Float64Array;
  sigmoid: Float64Array;
  geluGrad: Float64Array;
  geluTanhGrad: Float64Array;
  siluGrad: Float64Array;
}

/** Reads test/fixtures/activations64.bin: float64 true values at 2048 float32 points. */
export function loadFloat64Fixture(): Float64Fixture {
  const bytes = gunzipSync(readFileSync(new URL("../fixtures/activations64.bin", import.meta.url)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 16));
  if (magic !== "tokenwise-act-64") throw new Error(`activations64.bin: bad magic ${magic}`);
  const n = view.getUint32(16, true);
  const columns = view.getUint32(20, true);
  if (columns !== 10 || bytes.length !== 64 + columns * n * 8) {
    throw new Error(
      `activations64.bin: ${columns} columns of ${n} do not fit ${bytes.length} bytes`,
    );
  }
  const column = (c: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(64 + (c * n + i) * 8, true);
    return out;
  };
  return {
    n,
    x: column(0),
    erf: column(1),
    erfc: column(2),
    gelu: column(3),
    geluTanh: column(4),
    silu: column(5),
    sigmoid: column(6),
    geluGrad: column(7),
    geluTanhGrad: column(8),
    siluGrad: column(9),
  };
}

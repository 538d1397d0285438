// A kernel's stored weights as float32 values, whatever their type: what a layer's `weights`,
// its backward and a mixture's experts read.
import { is16, isQuant, widenInto } from "../dtype";
import { type LayerShape, type MapTensors, type StoredTensors, mapDims } from "./kernel";
import { dequantizeMap } from "./quant";

/**
 * Stored tensors of a shape as float32 MapTensors: float32 weights as they are, 16-bit ones
 * widened (exact), a quantized layer's blocks dequantized (each weight d · q, as ggml does), in
 * new arrays.
 */
export function float32Maps(stored: readonly StoredTensors[], shape: LayerShape): MapTensors[] {
  const dtype = shape.dtype;
  return stored.map(({ w, b }, i) => {
    if (w instanceof Float32Array) return { w, b };
    if (isQuant(dtype)) {
      const { rows, cols } = mapDims(shape, i);
      return { w: dequantizeMap(w as Uint8Array, dtype, rows, cols), b };
    }
    if (!is16(dtype)) throw new Error(`unexpected stored weights for dtype ${dtype}`);
    return { w: widenInto(dtype, w as Uint16Array, new Float32Array(w.length)), b };
  });
}

// Float32 data (and 16-bit weights' bits) as little-endian bytes in base64, for JSON that
// round-trips bit for bit (NaN payloads and -0 included, which JSON numbers cannot carry).
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function leBytes(data: Float32Array | Uint16Array | Uint8Array): Uint8Array {
  if (LITTLE_ENDIAN || data instanceof Uint8Array)
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  if (data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) view.setUint16(i * 2, data[i] as number, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  }
  return bytes;
}

/** Float32 values, 16-bit values' bits, or bytes, as little-endian bytes in base64. */
export function encodeFloat32(data: Float32Array | Uint16Array | Uint8Array): string {
  const bytes = leBytes(data);
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = "";
    for (let i = start; i < end; i += 3) {
      const a = bytes[i] as number;
      const b = i + 1 < end ? (bytes[i + 1] as number) : 0;
      const c = i + 2 < end ? (bytes[i + 2] as number) : 0;
      const n = (a << 16) | (b << 8) | c;
      s += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
      s += i + 1 < end ? ALPHABET[(n >> 6) & 63]! : "=";
      s += i + 2 < end ? ALPHABET[n & 63]! : "=";
    }
    parts.push(s);
  }
  return parts.join("");
}

/** Decodes base64 into bytes; returns null when the text is not valid base64. */
export function decodeBytes(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const byteLength = (text.length / 4) * 3 - pad;
  const bytes = new Uint8Array(byteLength);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const ch = text.charCodeAt(i + j);
      const padding = ch === 61 /* = */ && i + j >= text.length - pad;
      const v = padding ? 0 : ch < 128 ? (LOOKUP[ch] as number) : -1;
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    if (o < byteLength) bytes[o++] = (n >> 16) & 255;
    if (o < byteLength) bytes[o++] = (n >> 8) & 255;
    if (o < byteLength) bytes[o++] = n & 255;
  }
  return bytes;
}

/** Decodes base64 into float32 values; returns null when the text is not `length` floats. */
export function decodeFloat32(text: string, length: number): Float32Array | null {
  const bytes = decodeBytes(text);
  if (bytes === null || bytes.length !== length * 4) return null;
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer);
  const out = new Float32Array(length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Decodes base64 into 16-bit values; returns null when the text is not `length` of them. */
export function decodeUint16(text: string, length: number): Uint16Array | null {
  const bytes = decodeBytes(text);
  if (bytes === null || bytes.length !== length * 2) return null;
  if (LITTLE_ENDIAN) return new Uint16Array(bytes.buffer);
  const out = new Uint16Array(length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}

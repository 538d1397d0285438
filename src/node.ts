/**
 * tokenwise/node: loading safetensors files from disk in Node. Everything else, parsing
 * included, is in the main entry, which runs in browsers too.
 *
 * @packageDocumentation
 * @module tokenwise/node
 */
import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SafetensorsError,
  parseSafetensors,
  parseShardedSafetensors,
  type SafetensorsFile,
  type ShardedSafetensors,
} from "./io/safetensors";

// fs.readFile refuses files over 2 GiB; a checkpoint shard is often larger, so read in parts.
const CHUNK = 1 << 30;

function toPath(path: unknown, where: string): string {
  if (typeof path === "string") return path;
  if (path instanceof URL) return fileURLToPath(path);
  throw new TypeError(`${where}: path must be a string or a file: URL, got ${typeof path}`);
}

/**
 * A whole file's bytes. The buffer is sized by the file's length on disk, never by what the
 * file says of itself.
 *
 * @param path - the file
 * @returns its bytes
 */
async function readBytes(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(size);
    } catch (cause) {
      throw new RangeError(`cannot allocate ${size} bytes to read ${path}`, { cause });
    }
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(size - at, CHUNK), at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== size) throw new Error(`${path} shrank from ${size} to ${at} bytes while being read`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Reads and parses a safetensors file: {@link parseSafetensors} on the file's bytes, with every
 * one of its checks. Files over 2 GiB are read too.
 *
 * @param path - the file, a path or a `file:` URL
 * @returns the tensors and metadata; each tensor's data is a view of one buffer holding the file
 * @throws TypeError if `path` is neither a string nor a URL
 * @throws Error from `node:fs` if the file cannot be read (its `code` is `ENOENT` when it does
 *   not exist)
 * @throws {@link tokenwise!SafetensorsError} if the file is not a valid safetensors file; the message
 *   names the file
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { serializeSafetensors } from "tokenwise";
 * import { loadSafetensors } from "tokenwise/node";
 * const path = join(tmpdir(), "one.safetensors");
 * await writeFile(path, serializeSafetensors({ x: { dtype: "F32", shape: [1], data: new Float32Array([7]) } }));
 * const file = await loadSafetensors(path);
 * console.log(file.tensors.get("x")?.shape);
 * // [ 1 ]
 * ```
 */
export async function loadSafetensors(path: string | URL): Promise<SafetensorsFile> {
  const where = "loadSafetensors";
  const file = toPath(path, where);
  const bytes = await readBytes(file);
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    throw new SafetensorsError(e.code, `${where}: ${file}: ${e.message}`, e.tensor);
  }
}

/**
 * Reads a sharded checkpoint from its `model.safetensors.index.json`: the shards it names are
 * read from the index's folder and merged by {@link parseShardedSafetensors}, with all its
 * checks (every mapped tensor in its shard, shard names plain file names).
 *
 * @param indexPath - the index file, a path or a `file:` URL
 * @returns the merged tensors and each shard's parse
 * @throws TypeError if `indexPath` is neither a string nor a URL
 * @throws Error from `node:fs` if the index or a shard cannot be read
 * @throws {@link tokenwise!SafetensorsError} with code `InvalidIndex` if the index is not JSON of the
 *   right shape, or as {@link parseShardedSafetensors} throws
 * @example
 * ```ts
 * import { loadShardedSafetensors } from "tokenwise/node";
 * const { tensors, shards } = await loadShardedSafetensors("test/fixtures/checkpoints/opt-sharded/model.safetensors.index.json");
 * console.log(shards.size, tensors.has("model.decoder.layers.1.fc2.bias"));
 * // 2 true
 * ```
 */
export async function loadShardedSafetensors(indexPath: string | URL): Promise<ShardedSafetensors> {
  const where = "loadShardedSafetensors";
  const file = toPath(indexPath, where);
  const text = await readFile(file, "utf8");
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError("InvalidIndex", `${where}: ${file} is not JSON: ${String(cause)}`);
  }
  const folder = dirname(file);
  return parseShardedSafetensors(index as { weight_map: Record<string, string> }, (shard) =>
    readBytes(join(folder, shard)),
  );
}

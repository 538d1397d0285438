/**
 * tokenwise/node: loading safetensors and GGUF files from disk in Node. Everything else,
 * parsing included, is in the main entry, which runs in browsers too.
 *
 * @packageDocumentation
 * @module tokenwise/node
 */
import { open, readFile, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  SafetensorsError,
  parseSafetensors,
  parseShardedSafetensors,
  type SafetensorsFile,
  type ShardedSafetensors,
} from "./io/safetensors";
import {
  GgufError,
  NeedMoreBytes,
  parseGgufHeader,
  type GgufFile,
  type GgufHeader,
  type GgufTensor,
  type GgufTensorInfo,
} from "./io/gguf";

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

// ---------------------------------------------------------------------------------------------

/** The first read of a GGUF file; a header that is longer is read on, doubling. */
const GGUF_FIRST_READ = 1 << 20;

/**
 * Fills `into` from index `at` on with the file's bytes from byte `position` on, in reads of at
 * most 1 GiB (the most one read may ask for is under 2 GiB).
 */
async function readAt(
  handle: FileHandle,
  into: Uint8Array,
  at: number,
  position: number,
  path: string,
): Promise<void> {
  let done = at;
  while (done < into.length) {
    const { bytesRead } = await handle.read(
      into,
      done,
      Math.min(into.length - done, CHUNK),
      position + done - at,
    );
    if (bytesRead === 0) throw new Error(`${path} shrank while being read`);
    done += bytesRead;
  }
}

function allocate(length: number, path: string): Uint8Array {
  try {
    return new Uint8Array(length);
  } catch (cause) {
    throw new RangeError(`cannot allocate ${length} bytes to read ${path}`, { cause });
  }
}

/**
 * Which tensors {@link loadGguf} reads: `"all"`, a list of names (each must be in the file),
 * or a test on each tensor's info.
 */
export type GgufTensorSelection = "all" | readonly string[] | ((info: GgufTensorInfo) => boolean);

/**
 * Reads a GGUF file's header, and the data of only the tensors asked for. The file is never
 * read whole: its header is read from the start (1 MiB, then as much more as it needs), and
 * each tensor asked for is read at its place into a buffer of its own. Every check of
 * {@link tokenwise!parseGguf} is made, each tensor's place against the file's length, before any
 * tensor is read.
 *
 * @param path - the file, a path or a `file:` URL
 * @param options - `tensors`: `"all"`, a list of names, or a function of each tensor's info
 *   that says whether to read it; without it, no tensor data is read (the infos of all are
 *   always there)
 * @returns the file's metadata, every tensor's info, and the tensors read (in file order)
 * @throws TypeError if `path` is neither a string nor a URL, or `tensors` is none of the above
 * @throws Error from `node:fs` if the file cannot be read (`ENOENT` when it does not exist)
 * @throws {@link tokenwise!GgufError} if the file is not a valid GGUF file (the message names
 *   the file), or with code `TensorNotFound` for a name in `tensors` that is not in it
 * @example
 * ```ts
 * import { loadGguf } from "tokenwise/node";
 * const file = await loadGguf("test/fixtures/gguf/llama-ffn.gguf", {
 *   tensors: (t) => t.name.startsWith("blk.1.ffn_"),
 * });
 * console.log(file.tensorInfos.size, [...file.tensors.keys()].join(", "));
 * // 6 blk.1.ffn_gate.weight, blk.1.ffn_up.weight, blk.1.ffn_down.weight
 * ```
 */
export async function loadGguf(
  path: string | URL,
  options: { readonly tensors?: GgufTensorSelection } = {},
): Promise<GgufFile> {
  const where = "loadGguf";
  const file = toPath(path, where);
  const selection: unknown = (options as { tensors?: unknown } | null)?.tensors;
  if (
    selection !== undefined &&
    selection !== "all" &&
    typeof selection !== "function" &&
    !(Array.isArray(selection) && selection.every((n) => typeof n === "string"))
  ) {
    throw new TypeError(
      `${where}: options.tensors must be "all", an array of tensor names or a function of a tensor's info`,
    );
  }
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    let prefix = allocate(Math.min(size, GGUF_FIRST_READ), file);
    await readAt(handle, prefix, 0, 0, file);
    let header: GgufHeader;
    for (;;) {
      try {
        header = parseGgufHeader(prefix, size, `${where}: ${file}`);
        break;
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
        // The parse needs bytes up to e.end, within the file (it checked): read on, at least
        // doubling, so a long header costs a few parses, not one per value.
        const longer = allocate(Math.min(size, Math.max(e.end, 2 * prefix.length)), file);
        longer.set(prefix);
        await readAt(handle, longer, prefix.length, prefix.length, file);
        prefix = longer;
      }
    }
    let wanted: (info: GgufTensorInfo) => boolean;
    if (selection === undefined) wanted = () => false;
    else if (selection === "all") wanted = () => true;
    else if (typeof selection === "function") wanted = selection as (i: GgufTensorInfo) => boolean;
    else {
      const names = new Set(selection as readonly string[]);
      for (const name of names) {
        if (!header.tensorInfos.has(name)) {
          throw new GgufError(
            "TensorNotFound",
            `${where}: ${file}: tensor ${JSON.stringify(name)} is not in the file`,
            { tensor: name },
          );
        }
      }
      wanted = (info) => names.has(info.name);
    }
    const tensors = new Map<string, GgufTensor>();
    for (const info of header.tensorInfos.values()) {
      if (!wanted(info)) continue;
      const data = allocate(info.byteLength, file);
      await readAt(handle, data, 0, info.offset, file);
      tensors.set(info.name, { ...info, data });
    }
    return { ...header, tensors };
  } finally {
    await handle.close();
  }
}

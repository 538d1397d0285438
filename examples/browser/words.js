// A word's input vector, shared by the page's layers: the word's letters hashed into a seed
// for tokenwise's Random, which draws the numbers. The same word always gets the same vector.
import { Random } from "../../dist/index.js";

/** FNV-1a over the UTF-16 code units: a word's seed. */
export function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A word's input vector: `n` numbers in [-1, 1] drawn from Random(hash(word)). */
export function embed(word, n) {
  return new Random(hash(word)).fillUniform(new Float32Array(n), 1);
}

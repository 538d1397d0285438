// The data of one benchmark case: the layer's weights and the input tokens, drawn from a seed so
// that every process (the main harness, a hosted peer, a memory probe) builds the same bits.
import { Random } from "../src/random";
import type { Shape } from "./shapes";

/** Weights in tokenwise's layout, row-major: w1 is (dModel, dHidden), w2 is (dHidden, dModel). */
export interface ProblemWeights {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export interface Problem {
  shape: Shape;
  seed: number;
  weights: ProblemWeights;
  /** The input, (tokens, dModel) row-major. */
  x: Float32Array;
}

/**
 * Weights drawn like PyTorch's nn.Linear default (uniform in ±1/sqrt(fan_in)), the input uniform in
 * [-1, 1]: activations of the size a trained layer sees, and about half the hidden units active.
 */
export function makeProblem(shape: Shape, seed: number): Problem {
  const { tokens, dModel, dHidden } = shape;
  const rng = new Random(seed >>> 0);
  const bound1 = 1 / Math.sqrt(dModel);
  const bound2 = 1 / Math.sqrt(dHidden);
  const weights: ProblemWeights = {
    w1: rng.fillUniform(new Float32Array(dModel * dHidden), bound1),
    b1: rng.fillUniform(new Float32Array(dHidden), bound1),
    w2: rng.fillUniform(new Float32Array(dHidden * dModel), bound2),
    b2: rng.fillUniform(new Float32Array(dModel), bound2),
  };
  const x = rng.fillUniform(new Float32Array(tokens * dModel), 1);
  return { shape, seed, weights, x };
}

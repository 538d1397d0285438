// The data of one benchmark case: the layer's weights and the input tokens, drawn from a seed so
// that every process (the main harness, a hosted peer, a memory probe) builds the same bits.
import { Random } from "../src/random";
import { exactIn16 } from "./dtype";
import { FFN_RELU, type Variant } from "./layer";
import { type Shape, layersOf } from "./shapes";
import { shiftBiases } from "./sparsity";

/** Weights in tokenwise's layout, row-major: w1 is (dModel, dHidden), w2 is (dHidden, dModel). */
export interface ProblemWeights {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/**
 * The gated layer's weights, row-major, no biases (as LLaMA): wGate and wUp are (dModel, dHidden),
 * wDown is (dHidden, dModel), so y = (act(x·wGate) ⊙ (x·wUp))·wDown.
 */
export interface GatedProblemWeights {
  wGate: Float32Array;
  wUp: Float32Array;
  wDown: Float32Array;
}

/** The weights of either layer: tell them apart with isGated. */
export type LayerWeights = ProblemWeights | GatedProblemWeights;

export function isGated(w: LayerWeights): w is GatedProblemWeights {
  return "wGate" in w;
}

/** The FeedForward weights, or an error naming who wanted them (a contender set up for ffn). */
export function ffnWeights(w: LayerWeights, who: string): ProblemWeights {
  if (isGated(w)) throw new TypeError(`${who}: expected FeedForward weights, got gated ones`);
  return w;
}

/** The gated weights, or an error naming who wanted them. */
export function gatedWeights(w: LayerWeights, who: string): GatedProblemWeights {
  if (!isGated(w)) throw new TypeError(`${who}: expected gated weights, got FeedForward ones`);
  return w;
}

export interface Problem {
  shape: Shape;
  seed: number;
  variant: Variant;
  /** The weights of each layer the token goes through, in turn (one unless shape.layers says). */
  layers: LayerWeights[];
  /** The first (usually the only) layer's weights: layers[0]. */
  weights: LayerWeights;
  /** The input, (tokens, dModel) row-major. */
  x: Float32Array;
}

/**
 * Weights drawn like PyTorch's nn.Linear default (uniform in ±1/sqrt(fan_in)), the input uniform in
 * [-1, 1]: activations of the size a trained layer sees, and about half the hidden units active.
 * The layers are drawn in turn, then the input, from one generator: a one-layer problem has the
 * bits it always had.
 */
export function makeProblem(shape: Shape, seed: number, variant: Variant = FFN_RELU): Problem {
  const { tokens, dModel, dHidden } = shape;
  const rng = new Random(seed >>> 0);
  const bound1 = 1 / Math.sqrt(dModel);
  const bound2 = 1 / Math.sqrt(dHidden);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < layersOf(shape); l++) {
    layers.push(
      variant.layer === "gated"
        ? {
            wGate: rng.fillUniform(new Float32Array(dModel * dHidden), bound1),
            wUp: rng.fillUniform(new Float32Array(dModel * dHidden), bound1),
            wDown: rng.fillUniform(new Float32Array(dHidden * dModel), bound2),
          }
        : {
            w1: rng.fillUniform(new Float32Array(dModel * dHidden), bound1),
            b1: rng.fillUniform(new Float32Array(dHidden), bound1),
            w2: rng.fillUniform(new Float32Array(dHidden * dModel), bound2),
            b2: rng.fillUniform(new Float32Array(dModel), bound2),
          },
    );
  }
  const x = rng.fillUniform(new Float32Array(tokens * dModel), 1);
  if (variant.exact16 === true) {
    for (const l of layers) for (const w of Object.values(l) as Float32Array[]) exactIn16(w);
  }
  // After the rounding: b1 is set on the rounded weights (and kept float32, as layers keep it).
  if (shape.sparsity !== undefined) {
    const ffn = layers.map((l) => ffnWeights(l, "--sparsity"));
    shiftBiases(ffn, x, shape, shape.sparsity, seed);
  }
  return { shape, seed, variant, layers, weights: layers[0] as LayerWeights, x };
}

// A layer as data: the spec each layer class gives the core, and what the core builds from it.
import type { ActivationName } from "../kernels/activation";
import type { Kernel, LayerShape, MapTensors } from "../kernels/kernel";

/** One linear map of a layer, by the names of its weight and bias in weights and JSON. */
export interface MapNames {
  readonly weight: string;
  readonly bias: string;
}

/**
 * A layer, as data: its maps in order (`expand` of them into the hidden width, combined as
 * act(m0) or act(m0) · m1, then one back), its defaults, its JSON format, and its backward
 * pass. FeedForward and GatedFeedForward are two of these over one core.
 */
export interface LayerSpec<G = unknown> {
  readonly name: string;
  readonly maps: readonly MapNames[];
  readonly expand: number;
  readonly defaults: { readonly bias: boolean; readonly activation: ActivationName };
  /**
   * JSON: format name, current version, oldest version read, first version with activation,
   * first version with dtype (a float32 layer writes the version before it, unchanged).
   */
  readonly json: {
    readonly format: string;
    readonly version: number;
    readonly oldest: number;
    readonly activationSince: number;
    readonly dtypeSince: number;
  };
  backward(
    shape: LayerShape,
    maps: MapTensors[],
    x: Float32Array,
    rows: number,
    dY: Float32Array,
  ): G;
}

/**
 * How given weight matrices are laid out: `"conv1d"` is tokenwise's own (in, out), as GPT-2's
 * Conv1D stores them; `"linear"` is PyTorch's `nn.Linear` (out, in).
 *
 * @category Layers
 */
export type WeightLayout = "conv1d" | "linear";

/** Everything a layer is made of: checked, sized, its kernel made. */
export interface Built {
  shape: LayerShape;
  kernel: Kernel;
  fallback: string | null;
}

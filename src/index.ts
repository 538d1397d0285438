/**
 * tokenwise: the position-wise feedforward layer of transformers, on Float32Array matrices.
 *
 * @packageDocumentation
 * @module tokenwise
 */
export { ShapeError } from "./errors";
export { matrix, zeros, fromRows, toRows, row, isMatrix, type Matrix } from "./matrix";
export { matmul, matmulInto, type MatmulOptions } from "./ops/matmul";
export { transpose, transposeInto } from "./ops/transpose";
export { addBias, addBiasInto, relu, reluInto } from "./ops/elementwise";
export {
  gelu,
  geluInto,
  geluTanh,
  geluTanhInto,
  silu,
  siluInto,
  sigmoid,
  sigmoidInto,
} from "./ops/activations";
export { Random } from "./random";
export {
  FeedForward,
  type FeedForwardOptions,
  type FeedForwardWeights,
  type FeedForwardJSON,
  type FromWeightsOptions,
  type FromJSONOptions,
  type CreateFromWeightsOptions,
} from "./layers/feedforward";
export { type ForwardStats, Layer } from "./layers/core";
export type { WeightLayout } from "./layers/spec";
export type { KernelChoice } from "./layers/options";
export type { KernelName } from "./kernels/kernel";
export type { GpuDevice } from "./kernels/webgpu/gpu";
export type { ActivationName } from "./kernels/activation";
export type { WeightDtype } from "./dtype";
export type { FeedForwardGradients, GatedFeedForwardGradients } from "./layers/backward";
export {
  GatedFeedForward,
  type GatedFeedForwardOptions,
  type GatedCreateFromWeightsOptions,
  type GatedFeedForwardWeights,
  type GatedFeedForwardJSON,
  type GatedFromWeightsOptions,
  type GatedFromJSONOptions,
  type GatedKernelChoice,
} from "./layers/gated";
export {
  parseSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  tensorToMatrix,
  parseShardedSafetensors,
  SafetensorsError,
  type SafetensorsDtype,
  type SafetensorsErrorCode,
  type SafetensorsTensor,
  type SafetensorsTensorInput,
  type SafetensorsFile,
  type SafetensorsIndex,
  type ShardedSafetensors,
} from "./io/safetensors";
export {
  feedForwardFromCheckpoint,
  feedForwardFromCheckpointAsync,
  feedForwardWeightsFromCheckpoint,
  feedForwardTensors,
  feedForwardToSafetensors,
  gatedFeedForwardFromCheckpoint,
  gatedFeedForwardFromCheckpointAsync,
  gatedFeedForwardWeightsFromCheckpoint,
  gatedFeedForwardTensors,
  gatedFeedForwardToSafetensors,
  type CheckpointLayout,
  type CheckpointLayerNames,
  type CheckpointTensors,
  type FeedForwardTensorNames,
  type CheckpointCreateOptions,
  type GatedFeedForwardTensorNames,
} from "./io/checkpoint";
export {
  optFeedForwardNames,
  t5FeedForwardNames,
  gpt2FeedForwardNames,
  bertFeedForwardNames,
  robertaFeedForwardNames,
  llamaFeedForwardNames,
  mistralFeedForwardNames,
  qwen2FeedForwardNames,
  gemmaFeedForwardNames,
  t5GatedFeedForwardNames,
  GATED_CHECKPOINT_NAMES,
  gatedCheckpointNames,
  gatedWeightsFromCheckpoint,
  type GatedCheckpointFamily,
  type GatedCheckpointNames,
} from "./io/names";
export { quantizeQ8_0, quantizeQ4_0, type GgmlBlockType } from "./quant";
export {
  parseGguf,
  ggufTensorToFloat32,
  GgufError,
  type GgmlType,
  type GgufArray,
  type GgufErrorCode,
  type GgufFile,
  type GgufMetadataType,
  type GgufTensor,
  type GgufTensorInfo,
  type GgufTensorInput,
  type GgufValue,
  type GgufValueType,
} from "./io/gguf";
export {
  GGUF_FEEDFORWARD_ACTIVATIONS,
  ggufFeedForward,
  ggufFeedForwardNames,
  type GgufFeedForward,
  type GgufFeedForwardNames,
} from "./io/gguf-feedforward";
export { GGUF_MOE_ROUTING, moeFromGguf, type GgufMixtureOfExperts } from "./io/gguf-moe";
export { feedForwardFromGguf, type GgufLayerOptions } from "./io/gguf-layer";
export { MixtureOfExperts } from "./layers/moe";
export type { Scoring } from "./layers/moe-route";
export type {
  RoutingOptions,
  MixtureOfExpertsOptions,
  MixtureOfExpertsWeights,
  MoEFromWeightsOptions,
  MoECreateFromWeightsOptions,
  MoEFromJSONOptions,
  ExpertJSON,
  MixtureOfExpertsJSON,
  Routes,
  MixtureOfExpertsGradients,
} from "./layers/moe-types";
export {
  MOE_CHECKPOINT_NAMES,
  moeFromCheckpoint,
  type MoECheckpointFamily,
  type MoECheckpointNames,
} from "./io/moe-names";

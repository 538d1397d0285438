// The webgpu kernel's tile shapes: constants of the kernel, the same for every layer and every
// batch (wgsl.ts says why they must never depend on the batch).

/** Rows of a workgroup's block. */
export const TM = 16;
/** Columns of a workgroup's block (TN / 4 vec4 invocations across). */
export const TN = 64;
/** The k extent of a block of x and w staged in workgroup memory. */
export const TK = 16;

/** N padded to whole blocks. */
export const padded = (n: number): number => Math.ceil(n / TN) * TN;

// Order statistics of repetition samples, shared by the contenders' timings and the roof.

/** The q-quantile of sorted samples, interpolated linearly between neighbours (q = 0.5: median). */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

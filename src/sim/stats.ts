/** Percentiles and mean of a sample. */
export interface Distribution {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Distribution of `values` (nearest-rank percentiles); all zero when empty. @internal */
export function distribution(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  return { mean: sum / n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1]! };
}

/** Growable Float64 sample buffer. @internal */
export class Samples {
  private data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Values at percentiles 0, 1, …, 100 (nearest rank); empty when there are no values. @internal */
export function percentiles(values: ArrayLike<number>): number[] {
  const n = values.length;
  if (n === 0) return [];
  const sorted = Float64Array.from(values).sort();
  const out: number[] = [];
  for (let q = 0; q <= 100; q++) out.push(sorted[Math.min(n - 1, Math.max(0, Math.ceil((q / 100) * n) - 1))]!);
  return out;
}

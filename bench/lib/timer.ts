/** Latency distributions: process.hrtime.bigint around each call, after a warmup. */

/** Percentiles of a latency sample, in microseconds. */
export interface LatencyStats {
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

/** Options of {@link measureLatency}. */
export interface LatencyOptions {
  /** Calls before measuring (JIT warmup). */
  warmup: number;
  /** Measured calls (upper bound). */
  iterations: number;
  /** Stop measuring after this many milliseconds even if `iterations` is not reached. */
  maxMs: number;
  /** Samples taken even past `maxMs` (default 20). */
  minSamples?: number;
}

/** Calls `fn(i)` for i = 0, 1, … and returns the distribution of the measured calls' durations. */
export function measureLatency(fn: (i: number) => void, opts: LatencyOptions): LatencyStats {
  for (let i = 0; i < opts.warmup; i++) fn(i);
  const samples = new Float64Array(opts.iterations);
  const deadline = process.hrtime.bigint() + BigInt(Math.round(opts.maxMs * 1e6));
  const minSamples = opts.minSamples ?? 20;
  let n = 0;
  for (; n < opts.iterations; n++) {
    const t0 = process.hrtime.bigint();
    fn(opts.warmup + n);
    const t1 = process.hrtime.bigint();
    samples[n] = Number(t1 - t0) / 1000;
    if (n + 1 >= minSamples && t1 > deadline) {
      n++;
      break;
    }
  }
  return summarize(samples.subarray(0, n));
}

/** Percentiles (nearest-rank) of a sample in microseconds. */
export function summarize(samplesUs: Float64Array): LatencyStats {
  const sorted = Float64Array.from(samplesUs).sort();
  const n = sorted.length;
  if (n === 0) return { samples: 0, p50Us: NaN, p99Us: NaN, maxUs: NaN, meanUs: NaN };
  const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { samples: n, p50Us: at(0.5), p99Us: at(0.99), maxUs: sorted[n - 1]!, meanUs: sum / n };
}

/** Milliseconds since `t0` (from process.hrtime.bigint()). */
export function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs `fn` and returns its duration in milliseconds. */
export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return msSince(t0);
}

/** Forces a full GC when node runs with --expose-gc; returns false otherwise. */
export function fullGc(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  gc();
  return true;
}

/** heapUsed + arrayBuffers, the bytes a JS data structure really costs (after {@link fullGc}). */
export function usedBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

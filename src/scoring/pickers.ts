/**
 * Pickers: choose one of `n` candidates from their costs or scores. Pure functions over typed
 * arrays; they write probabilities into a caller-owned buffer and allocate nothing.
 *
 * @internal
 */

/** A random source in [0, 1). */
export type RandomSource = () => number;

/**
 * Index of the minimum of `values[0..n)`, exact ties broken uniformly at random
 * (one random draw selects among the tied entries; no allocation).
 * Writes the pick's probability (1 / ties) into `probs[i]` for the tied entries and 0 elsewhere.
 */
export function pickMin(values: Float64Array, n: number, random: RandomSource, probs: Float64Array): number {
  return pickExtreme(values, n, random, probs, 1);
}

/** Index of the maximum of `values[0..n)`, exact ties broken uniformly at random; see {@link pickMin}. */
export function pickMax(values: Float64Array, n: number, random: RandomSource, probs: Float64Array): number {
  return pickExtreme(values, n, random, probs, -1);
}

function pickExtreme(values: Float64Array, n: number, random: RandomSource, probs: Float64Array, sign: 1 | -1): number {
  if (n <= 0) return -1;
  let best = 0;
  let bestValue = sign * values[0]!;
  let ties = 1;
  for (let i = 1; i < n; i++) {
    const v = sign * values[i]!;
    if (v < bestValue) {
      bestValue = v;
      best = i;
      ties = 1;
    } else if (v === bestValue) ties++;
  }
  const p = 1 / ties;
  if (ties === 1) {
    for (let i = 0; i < n; i++) probs[i] = i === best ? 1 : 0;
    return best;
  }
  // One draw picks the k-th tied entry: every tied entry equally likely.
  let k = Math.floor(random() * ties);
  if (k >= ties) k = ties - 1;
  for (let i = 0; i < n; i++) {
    if (sign * values[i]! === bestValue) {
      probs[i] = p;
      if (k-- === 0) best = i;
    } else probs[i] = 0;
  }
  return best;
}

/**
 * Softmax over costs (lower is better), normalized by the cost range as NVIDIA Dynamo does:
 * `p_i ∝ exp(−(c_i − c_min) / ((c_max − c_min) · T))`; uniform when all costs are equal.
 * Writes the probabilities into `probs[0..n)`. `temperature` must be > 0.
 */
export function softmaxProbabilities(costs: Float64Array, n: number, temperature: number, probs: Float64Array): void {
  if (n <= 0) return;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const c = costs[i]!;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  const range = max - min;
  if (!(range > 0) || !Number.isFinite(range)) {
    const p = 1 / n;
    for (let i = 0; i < n; i++) probs[i] = p;
    return;
  }
  const scale = 1 / (range * temperature);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(-(costs[i]! - min) * scale);
    probs[i] = e;
    sum += e;
  }
  // The minimum contributes exp(0) = 1, so sum ≥ 1: no division by zero, no underflow to all-zero.
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) probs[i] = probs[i]! * inv;
}

/**
 * Normalizes non-negative weights into probabilities in place (uniform when they sum to 0).
 */
export function normalizeWeights(weights: Float64Array, n: number, probs: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  if (!(sum > 0)) {
    const p = 1 / n;
    for (let i = 0; i < n; i++) probs[i] = p;
    return;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) probs[i] = weights[i]! * inv;
}

/** Samples an index from probabilities `probs[0..n)` (summing to 1) with one random draw. */
export function sampleIndex(probs: Float64Array, n: number, random: RandomSource): number {
  if (n <= 0) return -1;
  const r = random();
  let acc = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    acc += p;
    last = i;
    if (r < acc) return i;
  }
  // Rounding left acc slightly below 1 and r landed above it: the last positive entry.
  return last;
}

/**
 * The cost policy's probabilities over the non-busy candidates (`busy[i] === 1` get 0), written to
 * `probs[0..n)`: temperature 0 → `1 / ties` on the cheapest (exact ties), T > 0 → the normalized
 * softmax of {@link softmaxProbabilities}. Pure: a pick and its result's `candidates` both call it,
 * so the reported probabilities are the ones the pick used. Returns how many are eligible.
 */
export function costProbabilities(cost: Float64Array, busy: Uint8Array, n: number, temperature: number, probs: Float64Array): number {
  let min = Infinity;
  let max = -Infinity;
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (busy[i] === 1) continue;
    const c = cost[i]!;
    if (c < min) min = c;
    if (c > max) max = c;
    m++;
  }
  if (m === 0) {
    probs.fill(0, 0, n);
    return 0;
  }
  if (temperature === 0) {
    let ties = 0;
    for (let i = 0; i < n; i++) if (busy[i] === 0 && cost[i] === min) ties++;
    const p = 1 / ties;
    for (let i = 0; i < n; i++) probs[i] = busy[i] === 0 && cost[i] === min ? p : 0;
    return m;
  }
  const range = max - min;
  if (!(range > 0) || !Number.isFinite(range)) {
    const p = 1 / m;
    for (let i = 0; i < n; i++) probs[i] = busy[i] === 1 ? 0 : p;
    return m;
  }
  const scale = 1 / (range * temperature);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = busy[i] === 1 ? 0 : Math.exp(-(cost[i]! - min) * scale);
    probs[i] = e;
    sum += e;
  }
  // The minimum contributes exp(0) = 1, so sum ≥ 1: no division by zero.
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) probs[i] = probs[i]! * inv;
  return m;
}

/**
 * Picks among equally likely entries (every positive `probs[i]` equal, as temperature 0 writes
 * them): the only one without a draw, else one draw selects the k-th in index order.
 */
export function pickTie(probs: Float64Array, n: number, random: RandomSource): number {
  let ties = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (probs[i]! > 0) {
      if (ties === 0) first = i;
      ties++;
    }
  }
  if (ties <= 1) return first;
  let k = Math.floor(random() * ties);
  if (k >= ties) k = ties - 1;
  for (let i = 0; i < n; i++) if (probs[i]! > 0 && k-- === 0) return i;
  return first;
}

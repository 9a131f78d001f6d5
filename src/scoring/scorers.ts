/**
 * The EPP's normalized scorers (DESIGN §6): each writes a score in [0, 1] per candidate, higher
 * is better. Pure functions over typed arrays, no allocation.
 *
 * @internal
 */

/** prefix = matched / total blocks (0 for a prompt shorter than one block). */
export function prefixScores(overlap: Float64Array, promptBlocks: number, n: number, out: Float64Array): void {
  const inv = promptBlocks > 0 ? 1 / promptBlocks : 0;
  for (let i = 0; i < n; i++) {
    const s = overlap[i]! * inv;
    out[i] = s > 1 ? 1 : s;
  }
}

/** queue = (maxQ − q) / (maxQ − minQ); 1 for everyone when all queues are equal. */
export function queueScores(queue: Float64Array, n: number, out: Float64Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const q = queue[i]!;
    if (q < min) min = q;
    if (q > max) max = q;
  }
  const range = max - min;
  if (!(range > 0)) {
    for (let i = 0; i < n; i++) out[i] = 1;
    return;
  }
  for (let i = 0; i < n; i++) out[i] = (max - queue[i]!) / range;
}

/** kv utilization = 1 − usage, usage clamped to [0, 1]. */
export function kvScores(usage: Float64Array, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const u = usage[i]!;
    out[i] = u <= 0 ? 1 : u >= 1 ? 0 : 1 - u;
  }
}

/** Normalized costs as scores: (c_max − c) / (c_max − c_min); 1 for everyone when all are equal. */
export function costScores(cost: Float64Array, n: number, out: Float64Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const c = cost[i]!;
    if (c < min) min = c;
    if (c > max) max = c;
  }
  const range = max - min;
  if (!(range > 0)) {
    for (let i = 0; i < n; i++) out[i] = 1;
    return;
  }
  for (let i = 0; i < n; i++) out[i] = (max - cost[i]!) / range;
}

/** `total[i] += weight · part[i]`. */
export function addWeighted(total: Float64Array, part: Float64Array, weight: number, n: number): void {
  for (let i = 0; i < n; i++) total[i] = total[i]! + weight * part[i]!;
}

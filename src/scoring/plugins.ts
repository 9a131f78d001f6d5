/**
 * The pick as small plugins, in the spirit of the Gateway API Inference Extension scheduler:
 * filters drop candidates, scorers score the rest in [0, 1] (weighted sum), a picker chooses.
 * Each has one method over a struct-of-arrays {@link CandidateTable}, so the default path stays
 * allocation-free. The router's built-in policies are made of the plugins below.
 */
import { pickMax, normalizeWeights, sampleIndex, type RandomSource } from './pickers.js';
import { kvScores, prefixScores, queueScores, costScores } from './scorers.js';

/**
 * The candidates of one pick, indexed `0 … n − 1`. Arrays may be longer than `n`; only the
 * first `n` entries are meaningful, and they are valid only during the pick.
 */
export interface CandidateTable {
  /** Number of candidates. */
  readonly n: number;
  /** Complete blocks of the prompt. */
  readonly promptBlocks: number;
  /** Prompt tokens (text mode: an estimate). */
  readonly promptTokens: number;
  /** Worker id of candidate `i`. */
  workerId(i: number): string;
  /** Data-parallel rank of candidate `i`. */
  dpRank(i: number): number;
  /** Overlap in blocks. */
  readonly overlapBlocks: Float64Array;
  /** Prefill blocks after credit (see the cost). */
  readonly prefillBlocks: Float64Array;
  /** Active plus added blocks. */
  readonly decodeBlocks: Float64Array;
  /** The cost (lower is better). */
  readonly cost: Float64Array;
  /** Queue length (fresh pushed waiting requests, else predicted requests in prefill). */
  readonly queue: Float64Array;
  /** KV cache usage in [0, 1]. */
  readonly kvUsage: Float64Array;
}

/** Drops candidates (e.g. by label, by health). Runs after the built-in role/subset/busy filters. */
export interface Filter {
  /** Name for logs. */
  readonly name: string;
  /** Keep candidate `i`? */
  keep(table: CandidateTable, i: number): boolean;
}

/** Scores every candidate in [0, 1], higher is better. */
export interface Scorer {
  /** Name for logs. */
  readonly name: string;
  /** Weight in the weighted sum (non-negative). */
  readonly weight: number;
  /** Writes `out[i]` for `i < table.n`. */
  score(table: CandidateTable, out: Float64Array): void;
}

/** Chooses one candidate from combined scores (higher is better). */
export interface Picker {
  /** Name for logs. */
  readonly name: string;
  /**
   * Returns the chosen index in `[0, n)` and writes each candidate's probability of being chosen into
   * `probs[0 … n)`.
   */
  pick(scores: Float64Array, n: number, random: RandomSource, probs: Float64Array): number;
}

/** Prefix scorer: matched / total blocks. */
export function prefixScorer(weight: number): Scorer {
  return { name: 'prefix', weight, score: (t, out) => prefixScores(t.overlapBlocks, t.promptBlocks, t.n, out) };
}

/** Queue scorer: (maxQ − q) / (maxQ − minQ). */
export function queueScorer(weight: number): Scorer {
  return { name: 'queue', weight, score: (t, out) => queueScores(t.queue, t.n, out) };
}

/** KV utilization scorer: 1 − usage. */
export function kvUtilizationScorer(weight: number): Scorer {
  return { name: 'kv', weight, score: (t, out) => kvScores(t.kvUsage, t.n, out) };
}

/** Cost scorer: (c_max − c) / (c_max − c_min), Dynamo's cost as a normalized score. */
export function costScorer(weight: number): Scorer {
  return { name: 'cost', weight, score: (t, out) => costScores(t.cost, t.n, out) };
}

/** Max picker: highest score, ties at random. */
export const maxPicker: Picker = { name: 'max', pick: pickMax };

/** Weighted-random picker: probability ∝ score (uniform when all scores are 0). */
export const randomPicker: Picker = {
  name: 'random',
  pick(scores, n, random, probs) {
    normalizeWeights(scores, n, probs);
    return sampleIndex(probs, n, random);
  },
};

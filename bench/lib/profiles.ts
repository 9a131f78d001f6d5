/** Benchmark profiles: sizes and iteration budgets. */

/** One fleet configuration. */
export interface FleetSize {
  workers: number;
  blocksPerWorker: number;
  blockSize: number;
}

/** Everything a profile decides. */
export interface Profile {
  name: 'ci' | 'quick' | 'full';
  /** Fleet configurations measured for ours; the first is the primary one (router, events). */
  fleets: FleetSize[];
  /**
   * Baselines (reference, naive, inverted) run on this slice instead when set (they cannot hold
   * the full fleet in memory); their figures are then from a smaller fleet, which flatters them.
   */
  baselineSlice: { workers: number; blocksPerWorker: number } | null;
  /** Query depths in tokens (1K/8K/32K/128K = 64/512/2048/8192 blocks at B = 16). */
  depthsTokens: number[];
  queriesPerDepth: number;
  /**
   * Latency of the optimized code. The warmup must carry the walk through V8's tiers (a few
   * hundred calls leave it in the baseline tier, 10x slower and bimodal from run to run).
   */
  latency: { warmup: number; iterations: number; maxMs: number };
  /** Latency budget of the slow baselines (fewer calls). */
  baselineLatency: { warmup: number; iterations: number; maxMs: number; minSamples: number };
  /** Hashing: prompt of this many tokens, and time per measurement. */
  hash: { tokens: number; maxTimeS: number };
  /** Mooncake replay: worker counts, requests replayed (ours / baselines), LRU capacity in blocks of 16. */
  replay: { workers: number[]; requests: number; baselineRequests: number; capacity16: number };
  /** Blocks of the vLLM decode+apply measurement. */
  eventsBlocks: number;
}

const common = { depthsTokens: [1024, 8192, 32_768, 131_072] };

/** The three profiles. */
export const PROFILES: Record<Profile['name'], Profile> = {
  ci: {
    name: 'ci',
    ...common,
    fleets: [{ workers: 16, blocksPerWorker: 2048, blockSize: 16 }],
    baselineSlice: null,
    queriesPerDepth: 24,
    latency: { warmup: 5000, iterations: 400, maxMs: 400 },
    baselineLatency: { warmup: 3, iterations: 150, maxMs: 400, minSamples: 10 },
    hash: { tokens: 8192, maxTimeS: 0.5 },
    replay: { workers: [16], requests: 600, baselineRequests: 600, capacity16: 30_000 },
    eventsBlocks: 20_000,
  },
  quick: {
    name: 'quick',
    ...common,
    fleets: [{ workers: 256, blocksPerWorker: 8192, blockSize: 16 }],
    baselineSlice: null,
    queriesPerDepth: 48,
    latency: { warmup: 5000, iterations: 2000, maxMs: 1500 },
    baselineLatency: { warmup: 2, iterations: 300, maxMs: 1500, minSamples: 8 },
    hash: { tokens: 8192, maxTimeS: 1 },
    replay: { workers: [16, 256], requests: 12_031, baselineRequests: 1000, capacity16: 30_000 },
    eventsBlocks: 200_000,
  },
  full: {
    name: 'full',
    ...common,
    fleets: [
      { workers: 256, blocksPerWorker: 32_768, blockSize: 16 },
      { workers: 1024, blocksPerWorker: 32_768, blockSize: 16 },
      { workers: 256, blocksPerWorker: 8192, blockSize: 64 },
    ],
    baselineSlice: { workers: 64, blocksPerWorker: 32_768 },
    queriesPerDepth: 64,
    latency: { warmup: 5000, iterations: 5000, maxMs: 4000 },
    baselineLatency: { warmup: 2, iterations: 500, maxMs: 3000, minSamples: 8 },
    hash: { tokens: 8192, maxTimeS: 2 },
    replay: { workers: [16, 256, 1000], requests: 12_031, baselineRequests: 3000, capacity16: 30_000 },
    eventsBlocks: 1_000_000,
  },
};

/** `W=256 C=8192 B=16`. */
export function fleetLabel(f: FleetSize): string {
  return `W=${f.workers} C=${f.blocksPerWorker} B=${f.blockSize}`;
}

/** Query depth name: `1k` … `128k` tokens. */
export function depthName(tokens: number): string {
  return `${Math.round(tokens / 1024)}k`;
}

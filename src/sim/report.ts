import type { Distribution } from './stats.js';

/** Time series of one policy's run, in fixed buckets of simulated time. */
export interface PolicySeries {
  /** Bucket start times, seconds of simulated time. */
  timeS: number[];
  /** Prefix hit rate of the requests admitted in the bucket (blocks), or null when none. */
  hitRate: Array<number | null>;
  /** Mean over the bucket of the busiest worker's active requests. */
  maxActive: number[];
  /** Mean over the bucket of the average worker's active requests. */
  meanActive: number[];
}

/** Results of one policy. */
export interface PolicyReport {
  /** Policy name. */
  policy: string;
  /** Requests completed. */
  completed: number;
  /** Requests that could never fit in an engine's pool (dropped). */
  rejected: number;
  /** Prompt blocks served from the prefix cache / full prompt blocks. */
  hitRate: number;
  /** Prompt tokens whose prefill the cache saved. */
  prefillTokensSaved: number;
  /** Prompt tokens in all. */
  promptTokens: number;
  /** Time to first token, milliseconds (simulated). */
  ttftMs: Distribution;
  /** End-to-end latency, milliseconds (simulated). */
  e2eMs: Distribution;
  /** Time average of (max / mean active requests per worker), over samples with any load. */
  loadImbalance: number;
  /** Real wall time the policy spent per pick, microseconds (includes hashing for the router). */
  pickUs: Distribution;
  /** Real wall time of the whole policy run, milliseconds. */
  wallMs: number;
  /** Simulated time until the last request finished, seconds. */
  simulatedS: number;
  /** TTFT histogram: counts per bucket of {@link SimReport.ttftBucketsMs}. */
  ttftHistogram: number[];
  /** TTFT at percentiles 0, 1, …, 100, milliseconds (the distribution's CDF). */
  ttftPercentilesMs: number[];
  /** Over-time series for charts. */
  series: PolicySeries;
  /** Event-path counters (batches, bytes, events applied/rejected…) of policies that read events. */
  counters: Record<string, number>;
}

/** The whole simulation report (`--json`). */
export interface SimReport {
  /** Report format version. */
  version: 1;
  /** Workload description. */
  workload: string;
  /** Requests in the workload. */
  requests: number;
  /** Hit rate of one infinite cache that saw every earlier request (an upper bound). */
  idealHitRate: number;
  /** The fleet and timing used. */
  config: {
    workers: number;
    blockSize: number;
    capacityBlocks: number;
    batchLimit: number;
    prefillTokensPerSecond: number;
    decodeMsPerToken: number;
    seed: number;
    transport: 'inproc' | 'nats';
  };
  /** Upper edges of the TTFT histogram buckets (ms); the last bucket is open. */
  ttftBucketsMs: number[];
  /** One entry per policy, in the order run. */
  policies: PolicyReport[];
  /** Real wall time of the whole simulation, milliseconds. */
  wallMs: number;
}

/** A copy of a report without wall-time fields (what reproducibility by seed compares). */
export function withoutWallTime(report: SimReport): unknown {
  return {
    ...report,
    wallMs: 0,
    policies: report.policies.map((p) => ({ ...p, wallMs: 0, pickUs: null })),
  };
}

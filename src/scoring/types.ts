import type {
  ApplyResult,
  FindMatchesOptions,
  IndexStats,
  KvEvent,
  OverlapScores,
  TierCounts,
} from '../radix/types.js';

/** What a worker does in disaggregated serving; `'both'` (the default) serves whole requests. */
export type WorkerRole = 'prefill' | 'decode' | 'both';

/** Arguments of `Router#addWorker`. */
export interface WorkerSpec {
  /** The worker: an endpoint `ip:port` or a Dynamo instance id in decimal. Non-empty. */
  workerId: string;
  /** Data-parallel ranks (one cache each); default `[0]`. */
  dpRanks?: readonly number[];
  /** Role; default `'both'`. */
  role?: WorkerRole;
  /** Where to send requests (returned with a pick); default the `workerId`. */
  endpoint?: string;
  /** Does this worker publish KV events? Default: the router config's `kvEvents`. `false`: approximate mode. */
  kvEvents?: boolean;
}

/** A registered worker as `Router#workers` lists it. */
export interface WorkerInfo {
  workerId: string;
  dpRanks: number[];
  role: WorkerRole;
  endpoint: string;
  kvEvents: boolean;
}

/** A candidate of `pickEndpoint`: a worker (all its ranks) or one rank. */
export type CandidateSpec = string | { workerId: string; dpRank?: number };

/** Fields shared by token and text requests. */
export interface RequestBase {
  /** Track the request in predicted load (see `markPrefillComplete`, `free`). */
  requestId?: string;
  /** Restrict the choice to these workers; unknown ones are reported in `unknownCandidates`. Non-empty when given. */
  candidates?: readonly CandidateSpec[];
  /** Disaggregated serving: `'prefill'` → prefill/both workers by cost; `'decode'` → decode/both workers, overlap credit 0. Absent: workers with role `'both'`. */
  role?: 'prefill' | 'decode';
}

/** A request given as tokens (exact mode: hashed as the engines do). */
export interface TokenRequest extends RequestBase {
  /** Prompt tokens, integers in [0, 2^32 − 1]. */
  tokens: ArrayLike<number>;
  /** LoRA adapter; its hasher must be prepared (config `loraNames` or `Router#prepareLora`). */
  loraName?: string;
}

/** A request given as raw text (approximate text mode, for EPPs that do not tokenize). */
export interface TextRequest extends RequestBase {
  /** Prompt text, hashed in chained 64-character blocks. */
  text: string;
  /** Model name; seeds the text hash. Prepared on first use by `pickEndpointAsync`, or with `Router#prepareTextModel`. */
  model: string;
}

/** A request to route. */
export type PickRequest = TokenRequest | TextRequest;

/** One candidate's figures in a pick. */
export interface CandidateScore {
  workerId: string;
  dpRank: number;
  /** Leading prompt blocks the worker holds (exact, approximate or predicted overlay, whichever is larger). */
  overlapBlocks: number;
  /** Those blocks by best tier (approximate and overlay blocks count as device). */
  tiers: TierCounts;
  /** Prefill blocks left after the overlap credit: `max(0, (activePrefillTokens + promptTokens)/B − credit)`. */
  prefillBlocks: number;
  /** Active blocks plus the blocks this request would add. */
  decodeBlocks: number;
  /** `prefillLoadScale · prefillBlocks + decodeBlocks` (lower is better). */
  cost: number;
  /** Score in [0, 1] under the router's policy (higher is better). */
  score: number;
  /** Probability this candidate was picked with. */
  probability: number;
  /** Above a busy threshold: never picked. */
  busy: boolean;
}

/** Why no endpoint was picked. `ALL_BUSY` maps to HTTP 529, the others to 503. */
export type PickFailureReason = 'NO_WORKERS' | 'NO_KNOWN_CANDIDATES' | 'NO_WORKER_FOR_ROLE' | 'ALL_BUSY';

/** A successful pick. */
export interface PickSuccess {
  ok: true;
  workerId: string;
  dpRank: number;
  /** The worker's `endpoint` (default: its id). */
  endpoint: string;
  /** Overlap of the picked worker, in blocks. */
  overlapBlocks: number;
  /** Complete blocks of the prompt. */
  promptBlocks: number;
  /** Cost of the picked worker. */
  cost: number;
  /** Every eligible candidate (computed on first access). */
  readonly candidates: CandidateScore[];
  /** Candidates named in the request that the router does not know. */
  unknownCandidates: CandidateSpec[];
}

/**
 * No endpoint picked. `status` is the HTTP status the caller should answer with:
 * 503 (no worker could take it) or 529 (all eligible workers are above their busy thresholds).
 */
export interface PickFailure {
  ok: false;
  reason: PickFailureReason;
  status: 503 | 529;
  /** Human-readable explanation. */
  message: string;
  unknownCandidates: CandidateSpec[];
}

/** The outcome of `pickEndpoint`: check `ok`. */
export type PickResult = PickSuccess | PickFailure;

/** One candidate's score from `Router#scoreEndpoints`. */
export interface EndpointScore {
  workerId: string;
  dpRank: number;
  /** In [0, 1], higher is better; 0 for a busy worker. */
  score: number;
  busy: boolean;
}

/** What the router needs of an index: `RadixIndex` satisfies it. */
export interface RouterIndex {
  apply(event: KvEvent): ApplyResult;
  removeWorker(workerId: string, dpRank?: number): void;
  findMatchesU32(pairs: Uint32Array, count: number, options?: FindMatchesOptions): OverlapScores;
  stats(): IndexStats;
}

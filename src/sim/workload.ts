/** One request of a workload. */
export interface SimRequest {
  /** Position in the workload (0-based); also its request id. */
  readonly index: number;
  /** Arrival time at the router, in simulated milliseconds from the start. */
  readonly arrivalMs: number;
  /** Prompt length in tokens. */
  readonly promptLength: number;
  /** Tokens the engine generates. */
  readonly outputLength: number;
}

/**
 * A workload: requests in arrival order, with their tokens materialized on demand (a long trace
 * would not fit in memory as token arrays).
 */
export interface Workload {
  /** Short description, e.g. `synthetic (seed 1)` or the trace file name. */
  readonly name: string;
  /** Requests sorted by arrival time. */
  readonly requests: readonly SimRequest[];
  /** The prompt tokens of a request (a fresh array). */
  promptTokens(request: SimRequest): Uint32Array;
  /** The tokens the engine generates for a request (a fresh array of `outputLength` tokens). */
  outputTokens(request: SimRequest): Uint32Array;
}

/** Requests per second of a workload (over its arrival span). @internal */
export function arrivalRate(requests: readonly SimRequest[]): number {
  if (requests.length < 2) return 0;
  const span = requests[requests.length - 1]!.arrivalMs - requests[0]!.arrivalMs;
  return span > 0 ? ((requests.length - 1) * 1000) / span : 0;
}

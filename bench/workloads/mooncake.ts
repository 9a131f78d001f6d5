/**
 * The *Mooncake replay* workload: the real conversation trace (one JSON object per request with
 * `hash_ids`, one id per 512-token block, ids chained so equal leading ids mean an equal prefix).
 *
 * Expansion: id `h` becomes `512 / B` blocks (32 of 16 tokens, or 8 of 64); block `b` of id `h`
 * has tokens `mix3(h, b, j) mod 151936`, hashed with the real hasher, so tokens hashes and
 * sequence hashes are real XXH3 values. A request keeps `floor(input_length / B)` blocks (its last
 * 512-token id is usually partial). Because an id always has the same predecessor, each id's
 * sequence hashes are computed once.
 *
 * Simulated workers ({@link SimWorker}): an LRU cache of `capacity` blocks, keyed by block, that
 * behaves like vLLM's prefix cache: a request hits its longest cached prefix, every block of the
 * request becomes most recent (the first block most recent of all, as vLLM frees a request's blocks
 * tail first), missing blocks are inserted after evicting the least recent blocks.
 *
 * Events come per engine step, as vLLM V1 publishes them (one KVEventBatch per step): with chunked
 * prefill a step computes at most `prefillTokens` prompt tokens (vLLM's `max_num_batched_tokens`,
 * 2048 for online serving), so the request's computed blocks (after its cached prefix, which costs
 * nothing) are split into chunks of `floor(prefillTokens / B)` blocks, one step each. A step's batch
 * is a `removed` event for the evictions its allocation needed (if any), then `stored` chains for
 * its new blocks, each chained to the block before it (the previous chunk's last block, or `null`
 * at the root). The engine block hash is the block's sequence hash. Not modeled: other requests
 * sharing the step budget (decode tokens, concurrent prefills) and blocks filled during decode.
 */
import { readFileSync } from 'node:fs';
import type { Hasher } from '../../src/hashing/index.js';
import type { KvEvent } from '../../src/radix/types.js';
import { mix3, u64 } from '../lib/rng.js';

const VOCAB = 151_936;

/** vLLM's default `max_num_batched_tokens` for online serving: the prefill tokens one step computes. */
export const DEFAULT_PREFILL_TOKENS = 2048;

/** One trace request after id densification. */
export interface TraceRequest {
  timestampMs: number;
  /** Dense id indices (0 … distinct−1), in prompt order. */
  ids: Uint32Array;
  /** Blocks of B tokens the request spans (`floor(input_length / B)`, at most ids × 512/B). */
  blocks: number;
}

/** Reads the JSONL trace; `limit` keeps only the first requests. */
export function readTrace(path: string, blockSize: number, limit = Infinity): { requests: TraceRequest[]; distinct: number } {
  if (512 % blockSize !== 0) throw new RangeError(`block size must divide 512, got ${blockSize}`);
  const perId = 512 / blockSize;
  const dense = new Map<number, number>();
  const requests: TraceRequest[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    if (requests.length >= limit) break;
    const rec = JSON.parse(line) as { timestamp: number; input_length: number; hash_ids: number[] };
    const ids = new Uint32Array(rec.hash_ids.length);
    rec.hash_ids.forEach((h, i) => {
      let d = dense.get(h);
      if (d === undefined) dense.set(h, (d = dense.size));
      ids[i] = d;
    });
    const blocks = Math.min(ids.length * perId, Math.floor(rec.input_length / blockSize));
    requests.push({ timestampMs: rec.timestamp, ids, blocks });
  }
  return { requests, distinct: dense.size };
}

/** Tokens hashes and sequence hashes of every block of the trace, as (lo, hi) pairs. */
export class MooncakeBlocks {
  /** Tokens per block (B). */
  readonly blockSize: number;
  readonly perId: number;
  /** Pairs of block `id * perId + b`. */
  readonly tokens: Uint32Array;
  readonly seqs: Uint32Array;

  constructor(requests: readonly TraceRequest[], distinct: number, hasher: Hasher) {
    const B = (this.blockSize = hasher.blockSize);
    const k = (this.perId = 512 / B);
    this.tokens = new Uint32Array(distinct * k * 2);
    this.seqs = new Uint32Array(distinct * k * 2);
    const done = new Uint8Array(distinct);
    const toks = new Uint32Array(512);
    const chain = new Uint32Array((k + 1) * 2);
    for (const r of requests) {
      for (let p = 0; p < r.ids.length; p++) {
        const id = r.ids[p]!;
        if (done[id]) continue;
        done[id] = 1;
        for (let b = 0; b < k; b++) for (let j = 0; j < B; j++) toks[b * B + j] = mix3(id, b, j) % VOCAB;
        const th = hasher.blockHashesU32(toks);
        this.tokens.set(th, id * k * 2);
        let seq: Uint32Array;
        if (p === 0) {
          seq = hasher.sequenceHashesU32(this.tokens.subarray(id * k * 2, (id + 1) * k * 2), k);
          this.seqs.set(seq, id * k * 2);
        } else {
          const prev = r.ids[p - 1]!;
          const last = (prev * k + k - 1) * 2;
          chain[0] = this.seqs[last]!;
          chain[1] = this.seqs[last + 1]!;
          chain.set(this.tokens.subarray(id * k * 2, (id + 1) * k * 2), 2);
          seq = hasher.sequenceHashesU32(chain, k + 1);
          this.seqs.set(seq.subarray(2, (k + 1) * 2), id * k * 2);
        }
      }
    }
  }

  /** Global block number of block `i` of request `r`. */
  block(r: TraceRequest, i: number): number {
    return r.ids[(i / this.perId) | 0]! * this.perId + (i % this.perId);
  }

  /** Writes the request's tokens hashes into `out` (pairs); returns the block count. */
  query(r: TraceRequest, out: Uint32Array): number {
    for (let i = 0; i < r.blocks; i++) {
      const g = this.block(r, i) * 2;
      out[2 * i] = this.tokens[g]!;
      out[2 * i + 1] = this.tokens[g + 1]!;
    }
    return r.blocks;
  }

  seqHash(g: number): bigint {
    return u64(this.seqs[2 * g]!, this.seqs[2 * g + 1]!);
  }

  tokensHash(g: number): bigint {
    return u64(this.tokens[2 * g]!, this.tokens[2 * g + 1]!);
  }
}

/** One simulated engine: an LRU prefix cache emitting the KV events of each request it serves, per step. */
export class SimWorker {
  /** Global block number → present; Map order is recency (first = least recent). */
  readonly #lru = new Map<number, true>();
  readonly #isNew: Uint8Array;

  /**
   * @param maxBlocks - the longest request, in blocks.
   * @param prefillTokens - prompt tokens one engine step computes (vLLM `max_num_batched_tokens`).
   */
  constructor(
    readonly workerId: string,
    readonly capacity: number,
    maxBlocks: number,
    readonly prefillTokens: number = DEFAULT_PREFILL_TOKENS,
  ) {
    this.#isNew = new Uint8Array(maxBlocks);
  }

  get size(): number {
    return this.#lru.size;
  }

  /**
   * Serves request `r`; returns the event batches of its prefill steps, in step order (none when the
   * whole prompt was cached; a step that stores nothing publishes nothing).
   */
  serveSteps(r: TraceRequest, blocks: MooncakeBlocks): KvEvent[][] {
    const n = Math.min(r.blocks, this.capacity);
    const lru = this.#lru;
    const isNew = this.#isNew;
    let missing = 0;
    for (let i = n - 1; i >= 0; i--) {
      const g = blocks.block(r, i);
      if (lru.delete(g)) {
        lru.set(g, true);
        isNew[i] = 0;
      } else {
        isNew[i] = 1;
        missing++;
      }
    }
    const steps: KvEvent[][] = [];
    if (missing === 0) return steps;
    // The cached prefix is not computed; a cached block after a miss is (it costs budget, stores nothing).
    let start = 0;
    while (!isNew[start]) start++;
    const perStep = Math.max(1, Math.floor(this.prefillTokens / blocks.blockSize));
    // New blocks of earlier steps are inserted into the LRU at the end (below), in the order the
    // whole-request model used, so the final state is the same; until then they only count toward
    // the size. Evictions can never reach them nor this request's hits: n ≤ capacity.
    let pending = 0;
    for (let s = start; s < n; s += perStep) {
      const end = Math.min(n, s + perStep);
      let fresh = 0;
      for (let i = s; i < end; i++) fresh += isNew[i]!;
      if (fresh === 0) continue;
      const batch: KvEvent[] = [];
      let evict = lru.size + pending + fresh - this.capacity;
      if (evict > 0) {
        const gone: bigint[] = [];
        for (const g of lru.keys()) {
          if (evict-- <= 0) break;
          lru.delete(g);
          gone.push(blocks.seqHash(g));
        }
        batch.push({ type: 'removed', workerId: this.workerId, blockHashes: gone });
      }
      pending += fresh;
      for (let i = s; i < end; ) {
        if (!isNew[i]) {
          i++;
          continue;
        }
        const first = i;
        const run: Array<{ blockHash: bigint; tokensHash: bigint }> = [];
        for (; i < end && isNew[i]; i++) {
          const g = blocks.block(r, i);
          run.push({ blockHash: blocks.seqHash(g), tokensHash: blocks.tokensHash(g) });
        }
        const parentHash = first === 0 ? null : blocks.seqHash(blocks.block(r, first - 1));
        batch.push({ type: 'stored', workerId: this.workerId, parentHash, blocks: run });
      }
      steps.push(batch);
    }
    for (let i = n - 1; i >= 0; i--) if (isNew[i]) lru.set(blocks.block(r, i), true);
    return steps;
  }

  /** Serves request `r`; returns the events of all its steps concatenated (the same stream, unbatched). */
  serve(r: TraceRequest, blocks: MooncakeBlocks): KvEvent[] {
    return this.serveSteps(r, blocks).flat();
  }
}

/**
 * The assignment policy of the replay: route by the index itself with a load cap. A worker's load
 * is the number of requests it received among the last 4·N; workers at the cap (8 = twice the fair
 * share) are not eligible. Among eligible workers the largest overlap wins (ties: lower load, then
 * a per-request rotation); with no overlap anywhere, the least-loaded worker (same tie-break).
 */
export class LoadCappedPolicy {
  readonly #load: Uint32Array;
  readonly #window: Int32Array;
  #pos = 0;
  readonly cap = 8;

  constructor(readonly workers: number) {
    this.#load = new Uint32Array(workers);
    this.#window = new Int32Array(4 * workers).fill(-1);
  }

  /** Picks a worker from (worker index, overlap) pairs; `r` is the request number. */
  pick(overlaps: Iterable<[number, number]>, r: number): number {
    const N = this.workers;
    const rot = Math.imul(r + 1, 2654435761) >>> 0;
    const order = (w: number): number => (w + rot) % N;
    let best = -1;
    let bestBlocks = 0;
    for (const [w, blocks] of overlaps) {
      if (this.#load[w]! >= this.cap || blocks <= 0) continue;
      if (
        best < 0 ||
        blocks > bestBlocks ||
        (blocks === bestBlocks && (this.#load[w]! < this.#load[best]! || (this.#load[w] === this.#load[best] && order(w) < order(best))))
      ) {
        best = w;
        bestBlocks = blocks;
      }
    }
    if (best < 0) {
      for (let i = 0; i < N; i++) {
        const w = (i + rot) % N;
        if (best < 0 || this.#load[w]! < this.#load[best]!) best = w;
      }
    }
    const old = this.#window[this.#pos]!;
    if (old >= 0) this.#load[old]!--;
    this.#window[this.#pos] = best;
    this.#load[best]!++;
    this.#pos = (this.#pos + 1) % this.#window.length;
    return best;
  }
}

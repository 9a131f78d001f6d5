import type { LoadMetrics } from '../events/types.js';
import type { EventQueue } from './clock.js';
import { chainBlockHash } from './engine-hash.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { PairMap } from './pair-map.js';
import type { SimRequest } from './workload.js';

/** Capacity and timing of one simulated engine. */
export interface EngineConfig {
  /** Tokens per KV block. */
  blockSize: number;
  /** KV blocks in the engine's pool. */
  capacityBlocks: number;
  /** Most requests running at once (vLLM `max_num_seqs`). */
  batchLimit: number;
  /** Prefill throughput in uncached prompt tokens per second. */
  prefillTokensPerSecond: number;
  /** Fixed cost of a prefill, in milliseconds. */
  prefillOverheadMs: number;
  /** Decode time per generated token, in milliseconds. */
  decodeMsPerToken: number;
}

/** Where an engine sends what it publishes. */
export interface EngineSink {
  /** One vLLM msgpack event batch (`[ts, events, dpRank]`, DESIGN §5); absent: the engine encodes no events. */
  events?(bytes: Uint8Array, workerId: string, dpRank: number): void;
  /** The engine's current load. */
  load(workerId: string, dpRank: number, metrics: LoadMetrics): void;
}

/** Callbacks of the request lifecycle. @internal */
export interface EngineHooks {
  /** Prefill finished: the first token is out. `hitBlocks` were served from the prefix cache. */
  firstToken(request: SimRequest, hitBlocks: number, promptBlocks: number): void;
  /** The request finished (or was `rejected` because it can never fit in the pool). */
  completed(request: SimRequest, rejected: boolean): void;
}

interface Flight {
  request: SimRequest;
  /** Prompt then generated tokens, materialized on first publish. */
  tokens: Uint32Array | undefined;
  tokenSource: () => Uint32Array;
  /** (lo, hi) engine hash per full block of the computed tokens. */
  hashes: Uint32Array;
  /** Pool slot per block of the request (prompt and output). */
  slots: Int32Array;
  hitBlocks: number;
  uncachedTokens: number;
}

const NIL = -1;

/**
 * A vLLM-like engine: a fixed pool of KV blocks with a prefix cache keyed by chained block
 * hashes, an LRU queue of unreferenced blocks (evicted from the front, freed blocks appended in
 * reverse order so a sequence's tail goes first), FCFS admission under a batch limit, one prefill
 * at a time, then decode. It publishes vLLM msgpack KV events and pushes its load.
 *
 * Simplifications: a request reserves its output blocks at admission (no preemption); generated
 * blocks are cached and published when the request completes.
 * @internal
 */
export class SimEngine {
  readonly workerId: string;
  readonly dpRank: number;
  private readonly cfg: EngineConfig;
  private readonly clock: EventQueue;
  private readonly sink: EngineSink | undefined;
  private readonly hooks: EngineHooks;

  // Block pool (struct of arrays).
  private readonly hashLo: Uint32Array;
  private readonly hashHi: Uint32Array;
  private readonly cached: Uint8Array;
  private readonly refs: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NIL;
  private tail = NIL;
  private freeCount = 0;
  /** Engine hash → pool slot of the cached block. */
  private readonly table: PairMap;

  private readonly waiting: Flight[] = [];
  private waitingHead = 0;
  private prefillBusy = false;
  private running = 0;
  private pendingPrefillTokens = 0;
  private readonly writer = new MsgpackWriter();
  private readonly removedScratch: number[] = [];
  /** Bumped whenever blocks are freed or cached (what can unblock the head of the queue). */
  private poolVersion = 0;
  private blockedAt = -1;

  /** Blocks evicted from the prefix cache so far. */
  evictions = 0;
  /** Event batches published so far. */
  batches = 0;

  constructor(workerId: string, dpRank: number, cfg: EngineConfig, clock: EventQueue, hooks: EngineHooks, sink?: EngineSink) {
    this.workerId = workerId;
    this.dpRank = dpRank;
    this.cfg = cfg;
    this.clock = clock;
    this.hooks = hooks;
    this.sink = sink;
    const c = cfg.capacityBlocks;
    this.table = new PairMap(c);
    this.hashLo = new Uint32Array(c);
    this.hashHi = new Uint32Array(c);
    this.cached = new Uint8Array(c);
    this.refs = new Int32Array(c);
    this.prev = new Int32Array(c);
    this.next = new Int32Array(c);
    for (let i = 0; i < c; i++) this.pushTail(i);
  }

  /** Requests queued or running. */
  get activeRequests(): number {
    return this.running + (this.waiting.length - this.waitingHead);
  }

  /** Requests admitted (in prefill or decode). */
  get runningRequests(): number {
    return this.running;
  }

  /** Blocks in the pool not referenced by a request. */
  get freeBlocks(): number {
    return this.freeCount;
  }

  /** Blocks of a prompt this engine would serve from cache now (vLLM never hits the last token). */
  cachedPrefixBlocks(hashes: Uint32Array, promptLength: number): number {
    const max = Math.floor((promptLength - 1) / this.cfg.blockSize);
    let n = 0;
    while (n < max && this.find(hashes[2 * n]!, hashes[2 * n + 1]!) !== NIL) n++;
    return n;
  }

  /**
   * Queues a request (FCFS). `hashes` are the engine hashes of every full block of the prompt and
   * generated tokens (see `engineBlockHashes`); `tokens` yields prompt then generated tokens
   * and is only called when the engine publishes events.
   */
  submit(request: SimRequest, hashes: Uint32Array, tokens: () => Uint32Array): void {
    const totalBlocks = Math.ceil((request.promptLength + request.outputLength) / this.cfg.blockSize);
    if (totalBlocks > this.cfg.capacityBlocks) {
      this.clock.at(this.clock.now, () => this.hooks.completed(request, true));
      return;
    }
    this.waiting.push({ request, tokenSource: tokens, tokens: undefined, hashes, slots: new Int32Array(totalBlocks), hitBlocks: 0, uncachedTokens: 0 });
    this.pendingPrefillTokens += request.promptLength;
    this.tryStart();
    this.pushLoad();
  }

  private tryStart(): void {
    while (!this.prefillBusy && this.waitingHead < this.waiting.length && this.running < this.cfg.batchLimit) {
      const flight = this.waiting[this.waitingHead]!;
      // Head-of-line waits for blocks; retry only once blocks were freed or cached since.
      if (this.blockedAt === this.poolVersion) break;
      if (!this.admit(flight)) {
        this.blockedAt = this.poolVersion;
        break;
      }
      this.blockedAt = -1;
      this.waiting[this.waitingHead++] = undefined as unknown as Flight;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      this.running++;
      this.prefillBusy = true;
      const ms = this.cfg.prefillOverheadMs + (flight.uncachedTokens * 1000) / this.cfg.prefillTokensPerSecond;
      this.clock.at(this.clock.now + ms, () => this.prefillDone(flight));
    }
  }

  private admit(flight: Flight): boolean {
    const req = flight.request;
    const hits = this.cachedPrefixBlocks(flight.hashes, req.promptLength);
    const slots = flight.slots;
    let hitsFree = 0;
    for (let i = 0; i < hits; i++) {
      const s = this.find(flight.hashes[2 * i]!, flight.hashes[2 * i + 1]!);
      slots[i] = s;
      if (this.refs[s] === 0) hitsFree++;
    }
    const need = slots.length - hits;
    if (this.freeCount - hitsFree < need) return false;
    for (let i = 0; i < hits; i++) {
      const s = slots[i]!;
      if (this.refs[s]++ === 0) this.unlink(s);
    }
    const removed = this.removedScratch;
    removed.length = 0;
    for (let i = hits; i < slots.length; i++) {
      const s = this.head;
      this.unlink(s);
      if (this.cached[s] === 1) {
        this.table.delete(this.hashLo[s]!, this.hashHi[s]!);
        this.cached[s] = 0;
        removed.push(this.hashLo[s]!, this.hashHi[s]!);
        this.evictions++;
      }
      this.refs[s] = 1;
      slots[i] = s;
    }
    if (removed.length > 0) this.publishRemoved(removed);
    flight.hitBlocks = hits;
    flight.uncachedTokens = req.promptLength - hits * this.cfg.blockSize;
    return true;
  }

  private prefillDone(flight: Flight): void {
    const req = flight.request;
    this.pendingPrefillTokens -= req.promptLength;
    this.cacheBlocks(flight, flight.hitBlocks, Math.floor(req.promptLength / this.cfg.blockSize));
    this.prefillBusy = false;
    this.hooks.firstToken(req, flight.hitBlocks, Math.floor(req.promptLength / this.cfg.blockSize));
    const decodeMs = Math.max(0, req.outputLength - 1) * this.cfg.decodeMsPerToken;
    this.clock.at(this.clock.now + decodeMs, () => this.complete(flight));
    this.tryStart();
    this.pushLoad();
  }

  private complete(flight: Flight): void {
    const req = flight.request;
    this.cacheBlocks(flight, Math.floor(req.promptLength / this.cfg.blockSize), flight.hashes.length / 2);
    const slots = flight.slots;
    this.poolVersion++;
    for (let i = slots.length - 1; i >= 0; i--) {
      const s = slots[i]!;
      if (--this.refs[s]! === 0) this.pushTail(s);
    }
    this.running--;
    this.hooks.completed(req, false);
    this.tryStart();
    this.pushLoad();
  }

  /** Caches full blocks [from, to) of a flight and publishes them as BlockStored runs. */
  private cacheBlocks(flight: Flight, from: number, to: number): void {
    this.poolVersion++;
    let runStart = -1;
    for (let i = from; i < to; i++) {
      const lo = flight.hashes[2 * i]!;
      const hi = flight.hashes[2 * i + 1]!;
      const s = flight.slots[i]!;
      const fresh = this.cached[s] === 0 && this.find(lo, hi) === NIL;
      if (fresh) {
        this.hashLo[s] = lo;
        this.hashHi[s] = hi;
        this.cached[s] = 1;
        this.table.set(lo, hi, s);
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        this.publishStored(flight, runStart, i);
        runStart = -1;
      }
    }
    if (runStart >= 0) this.publishStored(flight, runStart, to);
  }

  private publishStored(flight: Flight, from: number, to: number): void {
    if (this.sink?.events === undefined) return;
    const B = this.cfg.blockSize;
    const tokens = (flight.tokens ??= flight.tokenSource());
    const w = this.beginBatch();
    w.arrayHeader(7);
    w.str('BlockStored');
    w.arrayHeader(to - from);
    for (let i = from; i < to; i++) w.u64(flight.hashes[2 * i]!, flight.hashes[2 * i + 1]!);
    if (from === 0) w.nil();
    else w.u64(flight.hashes[2 * from - 2]!, flight.hashes[2 * from - 1]!);
    w.arrayHeader((to - from) * B);
    for (let t = from * B, end = to * B; t < end; t++) w.uint(tokens[t]!);
    w.uint(B);
    w.nil(); // lora_id
    w.str('GPU');
    this.endBatch();
  }

  private publishRemoved(pairs: number[]): void {
    if (this.sink?.events === undefined) return;
    const w = this.beginBatch();
    w.arrayHeader(3);
    w.str('BlockRemoved');
    w.arrayHeader(pairs.length / 2);
    for (let i = 0; i < pairs.length; i += 2) w.u64(pairs[i]!, pairs[i + 1]!);
    w.str('GPU');
    this.endBatch();
  }

  /** Starts `[ts, [event], dpRank]` with one event. */
  private beginBatch(): MsgpackWriter {
    const w = this.writer;
    w.reset();
    w.arrayHeader(3);
    w.float64(this.clock.now / 1000);
    w.arrayHeader(1);
    return w;
  }

  private endBatch(): void {
    this.writer.uint(this.dpRank);
    this.batches++;
    this.sink!.events!(this.writer.bytes(), this.workerId, this.dpRank);
  }

  private pushLoad(): void {
    if (this.sink === undefined) return;
    const used = this.cfg.capacityBlocks - this.freeCount;
    this.sink.load(this.workerId, this.dpRank, {
      requestActiveSlots: this.running,
      requestTotalSlots: this.cfg.batchLimit,
      numRequestsWaiting: this.waiting.length - this.waitingHead,
      kvActiveBlocks: used,
      kvTotalBlocks: this.cfg.capacityBlocks,
      gpuCacheUsagePerc: used / this.cfg.capacityBlocks,
      dataParallelRank: this.dpRank,
      activePrefillTokens: this.pendingPrefillTokens,
    });
  }

  private find(lo: number, hi: number): number {
    return this.table.get(lo, hi);
  }

  private pushTail(s: number): void {
    this.prev[s] = this.tail;
    this.next[s] = NIL;
    if (this.tail === NIL) this.head = s;
    else this.next[this.tail] = s;
    this.tail = s;
    this.freeCount++;
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p === NIL) this.head = n;
    else this.next[p] = n;
    if (n === NIL) this.tail = p;
    else this.prev[n] = p;
    this.freeCount--;
  }
}


/**
 * Engine hashes of every full block of a request's computed tokens (the prompt and all generated
 * tokens but the last), as (lo, hi) pairs.
 * @internal
 */
export function engineBlockHashes(prompt: Uint32Array, output: Uint32Array, blockSize: number): Uint32Array {
  const tokens = new Uint32Array(prompt.length + output.length);
  tokens.set(prompt);
  tokens.set(output, prompt.length);
  const nFull = Math.floor((tokens.length - 1) / blockSize);
  const hashes = new Uint32Array(2 * nFull);
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < nFull; i++) {
    chainBlockHash(lo, hi, tokens, i * blockSize, blockSize, hashes, 2 * i);
    lo = hashes[2 * i]!;
    hi = hashes[2 * i + 1]!;
  }
  return hashes;
}

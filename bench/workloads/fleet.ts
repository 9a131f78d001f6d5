/**
 * The *fleet* workload: W workers × C blocks each, with the sharing real fleets have, from a seed.
 *
 * The prefix tree is made of segments (runs of blocks), each attached under the last block of its
 * parent segment:
 * - system prompts (4, 100–2000 blocks, at most C/4), each held by ~90% of workers;
 * - long documents (4, min(8192, C/2) blocks, under a system prompt), each held by ~3% of workers:
 *   they make the deep (32K/128K-token) queries hit;
 * - tenant branches (32, 50–400 blocks, under a system prompt);
 * - conversation branches (8·W, 20–300 blocks, under a tenant), picked by workers with Zipf
 *   popularity, so popular conversations sit on many workers;
 * - private tails (10–200 blocks, under a conversation), one per pick, unique to the worker.
 * A worker takes system prompts and documents, then conversations (storing missing ancestors
 * first) each followed by a private tail, until it holds exactly C blocks.
 *
 * Block `i` of segment `s` has tokens `mix3(s, i, j) mod 151936` (j < B), so tokens hashes are real
 * XXH3 hashes of real token ids (the router can be driven with the same prompts), and the engine
 * block hash is a 64-bit mix of (s, i) (content-addressed like vLLM's: equal on every worker).
 * Events: `stored` chains of 16–256 blocks with parents; removal streams drop each worker's blocks
 * deepest first. Everything is a pure function of (config, seed).
 */
import type { Hasher } from '../../src/hashing/index.js';
import type { RemovedEvent, StoredEvent } from '../../src/radix/types.js';
import { Rng, mix3, u64 } from '../lib/rng.js';

/** Size and seed of a fleet. */
export interface FleetConfig {
  workers: number;
  blocksPerWorker: number;
  blockSize: number;
  seed: number;
}

/** A run of blocks under the last block of `parent` (-1: the root). */
interface Segment {
  id: number;
  parent: number;
  /** Depth (blocks from the root) of the segment's first block. */
  start: number;
  len: number;
}

/** Blocks `[0, to)` of a segment, stored in one go. */
interface Piece {
  seg: Segment;
  to: number;
}

/** A query prompt. */
export interface FleetQuery {
  kind: 'hit' | 'partial' | 'miss';
  /** Tokens hashes, one per block. */
  hashes: BigUint64Array;
  /** Blocks of the query that lie on a stored path (a hit's whole prefix; an upper bound of any overlap). */
  onPath: number;
  /** The prompt's token ids (kept for short queries only, to drive the router). */
  tokens?: Uint32Array;
}

const VOCAB = 151_936;
const N_SYSTEM = 4;
const N_DOCS = 4;
const N_TENANTS = 32;
const PRIVATE_BASE = 0x0100_0000;
const FRESH_BASE = 0xf000_0000;

/** The workload generator; see the module comment. */
export class Fleet {
  readonly config: FleetConfig;
  readonly #hasher: Hasher;
  readonly #shared: Segment[] = [];
  readonly #system: Segment[] = [];
  readonly #docs: Segment[] = [];
  readonly #convs: Segment[] = [];
  /** Tokens hashes (lo, hi pairs) of shared segments, computed once. */
  readonly #sharedHashes = new Map<number, Uint32Array>();
  readonly #plans = new Map<number, Piece[]>();

  constructor(config: FleetConfig, hasher: Hasher) {
    if (hasher.blockSize !== config.blockSize) throw new RangeError(`hasher block size ${hasher.blockSize} != fleet block size ${config.blockSize}`);
    this.config = config;
    this.#hasher = hasher;
    const rng = new Rng(config.seed);
    const C = config.blocksPerWorker;
    const add = (parent: number, len: number): Segment => {
      const p = parent < 0 ? null : this.#shared[parent]!;
      const seg = { id: this.#shared.length, parent, start: p === null ? 0 : p.start + p.len, len: Math.max(1, len) };
      this.#shared.push(seg);
      return seg;
    };
    for (let s = 0; s < N_SYSTEM; s++) this.#system.push(add(-1, Math.min(rng.int(100, 2000), Math.floor(C / 4))));
    for (let d = 0; d < N_DOCS; d++) this.#docs.push(add(this.#system[d % N_SYSTEM]!.id, Math.min(8192, Math.floor(C / 2))));
    const tenants: Segment[] = [];
    for (let t = 0; t < N_TENANTS; t++) tenants.push(add(this.#system[rng.int(0, N_SYSTEM - 1)]!.id, Math.min(rng.int(50, 400), Math.floor(C / 8))));
    const nConv = 8 * config.workers;
    for (let c = 0; c < nConv; c++) this.#convs.push(add(tenants[rng.int(0, N_TENANTS - 1)]!.id, Math.min(rng.int(20, 300), Math.floor(C / 8))));
  }

  /** The id of worker `w` (an `ip:port` endpoint, as EPPs name pods). */
  workerId(w: number): string {
    return `10.${(w >> 16) & 255}.${(w >> 8) & 255}.${w & 255}:8000`;
  }

  /** Total (worker, block) entries once every worker is stored. */
  get entries(): number {
    return this.config.workers * this.config.blocksPerWorker;
  }

  /** Hashes every shared segment now (so later memory measurements do not count this cache). */
  warm(): void {
    for (const s of this.#shared) this.#segmentHashes(s);
  }

  /** Writes the tokens of blocks `[from, to)` of segment id `segId` into `out` at `offset`. */
  #writeTokens(segId: number, from: number, to: number, out: Uint32Array, offset: number): void {
    const B = this.config.blockSize;
    let o = offset;
    for (let i = from; i < to; i++) for (let j = 0; j < B; j++) out[o++] = mix3(segId, i, j) % VOCAB;
  }

  #hashTokens(tokens: Uint32Array): Uint32Array {
    return this.#hasher.blockHashesU32(tokens).slice();
  }

  #segmentHashes(seg: Segment): Uint32Array {
    let h = this.#sharedHashes.get(seg.id);
    if (h === undefined) {
      const tokens = new Uint32Array(seg.len * this.config.blockSize);
      this.#writeTokens(seg.id, 0, seg.len, tokens, 0);
      h = this.#hashTokens(tokens);
      if (seg.id < PRIVATE_BASE) this.#sharedHashes.set(seg.id, h);
    }
    return h;
  }

  #segment(id: number): Segment {
    return this.#shared[id]!;
  }

  /** What worker `w` stores, in order (deterministic). */
  plan(w: number): Piece[] {
    const cached = this.#plans.get(w);
    if (cached !== undefined) return cached;
    const rng = new Rng(this.config.seed * 7919 + w + 1);
    const held = new Set<number>();
    const pieces: Piece[] = [];
    let budget = this.config.blocksPerWorker;
    const take = (seg: Segment): boolean => {
      if (held.has(seg.id)) return true;
      if (seg.parent >= 0 && !take(this.#segment(seg.parent))) return false;
      const n = Math.min(seg.len, budget);
      if (n <= 0) return false;
      pieces.push({ seg, to: n });
      budget -= n;
      if (n < seg.len) return false;
      held.add(seg.id);
      return true;
    };
    for (const s of this.#system) if (rng.chance(0.9)) take(s);
    this.#docs.forEach((d, k) => {
      if (w === k % this.config.workers || mix3(w, k, 7) % 100 < 3) take(d);
    });
    let tail = 0;
    while (budget > 0) {
      const conv = this.#convs[rng.zipf(this.#convs.length)]!;
      if (!take(conv)) break;
      const len = Math.min(rng.int(10, 200), budget);
      if (len <= 0) break;
      const seg: Segment = { id: PRIVATE_BASE + w * 65536 + tail++, parent: conv.id, start: conv.start + conv.len, len };
      pieces.push({ seg, to: len });
      budget -= len;
    }
    if (this.#plans.size < 4096) this.#plans.set(w, pieces);
    return pieces;
  }

  #blockHash(segId: number, i: number): bigint {
    // Two independent 32-bit mixes (mix3's (a, b) stage differs), so the 64 bits do not collide
    // whenever 32 bits do.
    return u64(mix3(segId, i, 0x6b6c), mix3(segId ^ 0xa5a5a5a5, i ^ 0x3c3c3c3c, 0x6b6d));
  }

  #lastBlockHashOfParent(seg: Segment): bigint | null {
    return seg.parent < 0 ? null : this.#blockHash(seg.parent, this.#segment(seg.parent).len - 1);
  }

  /** The stored chains of worker `w` (16–256 blocks each, with parents); exactly C blocks in all. */
  #chains(w: number, withTokens: boolean): Array<{ parentHash: bigint | null; blockHashes: bigint[]; tokensHashes: bigint[]; tokens?: Uint32Array }> {
    const rng = new Rng(this.config.seed * 31 + w);
    const B = this.config.blockSize;
    const out: Array<{ parentHash: bigint | null; blockHashes: bigint[]; tokensHashes: bigint[]; tokens?: Uint32Array }> = [];
    for (const { seg, to } of this.plan(w)) {
      let hashes: Uint32Array;
      let tokens: Uint32Array | null = null;
      if (seg.id >= PRIVATE_BASE || withTokens) {
        tokens = new Uint32Array(to * B);
        this.#writeTokens(seg.id, 0, to, tokens, 0);
      }
      if (seg.id >= PRIVATE_BASE) hashes = this.#hasher.blockHashesU32(tokens!);
      else hashes = this.#segmentHashes(seg);
      let i = 0;
      while (i < to) {
        const end = Math.min(to, i + rng.int(16, 256));
        const blockHashes = new Array<bigint>(end - i);
        const tokensHashes = new Array<bigint>(end - i);
        for (let k = i; k < end; k++) {
          blockHashes[k - i] = this.#blockHash(seg.id, k);
          tokensHashes[k - i] = u64(hashes[2 * k]!, hashes[2 * k + 1]!);
        }
        const parentHash = i === 0 ? this.#lastBlockHashOfParent(seg) : this.#blockHash(seg.id, i - 1);
        const chain: { parentHash: bigint | null; blockHashes: bigint[]; tokensHashes: bigint[]; tokens?: Uint32Array } = { parentHash, blockHashes, tokensHashes };
        if (withTokens) chain.tokens = tokens!.slice(i * B, end * B);
        out.push(chain);
        i = end;
      }
    }
    return out;
  }

  /** The stored events of worker `w` (chains of 16–256 blocks with parents); exactly C blocks. */
  storedEvents(w: number): StoredEvent[] {
    const workerId = this.workerId(w);
    return this.#chains(w, false).map((c) => ({
      type: 'stored',
      workerId,
      parentHash: c.parentHash,
      blocks: c.blockHashes.map((blockHash, k) => ({ blockHash, tokensHash: c.tokensHashes[k]! })),
    }));
  }

  /** The same chains as {@link Fleet.storedEvents}, engine-side: block hashes, parent and token ids (vLLM `BlockStored`). */
  engineStored(w: number): Array<{ parentBlockHash: bigint | null; blockHashes: bigint[]; tokenIds: Uint32Array }> {
    return this.#chains(w, true).map((c) => ({ parentBlockHash: c.parentHash, blockHashes: c.blockHashes, tokenIds: c.tokens! }));
  }

  /** Removal stream of worker `w`: all its blocks, deepest first, 64 per event. */
  removedEvents(w: number): RemovedEvent[] {
    const workerId = this.workerId(w);
    const all: bigint[] = [];
    const pieces = this.plan(w);
    for (let p = pieces.length - 1; p >= 0; p--) {
      const { seg, to } = pieces[p]!;
      for (let i = to - 1; i >= 0; i--) all.push(this.#blockHash(seg.id, i));
    }
    const events: RemovedEvent[] = [];
    for (let i = 0; i < all.length; i += 64) events.push({ type: 'removed', workerId, blockHashes: all.slice(i, i + 64) });
    return events;
  }

  /** Pieces (of the first 256 workers) that reach `depth` blocks, or the deepest ones when none does. */
  #deepPieces(depth: number): Piece[] {
    const all: Piece[] = [];
    let deepest = 0;
    for (let w = 0; w < Math.min(256, this.config.workers); w++) {
      for (const p of this.plan(w)) {
        const d = p.seg.start + p.to;
        if (d >= Math.min(depth, deepest)) all.push(p);
        deepest = Math.max(deepest, d);
      }
    }
    return all.filter((p) => p.seg.start + p.to >= Math.min(depth, deepest));
  }

  /** Ancestor chain of a segment, root first. */
  #ancestry(seg: Segment): Segment[] {
    const chain: Segment[] = [seg];
    let s = seg;
    while (s.parent >= 0) chain.unshift((s = this.#segment(s.parent)));
    return chain;
  }

  /**
   * `count` query prompts of `depth` blocks: ~50% hits (a stored path of some worker, as deep as
   * one exists, then fresh blocks if the path is shorter), ~40% partial hits (a stored path cut
   * at a random point, then fresh blocks), ~10% misses (fresh blocks only).
   */
  queries(depth: number, count: number, keepTokens: boolean): FleetQuery[] {
    const rng = new Rng(this.config.seed * 131 + depth);
    const B = this.config.blockSize;
    const out: FleetQuery[] = [];
    const deep = this.#deepPieces(depth);
    for (let q = 0; q < count; q++) {
      const r = rng.next();
      const kind: FleetQuery['kind'] = r < 0.5 ? 'hit' : r < 0.9 ? 'partial' : 'miss';
      const tokens = new Uint32Array(depth * B);
      let onPath = 0;
      if (kind !== 'miss') {
        // A hit wants a stored path at least `depth` deep: take one of those when any exists
        // (deep ones are rare: long documents), else the deepest of a few random pieces.
        let best: Piece;
        if (deep.length > 0 && rng.chance(kind === 'hit' ? 1 : 0.5)) best = deep[rng.int(0, deep.length - 1)]!;
        else {
          const pieces = this.plan(rng.int(0, this.config.workers - 1));
          best = pieces[rng.int(0, pieces.length - 1)]!;
          for (let tries = 0; tries < 8 && best.seg.start + best.to < depth; tries++) {
            const p = pieces[rng.int(0, pieces.length - 1)]!;
            if (p.seg.start + p.to > best.seg.start + best.to) best = p;
          }
        }
        const pathLen = Math.min(depth, best.seg.start + best.to);
        onPath = kind === 'hit' || pathLen < 2 ? pathLen : rng.int(1, pathLen - 1);
        let written = 0;
        for (const seg of this.#ancestry(best.seg)) {
          const n = Math.min(seg.len, onPath - written);
          if (n <= 0) break;
          this.#writeTokens(seg.id, 0, n, tokens, written * B);
          written += n;
        }
      }
      // Fresh blocks: this query's own segment, so partial hits diverge for real.
      this.#writeTokens(FRESH_BASE + ((depth * 7919 + q) & 0x0fff_ffff), onPath, depth, tokens, onPath * B);
      const hashes = this.#hasher.blockHashes(tokens);
      const query: FleetQuery = { kind, hashes, onPath };
      if (keepTokens) query.tokens = tokens;
      out.push(query);
    }
    return out;
  }
}

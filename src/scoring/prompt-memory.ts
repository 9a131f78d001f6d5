import { LRUCache } from 'lru-cache';
import { BlockIds } from './block-ids.js';
import { PairCounter } from './pair-counter.js';

/** One routed prompt remembered on one cache slot. */
interface PromptRecord {
  /** Block ids (see {@link BlockIds}) of the prompt's leading blocks; emptied when absorbed by a longer record. */
  ids: Int32Array;
  /** Sequence hash of the deepest block: names the whole prefix. */
  readonly lo: number;
  readonly hi: number;
  /** Clock reading when last recorded (lru-cache's TTL start). */
  start: number;
}

/**
 * What the router remembers of prompts it routed, for a TTL: the approximate index of workers
 * that publish no KV events, and the short-lived predicted overlay on top of exact events
 * (DESIGN §6).
 *
 * One `lru-cache` per cache slot holds *records* (one per routed prompt, keyed by the sequence
 * hash of its deepest block, which names the whole prefix); the cache's `ttl` decides expiry and
 * its `maxSize` (in blocks) bounds a slot. Recording the same prompt again refreshes its record:
 * one cache operation. Block-level state is derived and kept in typed arrays:
 * - {@link BlockIds} maps a block's sequence hash to a dense id;
 * - a {@link PairCounter} counts, per (block id, slot), the live records covering the block, so a
 *   block leaves a slot only when the last record covering it expires or is evicted;
 * - `holders[id]` lists the slots holding the block, so {@link PromptMemory.match} finds the
 *   overlap of every slot in one walk of the prompt, stopping at the first block nobody holds.
 *
 * A slot's held set is prefix-closed (a record covers every block up to its deepest one and a
 * sequence hash names its prefix), so along a prompt each block's holders are a subset of the
 * previous block's: the walk only does per-slot work where the holder count drops.
 *
 * Expiry is lazy: before each lookup or record, slots whose oldest record (the LRU head: records
 * are only touched by `set`, and every record has the same TTL) may be stale are purged through
 * the cache (`has` says whether the head is stale; `delete` disposes it).
 *
 * @internal
 */
export class PromptMemory {
  private readonly caches: Array<LRUCache<number, PromptRecord> | undefined> = [];
  private readonly perf: { now: () => number };
  private readonly blocks = new BlockIds();
  /** (block id, slot) → live records of the slot covering the block. */
  private readonly pairs = new PairCounter(1024);
  /** Block id → slots holding it (unordered). */
  private readonly holders: number[][] = [];
  /** Slots with at least one record, and each slot's position in that list (−1 = none). */
  private readonly live: number[] = [];
  private livePos = new Int32Array(0);
  /** Slot → TTL start of its oldest record (a lower bound: a purge re-reads it). */
  private headStart = new Float64Array(0);
  /** Slot → overlap found by the last {@link PromptMemory.match}, valid where the stamp matches. */
  private depthStamp = new Uint32Array(0);
  private depthValue = new Int32Array(0);
  private stamp = 1;
  /** Scratch marks for the holder-set difference in {@link PromptMemory.match}. */
  private mark = new Uint32Array(0);
  private markStamp = 1;

  constructor(
    private readonly ttlMs: number,
    private readonly maxBlocksPerSlot: number,
    now: () => number,
  ) {
    // lru-cache treats a start of 0 as "no TTL": keep readings non-zero (0 − 5e-324 is still 0 ms).
    this.perf = {
      now: () => {
        const t = now();
        return t === 0 ? Number.MIN_VALUE : t;
      },
    };
  }

  private ensureSlot(slot: number): void {
    if (slot < this.livePos.length) return;
    let cap = Math.max(16, this.livePos.length * 2);
    while (cap <= slot) cap *= 2;
    const grow = <T extends Int32Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T, fill = 0): T => {
      const b = make(cap);
      if (fill !== 0) b.fill(fill);
      b.set(a);
      return b;
    };
    this.livePos = grow(this.livePos, (n) => new Int32Array(n), -1);
    this.headStart = grow(this.headStart, (n) => new Float64Array(n));
    this.depthStamp = grow(this.depthStamp, (n) => new Uint32Array(n));
    this.depthValue = grow(this.depthValue, (n) => new Int32Array(n));
    this.mark = grow(this.mark, (n) => new Uint32Array(n));
  }

  private cacheFor(slot: number): LRUCache<number, PromptRecord> {
    let c = this.caches[slot];
    if (c === undefined) {
      c = new LRUCache<number, PromptRecord>({
        ttl: this.ttlMs,
        // Check the (possibly injected) clock on every lookup instead of caching it behind a timer.
        ttlResolution: 0,
        // Iteration from the LRU end must see the stale head to purge it.
        allowStale: true,
        maxSize: this.maxBlocksPerSlot,
        sizeCalculation: (r) => r.ids.length,
        dispose: (r) => this.release(slot, r),
        perf: this.perf,
      });
      this.caches[slot] = c;
    }
    return c;
  }

  /**
   * Remembers the prompt (sequence hashes as (lo, hi) pairs) as held by the slot for the TTL.
   * The same prompt again refreshes its record; a prompt longer than the slot's bound keeps its
   * leading blocks.
   *
   * `heldHint`: how many leading blocks the slot is believed to hold (e.g. its {@link PromptMemory.depth}
   * from this prompt's match). When a record of exactly that prefix exists, the new record takes
   * over its blocks instead of counting them again (it covers them for longer): the next turn of a
   * conversation costs its new blocks only. The hint is verified; any value is safe.
   */
  record(slot: number, keys: Uint32Array, count: number, heldHint = 0): void {
    if (count > this.maxBlocksPerSlot) count = this.maxBlocksPerSlot;
    if (count <= 0) return;
    const now = this.perf.now();
    this.expire(now);
    this.ensureSlot(slot);
    const lo = keys[2 * count - 2]!;
    const hi = keys[2 * count - 1]!;
    const cache = this.cacheFor(slot);
    const key = keyOf(lo, hi);
    const old = cache.peek(key);
    if (old !== undefined && old.lo === lo && old.hi === hi && old.ids.length === count) {
      old.start = now;
      cache.set(key, old, { start: now }); // same value: no dispose, TTL restarts, moves to the MRU end
      return;
    }
    const ids = new Int32Array(count);
    let from = 0;
    if (heldHint > 0 && heldHint < count) {
      const plo = keys[2 * heldHint - 2]!;
      const phi = keys[2 * heldHint - 1]!;
      const pkey = keyOf(plo, phi);
      const prefix = cache.peek(pkey);
      if (prefix !== undefined && prefix.lo === plo && prefix.hi === phi && prefix.ids.length === heldHint) {
        // The prefix's record is older and covers a subset: hand its counts to the new record.
        ids.set(prefix.ids);
        from = heldHint;
        prefix.ids = NO_IDS;
        cache.delete(pkey);
      }
    }
    const blocks = this.blocks;
    const pairs = this.pairs;
    const holders = this.holders;
    for (let k = from; k < count; k++) {
      const id = blocks.intern(keys[2 * k]!, keys[2 * k + 1]!);
      ids[k] = id;
      if (pairs.increment(id, slot)) {
        const h = holders[id];
        if (h === undefined) holders[id] = [slot];
        else h.push(slot);
      }
    }
    const wasEmpty = cache.size === 0;
    // A different prompt under the same 53-bit key replaces (and disposes) the old record.
    cache.set(key, { ids, lo, hi, start: now }, { start: now });
    if (wasEmpty && cache.size > 0) {
      this.headStart[slot] = now;
      if (this.livePos[slot]! < 0) {
        this.livePos[slot] = this.live.length;
        this.live.push(slot);
      }
    }
  }

  /** A record left the cache (expired, evicted, replaced or cleared): drop what it alone covered. */
  private release(slot: number, r: PromptRecord): void {
    const { ids } = r;
    const pairs = this.pairs;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (!pairs.decrement(id, slot)) continue;
      const h = this.holders[id]!;
      const at = h.indexOf(slot);
      h[at] = h[h.length - 1]!;
      h.pop();
      if (h.length === 0) this.blocks.release(id);
    }
  }

  /** Purges every slot whose oldest record may have expired. */
  private expire(now: number): void {
    const live = this.live;
    const ttl = this.ttlMs;
    for (let i = 0; i < live.length; i++) {
      const slot = live[i]!;
      // Same test as lru-cache's staleness (now − start > ttl); the cache has the last word.
      if (now - this.headStart[slot]! > ttl && this.purgeSlot(slot)) i--;
    }
  }

  /** Deletes the slot's stale records from the LRU end; returns true when the slot left the live list. */
  private purgeSlot(slot: number): boolean {
    const cache = this.caches[slot]!;
    for (;;) {
      if (cache.size === 0) {
        this.unlist(slot);
        return true;
      }
      const head = cache.rentries().next().value as [number, PromptRecord];
      if (cache.has(head[0])) {
        this.headStart[slot] = head[1].start;
        return false;
      }
      cache.delete(head[0]);
    }
  }

  private unlist(slot: number): void {
    const at = this.livePos[slot]!;
    if (at < 0) return;
    const last = this.live.pop()!;
    if (last !== slot) {
      this.live[at] = last;
      this.livePos[last] = at;
    }
    this.livePos[slot] = -1;
  }

  /**
   * Finds, in one walk of the prompt, how many leading blocks every slot holds (unexpired); read
   * them with {@link PromptMemory.depth} until the next call.
   */
  match(keys: Uint32Array, count: number): void {
    this.expire(this.perf.now());
    if (++this.stamp === 0xffffffff) {
      this.depthStamp.fill(0);
      this.stamp = 1;
    }
    if (this.blocks.size === 0) return;
    const blocks = this.blocks;
    const holders = this.holders;
    let cur: number[] | undefined;
    let d = 0;
    for (; d < count; d++) {
      const id = blocks.get(keys[2 * d]!, keys[2 * d + 1]!);
      if (id < 0) break;
      const h = holders[id]!;
      if (cur !== undefined && h.length !== cur.length) this.settleDropped(cur, h, d);
      cur = h;
    }
    if (cur !== undefined) for (let k = 0; k < cur.length; k++) this.setDepth(cur[k]!, d);
  }

  /** Holders of the previous block missing from the next one hold exactly `d` blocks. */
  private settleDropped(prev: number[], next: number[], d: number): void {
    if (++this.markStamp === 0xffffffff) {
      this.mark.fill(0);
      this.markStamp = 1;
    }
    const m = this.markStamp;
    const mark = this.mark;
    for (let k = 0; k < next.length; k++) mark[next[k]!] = m;
    for (let k = 0; k < prev.length; k++) {
      const slot = prev[k]!;
      if (mark[slot] !== m) this.setDepth(slot, d);
    }
  }

  private setDepth(slot: number, d: number): void {
    this.depthStamp[slot] = this.stamp;
    this.depthValue[slot] = d;
  }

  /** Leading blocks the slot holds, as found by the last {@link PromptMemory.match}. */
  depth(slot: number): number {
    return slot < this.depthStamp.length && this.depthStamp[slot] === this.stamp ? this.depthValue[slot]! : 0;
  }

  /** {@link PromptMemory.match} then {@link PromptMemory.depth} for one slot. */
  overlap(slot: number, keys: Uint32Array, count: number): number {
    this.match(keys, count);
    return this.depth(slot);
  }

  /** Whether the slot holds the block (sequence hash (lo, hi)) now. */
  holds(slot: number, lo: number, hi: number): boolean {
    this.expire(this.perf.now());
    const id = this.blocks.get(lo, hi);
    return id >= 0 && this.pairs.get(id, slot) > 0;
  }

  /** Blocks in the slot's records (a block shared by two records counts twice; expired ones may linger until touched). */
  size(slot: number): number {
    return this.caches[slot]?.calculatedSize ?? 0;
  }

  /** Distinct (slot, block) entries held over all slots (expired ones may linger until touched). */
  totalSize(): number {
    return this.pairs.size;
  }

  /** Drops everything remembered for the slot. */
  clearSlot(slot: number): void {
    const c = this.caches[slot];
    if (c === undefined) return;
    c.clear(); // disposes every record
    this.caches[slot] = undefined;
    this.unlist(slot);
  }

  /** Drops expired records of every slot (they are already ignored by lookups). */
  purgeStale(): void {
    this.expire(this.perf.now());
  }
}

const NO_IDS = new Int32Array(0);

/** The low 53 bits of a u64 as a number: a record key (the full hash is checked on a hit). */
function keyOf(lo: number, hi: number): number {
  return (hi & 0x1fffff) * 4294967296 + lo;
}

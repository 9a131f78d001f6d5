import { LRUCache } from 'lru-cache';

/**
 * What the router remembers of prompts it routed, per cache slot, for a TTL: the approximate
 * index of workers that publish no KV events, and the short-lived predicted overlay on top of
 * exact events (DESIGN §6). One `lru-cache` per slot, keyed by the block's sequence hash.
 *
 * Keys are the low 53 bits of the u64 sequence hash (`lo + (hi mod 2^21)·2^32`), so they are
 * plain numbers; a false match needs two of a worker's ≤ 2^20 remembered blocks to share 53 bits
 * with the query (≈ 2^-33 per lookup): harmless for an estimate.
 *
 * @internal
 */
export class PromptMemory {
  private readonly caches: Array<LRUCache<number, true> | undefined> = [];
  private readonly perf: { now: () => number };

  constructor(
    private readonly ttlMs: number,
    private readonly maxBlocksPerSlot: number,
    now: () => number,
  ) {
    this.perf = { now };
  }

  private cacheFor(slot: number): LRUCache<number, true> {
    let c = this.caches[slot];
    if (c === undefined) {
      c = new LRUCache<number, true>({
        ttl: this.ttlMs,
        // Check the (possibly injected) clock on every lookup instead of caching it behind a timer.
        ttlResolution: 0,
        maxSize: this.maxBlocksPerSlot,
        sizeCalculation: () => 1,
        perf: this.perf,
      });
      this.caches[slot] = c;
    }
    return c;
  }

  /**
   * Remembers the prompt's blocks (sequence hashes as (lo, hi) pairs) on the slot, refreshing their
   * TTL. Deepest block first, so a block's prefix is always at least as recent as the block: LRU
   * eviction and TTL expiry then keep every slot's set prefix-closed (see {@link PromptMemory.overlap}).
   */
  record(slot: number, keys: Uint32Array, count: number): void {
    const c = this.cacheFor(slot);
    for (let k = count - 1; k >= 0; k--) c.set(keyOf(keys[2 * k]!, keys[2 * k + 1]!), true);
  }

  /**
   * Leading blocks of the prompt the slot holds (unexpired). A sequence hash names its whole
   * prefix and the set is prefix-closed, so "holds block d" is monotone in d: binary search,
   * O(log n) lookups instead of a walk.
   */
  overlap(slot: number, keys: Uint32Array, count: number): number {
    const c = this.caches[slot];
    if (c === undefined || c.size === 0 || count === 0) return 0;
    if (!c.has(keyOf(keys[0]!, keys[1]!))) return 0;
    let held = 1; // blocks [0, held) are held
    let hi = count; // blocks [hi, count) are not known held; block hi − 1 may be
    while (held < hi) {
      const mid = (held + hi + 1) >>> 1; // test block mid − 1
      if (c.has(keyOf(keys[2 * (mid - 1)]!, keys[2 * (mid - 1) + 1]!))) held = mid;
      else hi = mid - 1;
    }
    return held;
  }

  /** Blocks remembered for the slot (expired ones may linger until touched). */
  size(slot: number): number {
    return this.caches[slot]?.size ?? 0;
  }

  /** Blocks remembered over all slots. */
  totalSize(): number {
    let n = 0;
    for (const c of this.caches) if (c !== undefined) n += c.size;
    return n;
  }

  /** Drops everything remembered for the slot. */
  clearSlot(slot: number): void {
    this.caches[slot] = undefined;
  }

  /** Drops expired entries of every slot (they are already ignored by lookups). */
  purgeStale(): void {
    for (const c of this.caches) c?.purgeStale();
  }
}

function keyOf(lo: number, hi: number): number {
  return (hi & 0x1fffff) * 4294967296 + lo;
}

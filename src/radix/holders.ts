/**
 * Holder lists: which caches hold a node's blocks, in which tiers, under which names.
 *
 * Every node's list is a sorted run of u32 **holder words** in one pooled `Uint32Array`:
 * `slot | tiers << 16 | canonical-name bit << 19 | name count << 20`. Runs live in power-of-two
 * chunks (capacity `1 << capLog` words) recycled through one free list per size, so a node's list
 * grows by moving to the next chunk size and nothing is allocated per event.
 *
 * @internal
 */
import { growU32, pow2AtLeast } from './tables.js';

/** Low 16 bits of a holder word: the cache slot. @internal */
export const SLOT_MASK = 0xffff;
/** Caches an index can hold (slots fit in {@link SLOT_MASK}). @internal */
export const MAX_SLOTS = 0x10000;
/** Shift of the 3 tier bits (device 1, host 2, disk 4). @internal */
export const TIER_SHIFT = 16;
/** The cache names the blocks by their canonical names. @internal */
export const CANON = 1 << 19;
/** One name in the name count (bits 20..30). @internal */
export const NAME_ONE = 1 << 20;
/** Most names one cache may give one path. @internal */
export const NAME_MAX = 2047;
/** Free-list terminator stored in a free chunk's first word. */
const NONE = 0xffffffff;
/** Chunk sizes 1 << 0 .. 1 << 16 words (a list holds at most {@link MAX_SLOTS} words). @internal */
export const CHUNK_SIZES = 17;

/** Tier bits of a holder word. @internal */
export function tiersOf(v: number): number {
  return (v >>> TIER_SHIFT) & 7;
}

/** The best tier of a non-empty tier mask as a column 1..3 (device, host, disk). @internal */
export function bestColumn(t: number): number {
  return (t & 1) !== 0 ? 1 : (t & 2) !== 0 ? 2 : 3;
}

/** Number of tiers in a tier mask. @internal */
export function popcount3(t: number): number {
  return (t & 1) + ((t >> 1) & 1) + ((t >> 2) & 1);
}

/** The pooled holder words with their chunk allocator. @internal */
export class HolderPool {
  /** Holder words of every node's list (grown, never shrunk; re-read after {@link HolderPool.alloc}). */
  words: Uint32Array;
  /** Words handed out so far (the pool's high-water mark). */
  top = 0;
  /** Head of the free list of each chunk size (-1: empty); a free chunk's first word links the next. */
  readonly free = new Int32Array(CHUNK_SIZES).fill(-1);

  constructor(capacity: number) {
    this.words = new Uint32Array(capacity);
  }

  /** Absolute position of slot `s` in the list at [off, off + len), or ~insertion point. */
  find(off: number, len: number, s: number): number {
    const words = this.words;
    let lo = off;
    let hi = off + len - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = words[mid]! & SLOT_MASK;
      if (x < s) lo = mid + 1;
      else if (x > s) hi = mid - 1;
      else return mid;
    }
    return ~lo;
  }

  /** Holder word of slot `s` in the list at [off, off + len), or 0. */
  valueOf(off: number, len: number, s: number): number {
    const i = this.find(off, len, s);
    return i >= 0 ? this.words[i]! : 0;
  }

  /** True when the lists at `a` and `b` (both `len` words) are equal. */
  equal(a: number, b: number, len: number): boolean {
    const words = this.words;
    for (let i = 0; i < len; i++) if (words[a + i] !== words[b + i]) return false;
    return true;
  }

  /** Offset of a free chunk of `1 << capLog` words (may grow {@link HolderPool.words}). */
  alloc(capLog: number): number {
    const head = this.free[capLog]!;
    if (head >= 0) {
      const next = this.words[head]!;
      this.free[capLog] = next === NONE ? -1 : next;
      return head;
    }
    const off = this.top;
    this.top += 1 << capLog;
    if (this.top > this.words.length) this.words = growU32(this.words, pow2AtLeast(this.top, this.words.length * 2));
    return off;
  }

  /** Returns a chunk to its free list. */
  release(off: number, capLog: number): void {
    const head = this.free[capLog]!;
    this.words[off] = head < 0 ? NONE : head;
    this.free[capLog] = off;
  }

  /** Next chunk of the free list after the chunk at `off`, or -1. */
  nextFree(off: number): number {
    const next = this.words[off]!;
    return next === NONE ? -1 : next;
  }

  /** Installs restored state: `words` are the first `top` words of the pool. */
  load(words: Uint32Array, top: number, free: ArrayLike<number>): void {
    this.words = growU32(words, pow2AtLeast(Math.max(top, 1), 512));
    this.top = top;
    this.free.set(free);
  }
}

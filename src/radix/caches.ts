/**
 * The caches an index knows: `(workerId, dpRank)` ↔ a small integer slot, and per-slot counters.
 * Holder words store the slot (16 bits), so freed slots are recycled.
 *
 * @internal
 */
import { MAX_SLOTS } from './holders.js';
import type { WorkerKey } from './types.js';

/** A snapshot row per slot: `[workerId, dpRank, paths]`, or null for a free slot. @internal */
export type CacheRow = [string, number, number] | null;

/** Slot registry of the known caches. @internal */
export class CacheSlots {
  /** workerId → dpRank → slot. */
  readonly slotOf = new Map<string, Map<number, number>>();
  /** Per slot: worker id ('' when free). */
  readonly worker: string[] = [];
  /** Per slot: dp rank. */
  readonly rank: number[] = [];
  /** Per slot: paths held (any tier). */
  readonly paths: number[] = [];
  /** Per slot: the cache is known. */
  readonly live: boolean[] = [];
  /** Per slot: alias rows in the alias table (caches without any skip it). */
  readonly aliases: number[] = [];
  /** Free slots (popped from the end). */
  private readonly free: number[] = [];
  /**
   * Changes whenever a slot gets or loses its cache, so a consumer that caches slot → cache
   * (the router's row map) knows when to forget it.
   */
  epoch = 0;

  /** The cache's slot, registering it (0 paths) if it is new; throws RangeError past {@link MAX_SLOTS}. */
  known(workerId: string, dpRank: number): number {
    let ranks = this.slotOf.get(workerId);
    let slot = ranks?.get(dpRank);
    if (slot !== undefined) return slot;
    if (this.free.length === 0 && this.live.length >= MAX_SLOTS) {
      throw new RangeError(`workers: at most ${MAX_SLOTS} caches (workerId, dpRank) are supported`);
    }
    if (ranks === undefined) this.slotOf.set(workerId, (ranks = new Map()));
    slot = this.free.pop() ?? this.live.length;
    this.epoch++;
    ranks.set(dpRank, slot);
    this.worker[slot] = workerId;
    this.rank[slot] = dpRank;
    this.paths[slot] = 0;
    this.live[slot] = true;
    this.aliases[slot] = 0;
    return slot;
  }

  /** Forgets a cache whose entries and names are gone already. */
  release(workerId: string, dpRank: number, slot: number): void {
    const ranks = this.slotOf.get(workerId);
    ranks?.delete(dpRank);
    if (ranks?.size === 0) this.slotOf.delete(workerId);
    this.live[slot] = false;
    this.worker[slot] = '';
    this.free.push(slot);
    this.epoch++;
  }

  /** Paths held by one rank, or summed over every rank when `dpRank` is undefined; 0 when unknown. */
  pathsOf(workerId: string, dpRank: number | undefined): number {
    const ranks = this.slotOf.get(workerId);
    if (dpRank !== undefined) {
      const slot = ranks?.get(dpRank);
      return slot === undefined ? 0 : this.paths[slot]!;
    }
    let sum = 0;
    if (ranks !== undefined) for (const slot of ranks.values()) sum += this.paths[slot]!;
    return sum;
  }

  /** Every known cache. */
  keys(): WorkerKey[] {
    const out: WorkerKey[] = [];
    for (const ranks of this.slotOf.values()) {
      for (const slot of ranks.values()) out.push({ workerId: this.worker[slot]!, dpRank: this.rank[slot]! });
    }
    return out;
  }

  /** (cache, path) entries held by every known cache. */
  entries(): number {
    let entries = 0;
    for (let s = 0; s < this.paths.length; s++) if (this.live[s]) entries += this.paths[s]!;
    return entries;
  }

  /** One snapshot row per slot ever used. */
  rows(): CacheRow[] {
    const rows: CacheRow[] = [];
    for (let s = 0; s < this.live.length; s++) rows.push(this.live[s] ? [this.worker[s]!, this.rank[s]!, this.paths[s]!] : null);
    return rows;
  }

  /** Installs snapshot rows into an empty registry (alias counts are set by the caller); `fail` throws. */
  load(rows: readonly (CacheRow | undefined)[], fail: (what: string) => never): void {
    this.epoch++;
    for (let s = 0; s < rows.length; s++) {
      const row = rows[s];
      if (row === null || row === undefined) {
        this.live[s] = false;
        this.worker[s] = '';
        this.rank[s] = 0;
        this.paths[s] = 0;
        this.aliases[s] = 0;
        this.free.push(s);
        continue;
      }
      const [workerId, dpRank, paths] = row;
      if (typeof workerId !== 'string' || !Number.isSafeInteger(dpRank) || dpRank < 0 || !Number.isSafeInteger(paths) || paths < 0) fail('cache row');
      if (this.slotOf.get(workerId)?.has(dpRank)) fail('duplicate cache');
      let ranks = this.slotOf.get(workerId);
      if (ranks === undefined) this.slotOf.set(workerId, (ranks = new Map()));
      ranks.set(dpRank, s);
      this.worker[s] = workerId;
      this.rank[s] = dpRank;
      this.paths[s] = paths;
      this.live[s] = true;
      this.aliases[s] = 0;
    }
    this.free.reverse();
  }
}

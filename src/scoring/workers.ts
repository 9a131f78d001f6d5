import type { WorkerInfo, WorkerRole } from './types.js';

/** Role codes in the slot table. @internal */
export const ROLE_BOTH = 0;
/** @internal */
export const ROLE_PREFILL = 1;
/** @internal */
export const ROLE_DECODE = 2;

const ROLE_CODES: Record<WorkerRole, number> = { both: ROLE_BOTH, prefill: ROLE_PREFILL, decode: ROLE_DECODE };

interface WorkerEntry {
  workerId: string;
  role: WorkerRole;
  endpoint: string;
  kvEvents: boolean;
  /** dpRank → slot. */
  ranks: Map<number, number>;
}

/** Eligible slots of one role under one registration layout. @internal */
export interface EligibleSlots {
  readonly layout: number;
  readonly slots: Int32Array;
  /** Some eligible worker publishes no KV events (approximate mode). */
  readonly anyApproximate: boolean;
}

/**
 * The registered workers and their cache slots: one slot per `(workerId, dpRank)`, reused after
 * removal. Per-slot facts live in typed arrays so a pick reads them without lookups.
 *
 * @internal
 */
export class WorkerTable {
  private readonly byId = new Map<string, WorkerEntry>();
  /** Slot of rank 0 of each worker: one lookup on the hot path for the common single-rank case. */
  private readonly rank0 = new Map<string, number>();

  private readonly freeSlots: number[] = [];
  /** Slots in use, in registration order (rebuilt on add/remove, which are rare). */
  activeSlots = new Int32Array(0);
  /** Slots ever created (the high-water mark). */
  slotCount = 0;

  /**
   * Worker id per slot. Replaced (never overwritten in place) when a freed slot is reused, so a
   * reference taken at pick time keeps naming that pick's workers.
   */
  slotWorker: string[] = [];
  /** Bumped whenever a slot is created, reused or freed: caches of id → slot lookups check it. */
  version = 0;
  /** Bumped by every registration change (slots, roles, kvEvents): caches of eligible slots check it. */
  layout = 0;
  private readonly eligibleByRole: Array<EligibleSlots | undefined> = [];
  /** Rank per slot; replaced like {@link WorkerTable.slotWorker}. */
  slotRank: number[] = [];
  slotEndpoint: string[] = [];
  slotRole = new Uint8Array(0);
  slotKvEvents = new Uint8Array(0);
  slotInUse = new Uint8Array(0);

  /** Called with the new capacity whenever slot arrays grow. */
  constructor(private readonly onGrow: (capacity: number) => void) {}

  /** Number of registered caches. */
  get size(): number {
    return this.activeSlots.length;
  }

  /** Slot of `(workerId, dpRank)`, or -1. */
  slotOf(workerId: string, dpRank: number): number {
    if (dpRank === 0) return this.rank0.get(workerId) ?? -1;
    return this.byId.get(workerId)?.ranks.get(dpRank) ?? -1;
  }

  /** Slots of every rank of a worker (empty when unknown). */
  slotsOf(workerId: string): Iterable<number> {
    return this.byId.get(workerId)?.ranks.values() ?? [];
  }

  /** Is the worker registered? */
  has(workerId: string): boolean {
    return this.byId.has(workerId);
  }

  /**
   * Registers a worker or updates it (role, endpoint, kvEvents replaced; ranks added, never removed).
   * Returns the slots created.
   */
  upsert(workerId: string, ranks: readonly number[], role: WorkerRole, endpoint: string, kvEvents: boolean): number[] {
    let entry = this.byId.get(workerId);
    if (entry === undefined) {
      entry = { workerId, role, endpoint, kvEvents, ranks: new Map() };
      this.byId.set(workerId, entry);
    }
    entry.role = role;
    entry.endpoint = endpoint;
    entry.kvEvents = kvEvents;
    const created: number[] = [];
    for (const rank of ranks) {
      if (!entry.ranks.has(rank)) {
        const slot = this.allocate();
        if (slot < this.slotWorker.length) {
          // Reused: copy on write, so pick results keep naming their own workers and ranks.
          this.slotWorker = this.slotWorker.slice();
          this.slotRank = this.slotRank.slice();
        }
        this.version++;
        entry.ranks.set(rank, slot);
        if (rank === 0) this.rank0.set(workerId, slot);
        this.slotWorker[slot] = workerId;
        this.slotRank[slot] = rank;
        this.slotInUse[slot] = 1;
        created.push(slot);
      }
    }
    for (const slot of entry.ranks.values()) {
      this.slotRole[slot] = ROLE_CODES[role];
      this.slotKvEvents[slot] = kvEvents ? 1 : 0;
      this.slotEndpoint[slot] = endpoint;
    }
    this.rebuildActive();
    return created;
  }

  /** Current settings of a worker, or undefined. */
  get(workerId: string): WorkerInfo | undefined {
    const e = this.byId.get(workerId);
    if (e === undefined) return undefined;
    return { workerId, dpRanks: [...e.ranks.keys()].sort((a, b) => a - b), role: e.role, endpoint: e.endpoint, kvEvents: e.kvEvents };
  }

  /** Every registered worker. */
  list(): WorkerInfo[] {
    return [...this.byId.keys()].map((id) => this.get(id)!);
  }

  /** Unregisters one rank or every rank; returns the slots freed. */
  remove(workerId: string, dpRank?: number): number[] {
    const entry = this.byId.get(workerId);
    if (entry === undefined) return [];
    const freed: number[] = [];
    for (const [rank, slot] of [...entry.ranks]) {
      if (dpRank !== undefined && rank !== dpRank) continue;
      entry.ranks.delete(rank);
      if (rank === 0) this.rank0.delete(workerId);
      this.slotInUse[slot] = 0;
      this.freeSlots.push(slot);
      freed.push(slot);
      this.version++;
    }
    if (entry.ranks.size === 0) this.byId.delete(workerId);
    this.rebuildActive();
    return freed;
  }

  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.slotCount++;
    if (slot >= this.slotRole.length) {
      const cap = Math.max(8, this.slotRole.length * 2);
      const grow = (a: Uint8Array) => {
        const b = new Uint8Array(cap);
        b.set(a);
        return b;
      };
      this.slotRole = grow(this.slotRole);
      this.slotKvEvents = grow(this.slotKvEvents);
      this.slotInUse = grow(this.slotInUse);
      this.onGrow(cap);
    }
    return slot;
  }

  private rebuildActive(): void {
    const slots: number[] = [];
    for (const e of this.byId.values()) for (const s of e.ranks.values()) slots.push(s);
    this.activeSlots = Int32Array.from(slots);
    this.layout++;
  }

  /**
   * The active slots a request may use, in registration order: role 'both', plus `role`'s own
   * workers for a prefill or decode request (`role` = ROLE_BOTH for an aggregated request).
   * Cached until the registrations change; callers must not modify it.
   */
  eligible(role: number): EligibleSlots {
    const cached = this.eligibleByRole[role];
    if (cached !== undefined && cached.layout === this.layout) return cached;
    const out: number[] = [];
    let anyApproximate = false;
    for (const slot of this.activeSlots) {
      const r = this.slotRole[slot];
      if (r !== role && r !== ROLE_BOTH) continue;
      if (this.slotKvEvents[slot] === 0) anyApproximate = true;
      out.push(slot);
    }
    const made: EligibleSlots = { layout: this.layout, slots: Int32Array.from(out), anyApproximate };
    this.eligibleByRole[role] = made;
    return made;
  }
}

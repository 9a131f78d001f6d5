/**
 * One event's hashes as (lo, hi) u32 pairs, checked and copied before anything changes, plus the
 * per-block decisions `store` makes while checking (resolved block, name kind) and a stamped hash set
 * that finds a block hash repeated within the event. Reused by every event (grown, never shrunk).
 *
 * @internal
 */
import { pow2AtLeast, mix3 } from './tables.js';
import { checkU64, describe, isU64 } from './validate.js';

/** Scratch of the event being applied. @internal */
export class EventScratch {
  private names64 = new BigUint64Array(64);
  /** Block hashes (stored) or hashes to remove, as (lo, hi) pairs. */
  names = new Uint32Array(this.names64.buffer);
  private tokens64 = new BigUint64Array(64);
  /** Tokens hashes of a stored event, as (lo, hi) pairs. */
  tokens = new Uint32Array(this.tokens64.buffer);
  /** Per stored block: the existing block it lands on, or -1. */
  blocks = new Int32Array(64);
  /** Per stored block: its name kind (decided before anything changes). */
  kinds = new Uint8Array(64);
  /** Per stored block that needed a name-table probe: the name's table hash (reused by the insert). */
  hashes = new Int32Array(64);
  private readonly parent64 = new BigUint64Array(1);
  private readonly parent32 = new Uint32Array(this.parent64.buffer);
  /** Parent hash halves set by {@link EventScratch.readParent}. */
  parentLo = 0;
  parentHi = 0;
  private dupTab = new Int32Array(128);
  private dupStamp = new Int32Array(128);
  private dupEpoch = 0;
  /** Mask of the part of the dup table this event uses (sized to the event: small events stay in L1). */
  private dupMask = 127;

  /** Checks and copies a stored event's blocks; throws TypeError naming the first bad one. */
  readStored(blocks: readonly unknown[]): void {
    const m = blocks.length;
    this.ensure(m);
    const names = this.names64;
    const tokens = this.tokens64;
    for (let i = 0; i < m; i++) {
      const block: unknown = blocks[i];
      if (typeof block !== 'object' || block === null || Array.isArray(block)) {
        throw new TypeError(`event.blocks[${i}]: expected an object, got ${describe(block)}`);
      }
      const { blockHash, tokensHash } = block as { blockHash?: unknown; tokensHash?: unknown };
      // Messages are built only on failure: no string work per valid block.
      if (!isU64(blockHash)) checkU64(blockHash, `event.blocks[${i}].blockHash`);
      if (!isU64(tokensHash)) checkU64(tokensHash, `event.blocks[${i}].tokensHash`);
      names[i] = blockHash as bigint;
      tokens[i] = tokensHash as bigint;
    }
  }

  /** Checks and copies a removed event's hashes; throws TypeError naming the first bad one. */
  readRemoved(hashes: readonly unknown[]): void {
    const m = hashes.length;
    this.ensure(m);
    const names = this.names64;
    for (let i = 0; i < m; i++) {
      const h: unknown = hashes[i];
      if (!isU64(h)) checkU64(h, `event.blockHashes[${i}]`);
      names[i] = h as bigint;
    }
  }

  /** Splits a (checked) parent hash into {@link EventScratch.parentLo} / {@link EventScratch.parentHi}. */
  readParent(parent: bigint): void {
    this.parent64[0] = parent;
    this.parentLo = this.parent32[0]!;
    this.parentHi = this.parent32[1]!;
  }

  /** Empties the repeated-name set for an event of `m` blocks. */
  dupReset(m: number): void {
    const size = pow2AtLeast(m * 2, 128);
    this.dupMask = size - 1;
    if (this.dupTab.length < size) {
      this.dupTab = new Int32Array(size);
      this.dupStamp = new Int32Array(size);
      this.dupEpoch = 0;
    }
    this.dupEpoch++;
    if (this.dupEpoch === 0x7fffffff) {
      this.dupStamp.fill(0);
      this.dupEpoch = 1;
    }
  }

  /** Adds the name of event block `i`; false if an earlier block of the event has it already. */
  dupAdd(i: number): boolean {
    const ev = this.names;
    const lo = ev[2 * i]!;
    const hi = ev[2 * i + 1]!;
    const mask = this.dupMask;
    let k = mix3(0x27d4eb2f, lo, hi) & mask;
    for (;;) {
      if (this.dupStamp[k] !== this.dupEpoch) {
        this.dupStamp[k] = this.dupEpoch;
        this.dupTab[k] = i;
        return true;
      }
      const e = this.dupTab[k]!;
      if (ev[2 * e] === lo && ev[2 * e + 1] === hi) return false;
      k = (k + 1) & mask;
    }
  }

  private ensure(m: number): void {
    if (this.names64.length >= m) return;
    const cap = pow2AtLeast(m, 64);
    this.names64 = new BigUint64Array(cap);
    this.names = new Uint32Array(this.names64.buffer);
    this.tokens64 = new BigUint64Array(cap);
    this.tokens = new Uint32Array(this.tokens64.buffer);
    this.blocks = new Int32Array(cap);
    this.kinds = new Uint8Array(cap);
    this.hashes = new Int32Array(cap);
  }
}

/**
 * Argument validation of the reference index, written straight from the "Validation" section of
 * docs/INDEX-SEMANTICS.md. Every check runs before anything changes.
 */
import type { KvEvent, StoredBlock, Tier } from '../../src/radix/types.js';

const U64_LIMIT = 1n << 64n;
const TIER_NAMES: readonly string[] = ['device', 'host', 'disk'];

/** True for a bigint in [0, 2^64). */
export function isU64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value < U64_LIMIT;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Throws TypeError unless `value` is a u64 bigint. */
export function checkU64(value: unknown, what: string): asserts value is bigint {
  if (!isU64(value)) throw new TypeError(`${what}: expected a bigint in [0, 2^64), got ${describe(value)}`);
}

/** Throws RangeError unless `value` is undefined or a non-negative safe integer; returns it or 0. */
export function checkRank(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what}: expected a non-negative safe integer, got ${describe(value)}`);
  }
  return value;
}

/** Throws TypeError unless `value` is a string. */
export function checkWorkerId(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`workerId: expected a string, got ${describe(value)}`);
}

/** A validated event: defaults filled in. */
export type CheckedEvent =
  | { type: 'stored'; workerId: string; dpRank: number; tier: Tier; parentHash: bigint | null; blocks: StoredBlock[] }
  | { type: 'removed'; workerId: string; dpRank: number; tier: Tier; blockHashes: bigint[] }
  | { type: 'cleared'; workerId: string; dpRank: number };

/** Validates a whole event (throws TypeError / RangeError), and returns it with defaults filled in. */
export function checkEvent(event: KvEvent): CheckedEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError(`event: expected an object, got ${describe(event)}`);
  }
  const raw = event as unknown as Record<string, unknown>;
  const type = raw.type;
  if (type !== 'stored' && type !== 'removed' && type !== 'cleared') {
    throw new TypeError(`event.type: expected 'stored' | 'removed' | 'cleared', got ${describe(type)}`);
  }
  checkWorkerId(raw.workerId);
  const workerId = raw.workerId;
  const dpRank = checkRank(raw.dpRank, 'event.dpRank');
  checkRank(raw.eventId, 'event.eventId');
  const tierValue = raw.tier;
  if (tierValue !== undefined && (typeof tierValue !== 'string' || !TIER_NAMES.includes(tierValue))) {
    throw new TypeError(`event.tier: expected 'device' | 'host' | 'disk', got ${describe(tierValue)}`);
  }
  const tier = (tierValue ?? 'device') as Tier;

  if (type === 'cleared') return { type, workerId, dpRank };

  if (type === 'removed') {
    const hashes = raw.blockHashes;
    if (!Array.isArray(hashes)) throw new TypeError(`event.blockHashes: expected an array, got ${describe(hashes)}`);
    hashes.forEach((h, i) => checkU64(h, `event.blockHashes[${i}]`));
    return { type, workerId, dpRank, tier, blockHashes: hashes.slice() as bigint[] };
  }

  const parent = raw.parentHash;
  if (parent !== undefined && parent !== null) checkU64(parent, 'event.parentHash');
  const blocks = raw.blocks;
  if (!Array.isArray(blocks)) throw new TypeError(`event.blocks: expected an array, got ${describe(blocks)}`);
  const copied: StoredBlock[] = blocks.map((block: unknown, i) => {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      throw new TypeError(`event.blocks[${i}]: expected an object, got ${describe(block)}`);
    }
    const { blockHash, tokensHash } = block as Record<string, unknown>;
    checkU64(blockHash, `event.blocks[${i}].blockHash`);
    checkU64(tokensHash, `event.blocks[${i}].tokensHash`);
    return { blockHash, tokensHash };
  });
  return { type, workerId, dpRank, tier, parentHash: (parent ?? null) as bigint | null, blocks: copied };
}

/** Validates a query (throws TypeError) and returns its hashes as bigints. */
export function checkQuery(query: unknown): readonly bigint[] {
  if (query instanceof BigUint64Array) return Array.from(query);
  if (!Array.isArray(query)) {
    throw new TypeError(`tokensHashes: expected a BigUint64Array or an array of u64 bigints, got ${describe(query)}`);
  }
  query.forEach((h, i) => checkU64(h, `tokensHashes[${i}]`));
  return query as bigint[];
}

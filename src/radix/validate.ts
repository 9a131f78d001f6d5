/**
 * Argument checks of {@link RadixIndex}: malformed input throws before anything changes.
 *
 * @internal
 */
import type { Tier } from './types.js';

const U64_LIMIT = 1n << 64n;

/** Tier bit of each tier name (device best). @internal */
export const TIER_BITS: Readonly<Record<Tier, number>> = { device: 1, host: 2, disk: 4 };

/** Short description of a bad value for error messages. @internal */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** True for a bigint in [0, 2^64). @internal */
export function isU64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value < U64_LIMIT;
}

/** Throws TypeError unless `value` is a bigint in [0, 2^64). @internal */
export function checkU64(value: unknown, what: string): void {
  if (!isU64(value)) {
    throw new TypeError(`${what}: expected a bigint in [0, 2^64), got ${describe(value)}`);
  }
}

/** Returns `value` (0 when undefined); throws RangeError unless it is a non-negative safe integer. @internal */
export function checkRank(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what}: expected a non-negative safe integer, got ${describe(value)}`);
  }
  return value;
}

/** Throws TypeError unless `value` is a string. @internal */
export function checkWorkerId(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`workerId: expected a string, got ${describe(value)}`);
  return value;
}

/** Tier bit of an optional tier name; throws TypeError on anything else. @internal */
export function checkTier(value: unknown): number {
  if (value === undefined || value === 'device') return 1;
  if (value === 'host') return 2;
  if (value === 'disk') return 4;
  throw new TypeError(`event.tier: expected 'device' | 'host' | 'disk', got ${describe(value)}`);
}

import { abort } from './errors.js';

const U64_MAX = (1n << 64n) - 1n;

/**
 * @internal A vLLM / SGLang block hash as a u64: a non-negative integer, a negative i64 (wrapped,
 * as the engine's Python `int` was packed signed), or 32 bytes (SHA-256 digest; the last 8 bytes
 * big-endian, as NVIDIA Dynamo does).
 */
export function engineHashToU64(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < -(1n << 63n) || value > U64_MAX) abort('BAD_HASH', `${what} ${value} is outside i64/u64`);
    return value < 0n ? BigInt.asUintN(64, value) : value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) abort('BAD_HASH', `${what} ${value} is not an exact integer`);
    return value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
  }
  if (value instanceof Uint8Array) {
    if (value.length !== 32) abort('BAD_HASH', `${what} is ${value.length} bytes, expected an integer or 32 bytes`);
    const o = value.byteOffset + 24;
    return new DataView(value.buffer, o, 8).getBigUint64(0, false);
  }
  return abort('BAD_HASH', `${what} is ${describe(value)}, expected an integer or 32 bytes`);
}

/** @internal A u64 that must be unsigned and exact (Dynamo, TensorRT-LLM). */
export function unsignedToU64(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64_MAX) abort('BAD_HASH', `${what} ${value} is outside [0, 2^64)`);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) abort('BAD_HASH', `${what} ${value} is not a u64`);
    return BigInt(value);
  }
  return abort('BAD_HASH', `${what} is ${describe(value)}, expected a u64 integer`);
}

/** @internal A worker id: a u64 written in decimal, or a non-empty string taken verbatim. */
export function unsignedToDecimal(value: unknown, what: string): string {
  if (typeof value === 'string') {
    // Dynamo writes u64 ids; other publishers may name workers by string: taken verbatim.
    if (value.length === 0) abort('BAD_SHAPE', `${what} is empty`);
    return value;
  }
  if (typeof value === 'bigint' || typeof value === 'number') {
    if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0)) abort('BAD_SHAPE', `${what} ${value} is not a u64`);
    if (typeof value === 'bigint' && (value < 0n || value > U64_MAX)) abort('BAD_SHAPE', `${what} ${value} is not a u64`);
    return String(value);
  }
  return abort('BAD_SHAPE', `${what} is ${describe(value)}, expected a u64`);
}

/** @internal A small non-negative integer (ids, ranks, sizes): a safe integer, number or bigint. */
export function toSafeUint(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return abort('BAD_SHAPE', `${what} is ${describe(value)}, expected a non-negative safe integer`);
}

const GOLDEN = 0x9e3779b97f4a7c15n;
const MASK = U64_MAX;

/** @internal SplitMix64's finalizer: a bijection of u64 with good avalanche. */
export function mix64(x: bigint): bigint {
  let z = x & MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/**
 * Block hash of router sub-block `j` of an engine block, when the engine's block size is `k` times
 * the router's: the last sub-block (`j = k - 1`) keeps the engine's hash (so parents and removals
 * that name the engine block name its last sub-block); earlier ones are
 * `mix64(engineHash + (j + 1) · 0x9E3779B97F4A7C15 mod 2^64)` — deterministic, and distinct from
 * each other because `mix64` is a bijection.
 */
export function subBlockHash(engineHash: bigint, j: number, k: number): bigint {
  if (j === k - 1) return engineHash;
  return mix64((engineHash + BigInt(j + 1) * GOLDEN) & MASK);
}

/** @internal Short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

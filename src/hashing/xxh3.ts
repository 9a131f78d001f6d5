import { Kernel } from './kernel.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const utf8 = new TextEncoder();
let shared: Kernel | undefined;

/** The process-wide kernel behind the one-shot functions (created synchronously on first use). */
function sharedKernel(): Kernel {
  shared ??= Kernel.createSync();
  return shared;
}

/** @internal Checks that `value` is a bigint in [0, 2^64 − 1]; `name` goes into the error. */
export function checkU64(value: unknown, name: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${name} must be a bigint, got ${describe(value)}`);
  if (value < 0n || value > U64_MAX) throw new RangeError(`${name} must be in [0, 2^64 - 1], got ${value}`);
  return value;
}

/** @internal A short description of a bad argument for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value).slice(8, -1);
}

function bytesArg(bytes: unknown, fn: string): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array, got ${describe(bytes)}`);
  return bytes;
}

function oneShot(bytes: Uint8Array, seed: bigint, fn: 'xxh3' | 'xxh64'): bigint {
  const kernel = sharedKernel();
  const inPtr = kernel.reserve(8, bytes.length);
  kernel.u8.set(bytes, inPtr);
  const lo = Number(seed & 0xffff_ffffn);
  const hi = Number(seed >> 32n);
  if (fn === 'xxh3') kernel.xxh3(inPtr, bytes.length, lo, hi);
  else kernel.xxh64(inPtr, bytes.length, lo, hi);
  const out = kernel.outPtr >>> 2;
  return (BigInt(kernel.u32[out + 1]!) << 32n) | BigInt(kernel.u32[out]!);
}

/**
 * XXH3-64 (xxHash3, 64-bit) of `bytes` with a 64-bit seed: the hash NVIDIA Dynamo uses for KV
 * blocks. Bit-exact with the reference xxHash for every input length.
 *
 * @example
 * ```ts
 * xxh3_64(new TextEncoder().encode('test data'), 1337n); // 13226331709069118873n
 * ```
 * @param bytes - The input.
 * @param seed - A u64 seed; default 0.
 * @returns The hash, a bigint in [0, 2^64 − 1].
 * @throws TypeError if `bytes` is not a Uint8Array or `seed` not a bigint; RangeError if `seed` is outside u64.
 */
export function xxh3_64(bytes: Uint8Array, seed: bigint = 0n): bigint {
  return oneShot(bytesArg(bytes, 'xxh3_64'), checkU64(seed, 'xxh3_64: seed'), 'xxh3');
}

/**
 * XXH64 (xxHash, 64-bit) of `bytes` with a 64-bit seed; the same values as `xxhash-wasm`'s `h64Raw`.
 *
 * @param bytes - The input.
 * @param seed - A u64 seed; default 0.
 * @returns The hash, a bigint in [0, 2^64 − 1].
 * @throws TypeError if `bytes` is not a Uint8Array or `seed` not a bigint; RangeError if `seed` is outside u64.
 */
export function xxh64(bytes: Uint8Array, seed: bigint = 0n): bigint {
  return oneShot(bytesArg(bytes, 'xxh64'), checkU64(seed, 'xxh64: seed'), 'xxh64');
}

/** @internal XXH3-64 of the UTF-8 of `text` (seed helper for LoRA names and namespaces). */
export function xxh3_64_utf8(text: string, seed: bigint): bigint {
  return xxh3_64(utf8.encode(text), seed);
}

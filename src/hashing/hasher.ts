import { Kernel } from './kernel.js';
import type { BlockHasher, HasherOptions } from './types.js';
import { describe, xxh3_64_utf8 } from './xxh3.js';

/** Dynamo's base seed for tokens hashes and sequence hashes. */
const BASE_SEED = 1337n;
const U64_MASK = 0xffff_ffff_ffff_ffffn;
/** Largest accepted block size: 2^24 tokens (64 MiB per block). */
const MAX_BLOCK_SIZE = 1 << 24;

/**
 * A {@link BlockHasher} plus the zero-BigInt paths the index and router use.
 *
 * The `…U32` methods return hashes as (lo, hi) u32 pairs: element `2i` is the low half of hash
 * `i`, `2i + 1` the high half (the memory layout of a `BigUint64Array` on little-endian hosts).
 */
export interface Hasher extends BlockHasher {
  /**
   * Tokens hashes of the complete blocks of `tokens` as (lo, hi) u32 pairs, length `2 * nBlocks`.
   *
   * The result is a view of this hasher's scratch memory: it stays valid until the next call of
   * any method of this hasher, which overwrites (and may detach) it. Copy it to keep it.
   * Other hashers never touch it.
   * @internal
   */
  blockHashesU32(tokens: ArrayLike<number>): Uint32Array;
  /**
   * Sequence hashes of the first `count` tokens hashes in `pairs` ((lo, hi) u32 pairs), as pairs,
   * length `2 * count`. Same view lifetime as {@link Hasher.blockHashesU32}. `pairs` may be the
   * result of `blockHashesU32` on this same hasher: the sequence hashes are then computed in place,
   * overwriting those tokens hashes (use them first, or copy them).
   * @internal
   */
  sequenceHashesU32(pairs: Uint32Array, count: number): Uint32Array;
}

/**
 * Creates a hasher that turns token ids into KV block hashes exactly as NVIDIA Dynamo does:
 * XXH3-64 over each complete block's tokens as u32 little-endian, seeded with
 * `1337 + xxh3_64(loraName, 0) + xxh3_64(cacheNamespace, 1)` (wrapping; empty strings are absent).
 * One call hashes a whole prompt in WebAssembly.
 *
 * @example
 * ```ts
 * const hasher = await createHasher({ blockSize: 16 });
 * const hashes = hasher.blockHashes(tokenIds);      // BigUint64Array, one per full block
 * const chained = hasher.sequenceHashes(hashes);    // each names its block and whole prefix
 * ```
 * @param options - Block size (must equal the engines'), optional LoRA name and cache namespace.
 * @returns A hasher with its own scratch memory (hashers may be used interleaved).
 * @throws TypeError if an option has the wrong type; RangeError if `blockSize` is not a positive
 * integer up to 2^24.
 */
export async function createHasher(options: HasherOptions): Promise<Hasher> {
  const { blockSize, seed } = checkOptions(options);
  return new WasmBlockHasher(blockSize, seed, await Kernel.create());
}

function checkOptions(options: unknown): { blockSize: number; seed: bigint } {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`createHasher: options must be an object, got ${describe(options)}`);
  }
  const { blockSize, loraName, cacheNamespace } = options as Record<string, unknown>;
  if (typeof blockSize !== 'number') {
    throw new TypeError(`createHasher: blockSize must be a number, got ${describe(blockSize)}`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
    throw new RangeError(`createHasher: blockSize must be an integer in [1, ${MAX_BLOCK_SIZE}], got ${blockSize}`);
  }
  let seed = BASE_SEED;
  if (loraName !== undefined) {
    if (typeof loraName !== 'string') throw new TypeError(`createHasher: loraName must be a string, got ${describe(loraName)}`);
    if (loraName !== '') seed += xxh3_64_utf8(loraName, 0n);
  }
  if (cacheNamespace !== undefined) {
    if (typeof cacheNamespace !== 'string') {
      throw new TypeError(`createHasher: cacheNamespace must be a string, got ${describe(cacheNamespace)}`);
    }
    if (cacheNamespace !== '') seed += xxh3_64_utf8(cacheNamespace, 1n);
  }
  return { blockSize, seed: seed & U64_MASK };
}

class WasmBlockHasher implements Hasher {
  readonly blockSize: number;
  readonly seed: bigint;
  private readonly seedLo: number;
  private readonly seedHi: number;
  private readonly kernel: Kernel;
  // The last returned view, reused while memory and length are unchanged (no per-call garbage).
  private view: Uint32Array = new Uint32Array(0);

  constructor(blockSize: number, seed: bigint, kernel: Kernel) {
    this.blockSize = blockSize;
    this.seed = seed;
    this.seedLo = Number(seed & 0xffff_ffffn);
    this.seedHi = Number(seed >> 32n);
    this.kernel = kernel;
  }

  blockHashes(tokens: ArrayLike<number>): BigUint64Array {
    const pairs = this.blockHashesU32(tokens);
    const out = new BigUint64Array(pairs.length >>> 1);
    new Uint32Array(out.buffer).set(pairs);
    return out;
  }

  sequenceHashes(blockHashes: BigUint64Array): BigUint64Array {
    if (!(blockHashes instanceof BigUint64Array)) {
      throw new TypeError(`sequenceHashes: blockHashes must be a BigUint64Array, got ${describe(blockHashes)}`);
    }
    const pairs = new Uint32Array(blockHashes.buffer, blockHashes.byteOffset, blockHashes.length * 2);
    const seq = this.sequenceHashesU32(pairs, blockHashes.length);
    const out = new BigUint64Array(blockHashes.length);
    new Uint32Array(out.buffer).set(seq);
    return out;
  }

  blockHashesU32(tokens: ArrayLike<number>): Uint32Array {
    if (tokens === null || typeof tokens !== 'object' || !(Number.isSafeInteger(tokens.length) && tokens.length >= 0)) {
      throw new TypeError(`blockHashes: tokens must be an array-like of numbers, got ${describe(tokens)}`);
    }
    const blockSize = this.blockSize;
    const nBlocks = Math.floor(tokens.length / blockSize);
    const nTokens = nBlocks * blockSize;
    const kernel = this.kernel;
    // A view into our own memory could be detached by reserve() below: copy it out first.
    if (tokens instanceof Uint32Array && tokens.buffer === kernel.u32.buffer) tokens = tokens.slice(0, nTokens);
    const inPtr = kernel.reserve(nBlocks * 8, nTokens * 4);
    const at = inPtr >>> 2;
    if (tokens instanceof Uint32Array) {
      // Already u32: copy straight in (only the complete blocks).
      kernel.u32.set(nTokens === tokens.length ? tokens : tokens.subarray(0, nTokens), at);
    } else {
      const mem = kernel.u32;
      for (let i = 0; i < nTokens; i++) {
        const t = tokens[i];
        // For a number, `t >>> 0 === t` holds exactly for integers in [0, 2^32 − 1] (and -0).
        if (typeof t !== 'number' || t >>> 0 !== t) throw badToken(i, t);
        mem[at + i] = t;
      }
      // The tail is dropped from hashing but still validated: bad input is never half-accepted.
      for (let i = nTokens; i < tokens.length; i++) {
        const t = tokens[i];
        if (typeof t !== 'number' || t >>> 0 !== t) throw badToken(i, t);
      }
    }
    kernel.hashBlocks(inPtr, nBlocks, blockSize, this.seedLo, this.seedHi);
    return this.result(nBlocks);
  }

  sequenceHashesU32(pairs: Uint32Array, count: number): Uint32Array {
    if (!(pairs instanceof Uint32Array)) {
      throw new TypeError(`sequenceHashesU32: pairs must be a Uint32Array, got ${describe(pairs)}`);
    }
    if (typeof count !== 'number') {
      throw new TypeError(`sequenceHashesU32: count must be a number, got ${describe(count)}`);
    }
    if (!Number.isInteger(count) || count < 0 || count * 2 > pairs.length) {
      throw new RangeError(`sequenceHashesU32: count must be an integer in [0, ${pairs.length >>> 1}], got ${count}`);
    }
    const kernel = this.kernel;
    if (pairs.buffer === kernel.u32.buffer && pairs.byteOffset >= kernel.outPtr) {
      // `pairs` lives in our own memory (typically our previous result): hash it where it is.
      // The kernel reads in[i] before writing out[i] and out starts at or below in, so this is safe,
      // and no reserve() happens that could grow memory and detach `pairs`.
      kernel.sequenceHashes(pairs.byteOffset, count);
    } else {
      const source = pairs.buffer === kernel.u32.buffer ? pairs.slice(0, count * 2) : pairs.subarray(0, count * 2);
      const inPtr = kernel.reserve(count * 8, count * 8);
      kernel.u32.set(source, inPtr >>> 2);
      kernel.sequenceHashes(inPtr, count);
    }
    return this.result(count);
  }

  /** The (lo, hi) view of `count` results at the kernel's output area. */
  private result(count: number): Uint32Array {
    const view = this.view;
    if (view.length === count * 2 && view.buffer === this.kernel.u32.buffer) return view;
    this.view = new Uint32Array(this.kernel.u32.buffer, this.kernel.outPtr, count * 2);
    return this.view;
  }
}

function badToken(index: number, value: unknown): Error {
  const message = `blockHashes: tokens[${index}] must be an integer in [0, 4294967295], got ${describe(value)}`;
  return typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

import { Kernel } from './kernel.js';
import { describe, xxh64 } from './xxh3.js';

/** Options of {@link createTextHasher}. */
export interface TextHasherOptions {
  /** Model name; seeds the chain, so different models never share block hashes. Non-empty. */
  model: string;
  /** Characters (Unicode code points) per block; a positive integer, default 64. */
  blockChars?: number;
}

/**
 * Hashes raw prompt text into chained block hashes for the approximate text mode (an EPP that
 * routes on characters, not tokens). XXH64, the same values as `xxhash-wasm`'s `h64Raw`:
 * `seed = xxh64(utf8(model), 0)`; block `i` = `xxh64(utf8(its characters), seed = hash of block i−1)`
 * (block 0: the model seed). A hash thus identifies its block and the whole text before it;
 * a partial trailing block is dropped.
 */
export interface TextHasher {
  /** The model name. */
  readonly model: string;
  /** Characters (Unicode code points) per block. */
  readonly blockChars: number;
  /** The chain's starting seed, `xxh64(utf8(model), 0)`. */
  readonly seed: bigint;
  /** Chained hash of every complete block of `text`. */
  blockHashes(text: string): BigUint64Array;
  /**
   * Same as {@link TextHasher.blockHashes} as (lo, hi) u32 pairs, length `2 * nBlocks`: a view of
   * this hasher's scratch memory, valid until its next call.
   * @internal
   */
  blockHashesU32(text: string): Uint32Array;
}

const MAX_BLOCK_CHARS = 1 << 24;
const utf8 = new TextEncoder();

/**
 * Creates a {@link TextHasher}. A block is `blockChars` Unicode code points (a lone surrogate
 * counts as one and hashes as U+FFFD), hashed as UTF-8.
 *
 * @example
 * ```ts
 * const text = await createTextHasher({ model: 'llama-3-8b' });
 * text.blockHashes(prompt); // BigUint64Array, one chained hash per 64 characters
 * ```
 * @param options - The model name and the block length in characters.
 * @throws TypeError if `model` is not a non-empty string or `blockChars` not a number;
 * RangeError if `blockChars` is not a positive integer up to 2^24.
 */
export async function createTextHasher(options: TextHasherOptions): Promise<TextHasher> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`createTextHasher: options must be an object, got ${describe(options)}`);
  }
  const { model, blockChars = 64 } = options as { model: unknown; blockChars?: unknown };
  if (typeof model !== 'string' || model === '') {
    throw new TypeError(`createTextHasher: model must be a non-empty string, got ${describe(model)}`);
  }
  if (typeof blockChars !== 'number') {
    throw new TypeError(`createTextHasher: blockChars must be a number, got ${describe(blockChars)}`);
  }
  if (!Number.isInteger(blockChars) || blockChars < 1 || blockChars > MAX_BLOCK_CHARS) {
    throw new RangeError(`createTextHasher: blockChars must be an integer in [1, ${MAX_BLOCK_CHARS}], got ${blockChars}`);
  }
  return new WasmTextHasher(model, blockChars, xxh64(utf8.encode(model), 0n), await Kernel.create());
}

class WasmTextHasher implements TextHasher {
  readonly model: string;
  readonly blockChars: number;
  readonly seed: bigint;
  private readonly seedLo: number;
  private readonly seedHi: number;
  private readonly kernel: Kernel;
  private view: Uint32Array = new Uint32Array(0);

  constructor(model: string, blockChars: number, seed: bigint, kernel: Kernel) {
    this.model = model;
    this.blockChars = blockChars;
    this.seed = seed;
    this.seedLo = Number(seed & 0xffff_ffffn);
    this.seedHi = Number(seed >> 32n);
    this.kernel = kernel;
  }

  blockHashes(text: string): BigUint64Array {
    const pairs = this.blockHashesU32(text);
    const out = new BigUint64Array(pairs.length >>> 1);
    new Uint32Array(out.buffer).set(pairs);
    return out;
  }

  blockHashesU32(text: string): Uint32Array {
    if (typeof text !== 'string') throw new TypeError(`blockHashes: text must be a string, got ${describe(text)}`);
    const kernel = this.kernel;
    // Each UTF-16 unit becomes at most 3 UTF-8 bytes; a code point takes at least one unit.
    const maxBytes = text.length * 3;
    const maxBlocks = Math.floor(text.length / this.blockChars);
    const inPtr = kernel.reserve(maxBlocks * 8, maxBytes);
    const { written } = utf8.encodeInto(text, kernel.u8.subarray(inPtr, inPtr + maxBytes));
    const count = kernel.textChain(inPtr, written, this.blockChars, this.seedLo, this.seedHi);
    if (this.view.length !== count * 2 || this.view.buffer !== kernel.u32.buffer) {
      this.view = new Uint32Array(kernel.u32.buffer, kernel.outPtr, count * 2);
    }
    return this.view;
  }
}

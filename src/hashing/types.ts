/** Options of {@link createHasher}. */
export interface HasherOptions {
  /** Tokens per KV block; a positive integer. Must equal the engines' block size. */
  blockSize: number;
  /** LoRA adapter name; folded into the seed. Empty or absent: base model. */
  loraName?: string;
  /** Cache namespace (salt); folded into the seed. Empty or absent: none. */
  cacheNamespace?: string;
}

/**
 * Hashes prompts into KV block hashes exactly as NVIDIA Dynamo does (XXH3-64, see DESIGN §3).
 * One call hashes a whole prompt.
 */
export interface BlockHasher {
  /** Tokens per block. */
  readonly blockSize: number;
  /** The effective XXH3 seed (1337 plus the LoRA and namespace terms, wrapping at 2^64). */
  readonly seed: bigint;
  /** Tokens hash of every complete block (a partial tail block is dropped). */
  blockHashes(tokens: ArrayLike<number>): BigUint64Array;
  /** Chained sequence hashes of a run of tokens hashes. */
  sequenceHashes(blockHashes: BigUint64Array): BigUint64Array;
}

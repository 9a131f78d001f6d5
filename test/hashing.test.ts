import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createHasher, xxh3_64 } from '../src/hashing/index.js';
import type { Hasher } from '../src/hashing/index.js';
import { referenceXxh3_64 } from './reference/xxh3.js';

interface VectorFile {
  algorithm: string;
  rawBytes: Array<{ bytes: string; seed: string; hash: string }>;
  cases: Array<{
    tokens: number[];
    blockSize: number;
    blockHashes: string[];
    sequenceHashes: string[];
    loraName?: string;
    cacheNamespace?: string;
    note?: string;
  }>;
}

/** The shared vectors (made with Python xxhash), copied into test/fixtures. */
const vectors = JSON.parse(readFileSync(new URL('./fixtures/hash-vectors.json', import.meta.url), 'utf8')) as VectorFile;

const MASK64 = (1n << 64n) - 1n;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Dynamo's rule, spelled out with the BigInt reference: tokens hashes of complete blocks. */
function referenceSeed(loraName?: string, cacheNamespace?: string): bigint {
  let seed = 1337n;
  if (loraName) seed += referenceXxh3_64(utf8(loraName), 0n);
  if (cacheNamespace) seed += referenceXxh3_64(utf8(cacheNamespace), 1n);
  return seed & MASK64;
}

function referenceBlockHashes(tokens: ArrayLike<number>, blockSize: number, seed: bigint): bigint[] {
  const out: bigint[] = [];
  for (let start = 0; start + blockSize <= tokens.length; start += blockSize) {
    const bytes = new Uint8Array(blockSize * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < blockSize; i++) view.setUint32(4 * i, tokens[start + i]!, true);
    out.push(referenceXxh3_64(bytes, seed));
  }
  return out;
}

function referenceSequenceHashes(hashes: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  for (const [i, h] of hashes.entries()) {
    if (i === 0) {
      out.push(h);
      continue;
    }
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, out[i - 1]!, true);
    view.setBigUint64(8, h, true);
    out.push(referenceXxh3_64(bytes, 1337n));
  }
  return out;
}

/** Reads (lo, hi) pairs back as bigints. */
function fromPairs(pairs: Uint32Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push((BigInt(pairs[i + 1]!) << 32n) | BigInt(pairs[i]!));
  return out;
}

function randomTokens(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

describe('createHasher: fixture vectors (hash-vectors.json)', () => {
  const fixtures = vectors;

  it('has the raw-bytes vector', () => {
    for (const v of fixtures.rawBytes) expect(xxh3_64(utf8(v.bytes), BigInt(v.seed))).toBe(BigInt(v.hash));
    expect(fixtures.rawBytes.length).toBeGreaterThan(0);
  });

  it('documents the algorithm the fixtures were made with', () => {
    expect(fixtures.algorithm).toContain('seed 1337');
    expect(fixtures.algorithm).toContain('sequence[i] = xxh3_64(le64(sequence[i-1]) || le64(block[i]), seed 1337)');
  });

  for (const [n, c] of fixtures.cases.entries()) {
    const opts = c;
    const label = `case ${n}: B=${c.blockSize}, ${c.tokens.length} tokens` +
      (opts.loraName !== undefined ? `, lora ${JSON.stringify(opts.loraName)}` : '') +
      (opts.cacheNamespace !== undefined ? `, namespace ${JSON.stringify(opts.cacheNamespace)}` : '') +
      (opts.note ? ` (${opts.note})` : '');
    it(label, async () => {
      const hasher = await createHasher({ blockSize: c.blockSize, loraName: opts.loraName, cacheNamespace: opts.cacheNamespace });
      const expectedBlocks = c.blockHashes.map(BigInt);
      const expectedSeq = c.sequenceHashes.map(BigInt);
      const blocks = hasher.blockHashes(c.tokens);
      expect([...blocks]).toEqual(expectedBlocks);
      expect([...hasher.sequenceHashes(blocks)]).toEqual(expectedSeq);
      // Same through the zero-BigInt paths, from a Uint32Array (the copy-straight-in path).
      const pairs = hasher.blockHashesU32(Uint32Array.from(c.tokens));
      expect(fromPairs(pairs)).toEqual(expectedBlocks);
      expect(fromPairs(hasher.sequenceHashesU32(pairs, pairs.length / 2))).toEqual(expectedSeq);
      // And the reference agrees (it is pinned by these vectors too).
      const seed = referenceSeed(opts.loraName, opts.cacheNamespace);
      expect(hasher.seed).toBe(seed);
      expect(referenceBlockHashes(c.tokens, c.blockSize, seed)).toEqual(expectedBlocks);
      expect(referenceSequenceHashes(expectedBlocks)).toEqual(expectedSeq);
    });
  }

  it('covers LoRA and namespace cases', () => {
    expect(fixtures.cases.some((c) => c.loraName)).toBe(true);
    expect(fixtures.cases.some((c) => c.cacheNamespace)).toBe(true);
    expect(fixtures.cases.some((c) => c.loraName && c.cacheNamespace)).toBe(true);
  });
});

describe('createHasher: Dynamo published values', () => {
  it('tokens [1,2,3,4], B=4 -> 14643705804678351452', async () => {
    const hasher = await createHasher({ blockSize: 4 });
    expect(hasher.blockSize).toBe(4);
    expect(hasher.seed).toBe(1337n);
    expect([...hasher.blockHashes([1, 2, 3, 4])]).toEqual([14643705804678351452n]);
  });

  it('bytes "test data" seed 1337 -> 13226331709069118873', () => {
    expect(xxh3_64(utf8('test data'), 1337n)).toBe(13226331709069118873n);
  });
});

describe('createHasher: against the BigInt reference', () => {
  const blockSizes = [1, 2, 3, 4, 8, 16, 32, 64, 128, 512];
  for (const blockSize of blockSizes) {
    it(`B=${blockSize}: block and sequence hashes, partial tail dropped, U32 == BigInt`, async () => {
      const hasher = await createHasher({ blockSize, loraName: 'lora-x', cacheNamespace: 'ns' });
      const seed = referenceSeed('lora-x', 'ns');
      expect(hasher.seed).toBe(seed);
      const nBlocks = blockSize >= 128 ? 3 : 9;
      for (const extra of [0, blockSize - 1]) {
        const tokens = randomTokens(nBlocks * blockSize + extra, blockSize * 7 + extra);
        const expected = referenceBlockHashes(tokens, blockSize, seed);
        expect(expected.length).toBe(nBlocks);
        const blocks = hasher.blockHashes(tokens);
        expect([...blocks]).toEqual(expected);
        expect([...hasher.blockHashes(Array.from(tokens))]).toEqual(expected);
        const expectedSeq = referenceSequenceHashes(expected);
        expect([...hasher.sequenceHashes(blocks)]).toEqual(expectedSeq);
        const pairs = hasher.blockHashesU32(tokens);
        expect(fromPairs(pairs)).toEqual(expected);
        expect(fromPairs(hasher.sequenceHashesU32(pairs, nBlocks))).toEqual(expectedSeq);
      }
    });
  }

  it('B=16 (two blocks per wasm SIMD step, odd last block scalar): every block equals xxh3_64 of its 64 bytes', async () => {
    // hash_blocks hashes 64-byte blocks two at a time, one block per SIMD lane; xxh3_64 of 64 bytes
    // takes the kernel's scalar 17..128-byte path. The blocks all differ, so a lane swapped,
    // dropped or shared between blocks, or a wrong carry in the 128-bit product, changes a hash.
    const seeded = await createHasher({ blockSize: 16, loraName: 'lora-x', cacheNamespace: 'ns' });
    const plain = await createHasher({ blockSize: 16 });
    for (const hasher of [plain, seeded]) {
      for (const nBlocks of [1, 2, 3, 7, 512, 513]) {
        const tokens = randomTokens(nBlocks * 16, nBlocks * 31 + 5);
        tokens[0] = 0;
        tokens[1] = 0xffffffff;
        tokens[tokens.length - 1] = 0xffffffff;
        tokens[tokens.length - 2] = 0;
        if (nBlocks >= 3) tokens.fill(0xffffffff, 16, 32); // an all-ones block next to random ones
        if (nBlocks >= 7) tokens.fill(0, 32, 48); // and an all-zeros block
        const bytes = new Uint8Array(tokens.buffer);
        const expected: bigint[] = [];
        for (let b = 0; b < nBlocks; b++) expected.push(xxh3_64(bytes.subarray(64 * b, 64 * b + 64), hasher.seed));
        expect(new Set(expected).size).toBe(nBlocks);
        expect(fromPairs(hasher.blockHashesU32(tokens))).toEqual(expected);
        expect([...hasher.blockHashes(tokens)]).toEqual(expected);
        // A prompt that starts one block later puts every block in the other lane.
        expect([...hasher.blockHashes(tokens.subarray(16))]).toEqual(expected.slice(1));
      }
    }
    // The fixtures' own reference, on a short odd prompt.
    const tokens = randomTokens(5 * 16, 99);
    expect([...seeded.blockHashes(tokens)]).toEqual(referenceBlockHashes(tokens, 16, seeded.seed));
  });

  it('drops a partial tail: fewer tokens than one block give no hashes', async () => {
    const hasher = await createHasher({ blockSize: 16 });
    expect(hasher.blockHashes(new Uint32Array(15)).length).toBe(0);
    expect(hasher.blockHashes([]).length).toBe(0);
    expect(hasher.blockHashesU32([1, 2, 3]).length).toBe(0);
    expect(hasher.sequenceHashes(new BigUint64Array(0)).length).toBe(0);
    const tokens = randomTokens(40, 3);
    expect([...hasher.blockHashes(tokens)]).toEqual([...hasher.blockHashes(tokens.subarray(0, 32))]);
  });

  it('hashes token 2^32 - 1 and 0 and accepts any ArrayLike (Array, typed arrays, array-likes)', async () => {
    const hasher = await createHasher({ blockSize: 2 });
    const tokens = [0xffffffff, 0, 7, 65536];
    const expected = referenceBlockHashes(tokens, 2, 1337n);
    expect([...hasher.blockHashes(tokens)]).toEqual(expected);
    expect([...hasher.blockHashes(Float64Array.from(tokens))]).toEqual(expected);
    expect([...hasher.blockHashes({ length: 4, 0: 0xffffffff, 1: 0, 2: 7, 3: 65536 })]).toEqual(expected);
    expect([...hasher.blockHashes(Uint32Array.from([9, ...tokens]).subarray(1))]).toEqual(expected);
  });

  it('sequence hashes use seed 1337 whatever the LoRA / namespace, and accept subarray views', async () => {
    const plain = await createHasher({ blockSize: 4 });
    const lora = await createHasher({ blockSize: 4, loraName: 'a', cacheNamespace: 'b' });
    const hashes = BigUint64Array.from([1n, 2n, MASK64, 0n, 123456789012345678n]);
    const expected = referenceSequenceHashes([...hashes]);
    expect([...plain.sequenceHashes(hashes)]).toEqual(expected);
    expect([...lora.sequenceHashes(hashes)]).toEqual(expected);
    expect([...plain.sequenceHashes(hashes.subarray(2))]).toEqual(referenceSequenceHashes([...hashes.subarray(2)]));
    // sequenceHashesU32 on a prefix of the pairs, and on a view into the hasher's own result.
    const pairs = new Uint32Array(hashes.buffer);
    expect(fromPairs(plain.sequenceHashesU32(pairs, 3))).toEqual(referenceSequenceHashes([...hashes.subarray(0, 3)]));
    const own = plain.blockHashesU32(randomTokens(4 * 6, 11));
    const ownHashes = fromPairs(own);
    expect(fromPairs(plain.sequenceHashesU32(own.subarray(4), 3))).toEqual(referenceSequenceHashes(ownHashes.slice(2, 5)));
  });

  it('empty LoRA name and namespace count as absent', async () => {
    const hasher = await createHasher({ blockSize: 4, loraName: '', cacheNamespace: '' });
    expect(hasher.seed).toBe(1337n);
  });

  it('the seed wraps at 2^64', async () => {
    // Search a few names until the sum overflows, so the wrap path is really taken.
    let name = '';
    for (let i = 0; i < 64 && !name; i++) {
      if (1337n + xxh3_64(utf8(`n${i}`), 0n) + xxh3_64(utf8(`m${i}`), 1n) > MASK64) name = String(i);
    }
    expect(name).not.toBe('');
    const hasher = await createHasher({ blockSize: 4, loraName: `n${name}`, cacheNamespace: `m${name}` });
    expect(hasher.seed).toBe(referenceSeed(`n${name}`, `m${name}`));
    expect(hasher.seed).toBeLessThanOrEqual(MASK64);
    expect([...hasher.blockHashes([5, 6, 7, 8])]).toEqual(referenceBlockHashes([5, 6, 7, 8], 4, hasher.seed));
  });
});

describe('createHasher: scratch buffers and memory', () => {
  it('interleaved hashers with different seeds do not disturb each other', async () => {
    const a = await createHasher({ blockSize: 16 });
    const b = await createHasher({ blockSize: 16, loraName: 'other' });
    const tokensA = randomTokens(16 * 50, 1);
    const tokensB = randomTokens(16 * 70, 2);
    const expectedA = referenceBlockHashes(tokensA, 16, a.seed);
    const expectedB = referenceBlockHashes(tokensB, 16, b.seed);
    const viewA = a.blockHashesU32(tokensA);
    const viewB = b.blockHashesU32(tokensB);
    // b's call (and its big input) left a's view intact.
    expect(fromPairs(viewA)).toEqual(expectedA);
    expect(fromPairs(viewB)).toEqual(expectedB);
    const seqA = a.sequenceHashesU32(viewA, 50);
    b.blockHashesU32(randomTokens(16 * 5000, 3)); // grows b's memory only
    expect(fromPairs(seqA)).toEqual(referenceSequenceHashes(expectedA));
    expect([...a.blockHashes(tokensA)]).toEqual(expectedA);
  });

  it('a view is overwritten by the next call on the same hasher (documented lifetime)', async () => {
    const hasher = await createHasher({ blockSize: 4 });
    const first = hasher.blockHashesU32([1, 2, 3, 4]);
    const before = fromPairs(first);
    hasher.blockHashesU32([5, 6, 7, 8]);
    expect(fromPairs(first)).not.toEqual(before);
  });

  it('hashes 200K-token prompts (memory growth) identically to block-by-block hashing', async () => {
    for (const blockSize of [16, 64, 512]) {
      const hasher = await createHasher({ blockSize });
      const small = randomTokens(blockSize * 3, 5);
      const smallHashes = [...hasher.blockHashes(small)];
      const tokens = randomTokens(200_000 + 5, 99);
      tokens.set(small, 0);
      const nBlocks = Math.floor(tokens.length / blockSize);
      const pairs = hasher.blockHashesU32(tokens);
      expect(pairs.length).toBe(2 * nBlocks);
      const all = fromPairs(pairs);
      expect(all.slice(0, 3)).toEqual(smallHashes);
      // Spot-check blocks across the whole prompt against the reference.
      for (const i of [0, 1, Math.floor(nBlocks / 2), nBlocks - 1]) {
        expect(all[i]).toBe(referenceBlockHashes(tokens.subarray(i * blockSize, (i + 1) * blockSize), blockSize, 1337n)[0]);
      }
      // The BigInt path and a plain Array agree with the U32 path.
      expect([...hasher.blockHashes(Array.from(tokens))]).toEqual(all);
      const seq = hasher.sequenceHashes(BigUint64Array.from(all));
      expect(seq.length).toBe(nBlocks);
      expect([...seq.subarray(0, 4)]).toEqual(referenceSequenceHashes(all.slice(0, 4)));
      // After growth, small prompts still hash the same.
      expect([...hasher.blockHashes(small)]).toEqual(smallHashes);
    }
  });

  it('accepts its own previous result as input (a view into its scratch memory), even when memory grows', async () => {
    const hasher = await createHasher({ blockSize: 1 });
    const pairs = hasher.blockHashesU32(randomTokens(100_000, 4)); // 200K u32 at the start of scratch
    const expected = referenceBlockHashes(Array.from(pairs.subarray(0, 300)), 1, 1337n);
    // Hashing those 200K words as tokens needs 2.4 MB of scratch: memory grows under the view.
    const hashes = hasher.blockHashesU32(pairs);
    expect(hashes.length).toBe(400_000);
    expect(fromPairs(hashes.subarray(0, 600))).toEqual(expected);
  });

  it('sequenceHashesU32 over its own blockHashesU32 result computes in place (documented)', async () => {
    const hasher = await createHasher({ blockSize: 4 });
    const pairs = hasher.blockHashesU32(randomTokens(4 * 10, 8));
    const tokensHashes = fromPairs(pairs);
    const seq = hasher.sequenceHashesU32(pairs, 10);
    expect(seq.byteOffset).toBe(pairs.byteOffset);
    expect(fromPairs(seq)).toEqual(referenceSequenceHashes(tokensHashes));
    expect(fromPairs(pairs)).toEqual(fromPairs(seq));
  });

  it('repeated calls of the same length reuse the returned view object', async () => {
    const hasher = await createHasher({ blockSize: 4 });
    const a = hasher.blockHashesU32(randomTokens(40, 1));
    const b = hasher.blockHashesU32(randomTokens(40, 2));
    expect(b).toBe(a);
  });
});

describe('createHasher: validation', () => {
  const make = (opts: unknown): Promise<Hasher> => createHasher(opts as never);

  it('rejects bad options', async () => {
    await expect(make(undefined)).rejects.toThrow(new TypeError('createHasher: options must be an object, got undefined'));
    await expect(make(16)).rejects.toThrow(new TypeError('createHasher: options must be an object, got 16'));
    await expect(make({})).rejects.toThrow(new TypeError('createHasher: blockSize must be a number, got undefined'));
    await expect(make({ blockSize: '16' })).rejects.toThrow(new TypeError('createHasher: blockSize must be a number, got "16"'));
    await expect(make({ blockSize: 16n })).rejects.toThrow(new TypeError('createHasher: blockSize must be a number, got 16n'));
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 24 + 1]) {
      await expect(make({ blockSize: bad })).rejects.toThrow(
        new RangeError(`createHasher: blockSize must be an integer in [1, 16777216], got ${bad}`),
      );
    }
    await expect(make({ blockSize: 4, loraName: 5 })).rejects.toThrow(new TypeError('createHasher: loraName must be a string, got 5'));
    await expect(make({ blockSize: 4, cacheNamespace: null })).rejects.toThrow(
      new TypeError('createHasher: cacheNamespace must be a string, got null'),
    );
  });

  it('rejects bad tokens naming index and value, with TypeError for non-numbers', async () => {
    const hasher = await createHasher({ blockSize: 2 });
    const range = (i: number, v: string): RangeError =>
      new RangeError(`blockHashes: tokens[${i}] must be an integer in [0, 4294967295], got ${v}`);
    expect(() => hasher.blockHashes([1, -1])).toThrow(range(1, '-1'));
    expect(() => hasher.blockHashes([1, 2, 3, 1.5])).toThrow(range(3, '1.5'));
    expect(() => hasher.blockHashes([2 ** 32, 0])).toThrow(range(0, '4294967296'));
    expect(() => hasher.blockHashes([NaN, 0])).toThrow(range(0, 'NaN'));
    expect(() => hasher.blockHashes(Float64Array.of(0, 0, Infinity, 0))).toThrow(range(2, 'Infinity'));
    expect(() => hasher.blockHashes(Int32Array.of(0, -5))).toThrow(range(1, '-5'));
    // The partial tail is dropped from hashing but still validated.
    expect(() => hasher.blockHashes([1, 2, -3])).toThrow(range(2, '-3'));
    expect(() => hasher.blockHashes(['1', 2] as unknown as number[])).toThrow(
      new TypeError('blockHashes: tokens[0] must be an integer in [0, 4294967295], got "1"'),
    );
    expect(() => hasher.blockHashes([1, 2n] as unknown as number[])).toThrow(
      new TypeError('blockHashes: tokens[1] must be an integer in [0, 4294967295], got 2n'),
    );
    expect(() => hasher.blockHashes([1, undefined] as unknown as number[])).toThrow(
      new TypeError('blockHashes: tokens[1] must be an integer in [0, 4294967295], got undefined'),
    );
    for (const bad of [null, undefined, 5, 'abcd', {}]) {
      expect(() => hasher.blockHashes(bad as unknown as number[])).toThrow(TypeError);
      expect(() => hasher.blockHashesU32(bad as unknown as number[])).toThrow(TypeError);
    }
    expect(() => hasher.blockHashes({ length: -1 } as unknown as number[])).toThrow(
      new TypeError('blockHashes: tokens must be an array-like of numbers, got Object'),
    );
    expect(() => hasher.blockHashes({ length: 2.5 } as unknown as number[])).toThrow(TypeError);
    expect(() => hasher.blockHashes(null as unknown as number[])).toThrow(
      new TypeError('blockHashes: tokens must be an array-like of numbers, got null'),
    );
    // A failed call leaves the hasher working.
    expect([...hasher.blockHashes([1, 2])]).toEqual(referenceBlockHashes([1, 2], 2, 1337n));
  });

  it('rejects bad sequence inputs', async () => {
    const hasher = await createHasher({ blockSize: 2 });
    expect(() => hasher.sequenceHashes([1n, 2n] as unknown as BigUint64Array)).toThrow(
      new TypeError('sequenceHashes: blockHashes must be a BigUint64Array, got Array'),
    );
    expect(() => hasher.sequenceHashes(new BigInt64Array(2) as unknown as BigUint64Array)).toThrow(TypeError);
    expect(() => hasher.sequenceHashesU32([1, 2] as unknown as Uint32Array, 1)).toThrow(
      new TypeError('sequenceHashesU32: pairs must be a Uint32Array, got Array'),
    );
    expect(() => hasher.sequenceHashesU32(new Uint32Array(4), 3)).toThrow(
      new RangeError('sequenceHashesU32: count must be an integer in [0, 2], got 3'),
    );
    expect(() => hasher.sequenceHashesU32(new Uint32Array(4), -1)).toThrow(RangeError);
    expect(() => hasher.sequenceHashesU32(new Uint32Array(4), 0.5)).toThrow(RangeError);
    expect(() => hasher.sequenceHashesU32(new Uint32Array(4), '1' as unknown as number)).toThrow(
      new TypeError('sequenceHashesU32: count must be a number, got "1"'),
    );
  });
});

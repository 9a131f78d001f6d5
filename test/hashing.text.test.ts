import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { createTextHasher } from '../src/hashing/index.js';
import type { TextHasher } from '../src/hashing/index.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const api = await xxhash();

/** The text-mode rule spelled out with xxhash-wasm: chained XXH64 over blocks of code points. */
function referenceTextHashes(text: string, model: string, blockChars = 64): bigint[] {
  const chars = Array.from(text); // code points
  let h = api.h64Raw(utf8(model), 0n);
  const out: bigint[] = [];
  for (let start = 0; start + blockChars <= chars.length; start += blockChars) {
    h = api.h64Raw(utf8(chars.slice(start, start + blockChars).join('')), h);
    out.push(h);
  }
  return out;
}

function fromPairs(pairs: Uint32Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push((BigInt(pairs[i + 1]!) << 32n) | BigInt(pairs[i]!));
  return out;
}

function randomText(n: number, seed: number, alphabet: string[]): string {
  let x = seed >>> 0 || 1;
  let s = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += alphabet[(x >>> 0) % alphabet.length];
  }
  return s;
}

const ASCII = Array.from('abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ.,;:0123456789\n');
const MIXED = [...ASCII, 'é', 'ß', '中', '文', '😀', '🚀', 'ж', '\u{10FFFF}'];

describe('createTextHasher', () => {
  it('seeds with xxh64(utf8(model), 0) and defaults to 64-character blocks', async () => {
    const hasher = await createTextHasher({ model: 'llama-3-8b' });
    expect(hasher.model).toBe('llama-3-8b');
    expect(hasher.blockChars).toBe(64);
    expect(hasher.seed).toBe(api.h64('llama-3-8b', 0n));
  });

  it('equals chained xxhash-wasm h64 over ASCII and multi-byte text (code point blocks)', async () => {
    for (const blockChars of [1, 3, 16, 64, 100]) {
      const hasher = await createTextHasher({ model: 'm', blockChars });
      for (const [n, alphabet] of [[0, ASCII], [blockChars - 1, ASCII], [1000, ASCII], [1000, MIXED], [5 * blockChars, MIXED]] as const) {
        const text = randomText(n, n + blockChars, alphabet);
        const expected = referenceTextHashes(text, 'm', blockChars);
        expect([...hasher.blockHashes(text)], `${blockChars}/${n}`).toEqual(expected);
        expect(fromPairs(hasher.blockHashesU32(text))).toEqual(expected);
      }
    }
  });

  it('chains: a shared prefix gives the same leading hashes, then they diverge for good', async () => {
    const hasher = await createTextHasher({ model: 'm', blockChars: 8 });
    const prefix = 'You are a helpful assistant. '.repeat(2); // 58 chars
    const a = hasher.blockHashes(`${prefix}Tell me about cats and dogs and more.`);
    const b = hasher.blockHashes(`${prefix}Tell me about ships and sails and more`);
    expect(a.length).toBeGreaterThanOrEqual(10);
    // Blocks 0-8 (chars 0-71) are the same text in both; block 9 is "cats and" vs "ships an".
    expect([...a.subarray(0, 9)]).toEqual([...b.subarray(0, 9)]);
    // From the first differing block on, every hash differs.
    for (let i = 9; i < Math.min(a.length, b.length); i++) expect(a[i]).not.toBe(b[i]);
    // Equal block text after different prefixes hashes differently (the chain).
    const c = hasher.blockHashes('AAAAAAAAsame....');
    const d = hasher.blockHashes('BBBBBBBBsame....');
    expect(c[1]).not.toBe(d[1]);
  });

  it('different models give different hashes for the same text', async () => {
    const text = randomText(300, 1, ASCII);
    const a = (await createTextHasher({ model: 'model-a' })).blockHashes(text);
    const b = (await createTextHasher({ model: 'model-b' })).blockHashes(text);
    expect(a.length).toBe(4);
    for (let i = 0; i < a.length; i++) expect(a[i]).not.toBe(b[i]);
  });

  it('drops the partial trailing block', async () => {
    const hasher = await createTextHasher({ model: 'm', blockChars: 10 });
    const text = 'x'.repeat(35);
    expect(hasher.blockHashes(text).length).toBe(3);
    expect([...hasher.blockHashes(text)]).toEqual([...hasher.blockHashes(text.slice(0, 30))]);
    expect(hasher.blockHashes('x'.repeat(9)).length).toBe(0);
    expect(hasher.blockHashes('').length).toBe(0);
    // Counted in code points: 10 emoji (20 UTF-16 units) are one block.
    expect(hasher.blockHashes('😀'.repeat(10)).length).toBe(1);
    expect(hasher.blockHashes('😀'.repeat(19)).length).toBe(1);
  });

  it('handles long text (memory growth) and keeps interleaved hashers apart', async () => {
    const a = await createTextHasher({ model: 'a' });
    const b = await createTextHasher({ model: 'b' });
    const text = randomText(600_000, 9, MIXED);
    const viewA = a.blockHashesU32(text.slice(0, 6400));
    const expectedA = referenceTextHashes(text.slice(0, 6400), 'a');
    const long = b.blockHashes(text);
    expect(fromPairs(viewA)).toEqual(expectedA);
    const expectedB = referenceTextHashes(text, 'b');
    expect(long.length).toBe(expectedB.length);
    expect([...long]).toEqual(expectedB);
  });

  it('rejects bad arguments', async () => {
    const make = (opts: unknown): Promise<TextHasher> => createTextHasher(opts as never);
    await expect(make(null)).rejects.toThrow(new TypeError('createTextHasher: options must be an object, got null'));
    await expect(make({})).rejects.toThrow(new TypeError('createTextHasher: model must be a non-empty string, got undefined'));
    await expect(make({ model: '' })).rejects.toThrow(new TypeError('createTextHasher: model must be a non-empty string, got ""'));
    await expect(make({ model: 'm', blockChars: '64' })).rejects.toThrow(
      new TypeError('createTextHasher: blockChars must be a number, got "64"'),
    );
    for (const bad of [0, -3, 2.5, NaN]) {
      await expect(make({ model: 'm', blockChars: bad })).rejects.toThrow(
        new RangeError(`createTextHasher: blockChars must be an integer in [1, 16777216], got ${bad}`),
      );
    }
    const hasher = await createTextHasher({ model: 'm' });
    expect(() => hasher.blockHashes(42 as unknown as string)).toThrow(new TypeError('blockHashes: text must be a string, got 42'));
    expect(() => hasher.blockHashesU32(['a'] as unknown as string)).toThrow(TypeError);
  });
});

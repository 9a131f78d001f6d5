/**
 * A slow, obviously-correct XXH3-64 in BigInt, written straight from the xxHash specification
 * (doc/xxhash_spec.md), used only by tests to cross-check the wasm kernel. Every 64-bit
 * operation is spelled out and masked; no tricks, no speed.
 */

const MASK64 = (1n << 64n) - 1n;

const PRIME32_1 = 0x9e3779b1n;
const PRIME32_2 = 0x85ebca77n;
const PRIME32_3 = 0xc2b2ae3dn;
const PRIME64_1 = 0x9e3779b185ebca87n;
const PRIME64_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME64_3 = 0x165667b19e3779f9n;
const PRIME64_4 = 0x85ebca77c2b2ae63n;
const PRIME64_5 = 0x27d4eb2f165667c5n;
const PRIME_MX1 = 0x165667919e3779f9n;
const PRIME_MX2 = 0x9fb21c651e98df25n;

/** The specification's default secret, as hex. */
const DEFAULT_SECRET = hexBytes(
  'b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f' +
    'cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c' +
    '3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
    'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364' +
    'eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e' +
    '2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e',
);

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const add = (a: bigint, b: bigint): bigint => (a + b) & MASK64;
const sub = (a: bigint, b: bigint): bigint => (a - b) & MASK64;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK64;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK64;

function readLE(bytes: Uint8Array, offset: number, width: number): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}
const read32 = (b: Uint8Array, o: number): bigint => readLE(b, o, 4);
const read64 = (b: Uint8Array, o: number): bigint => readLE(b, o, 8);

function byteSwap(x: bigint, width: number): bigint {
  let out = 0n;
  for (let i = 0; i < width; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Full 128-bit product, then low half xor high half. */
function mulFold(a: bigint, b: bigint): bigint {
  const product = a * b;
  return (product & MASK64) ^ (product >> 64n);
}

function xxh64Avalanche(h: bigint): bigint {
  h ^= h >> 33n;
  h = mul(h, PRIME64_2);
  h ^= h >> 29n;
  h = mul(h, PRIME64_3);
  return h ^ (h >> 32n);
}

function avalanche(h: bigint): bigint {
  h ^= h >> 37n;
  h = mul(h, PRIME_MX1);
  return h ^ (h >> 32n);
}

function rrmxmx(h: bigint, len: number): bigint {
  h ^= rotl(h, 49n) ^ rotl(h, 24n);
  h = mul(h, PRIME_MX2);
  h ^= add(h >> 35n, BigInt(len));
  h = mul(h, PRIME_MX2);
  return h ^ (h >> 28n);
}

function mix16(input: Uint8Array, at: number, secret: Uint8Array, sAt: number, seed: bigint): bigint {
  const lo = read64(input, at) ^ add(read64(secret, sAt), seed);
  const hi = read64(input, at + 8) ^ sub(read64(secret, sAt + 8), seed);
  return mulFold(lo, hi);
}

function hashLong(input: Uint8Array, secret: Uint8Array): bigint {
  const len = input.length;
  const acc = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1];
  const stripesPerBlock = (secret.length - 64) / 8;
  const blockLen = 64 * stripesPerBlock;
  const accumulate = (at: number, sAt: number): void => {
    for (let i = 0; i < 8; i++) {
      const data = read64(input, at + 8 * i);
      const key = data ^ read64(secret, sAt + 8 * i);
      acc[i ^ 1] = add(acc[i ^ 1]!, data);
      acc[i] = add(acc[i]!, (key & 0xffffffffn) * (key >> 32n));
    }
  };
  const blocks = Math.floor((len - 1) / blockLen);
  for (let b = 0; b < blocks; b++) {
    for (let s = 0; s < stripesPerBlock; s++) accumulate(b * blockLen + 64 * s, 8 * s);
    for (let i = 0; i < 8; i++) {
      let a = acc[i]!;
      a ^= a >> 47n;
      a ^= read64(secret, secret.length - 64 + 8 * i);
      acc[i] = mul(a, PRIME32_1);
    }
  }
  const stripes = Math.floor((len - 1 - blocks * blockLen) / 64);
  for (let s = 0; s < stripes; s++) accumulate(blocks * blockLen + 64 * s, 8 * s);
  accumulate(len - 64, secret.length - 64 - 7);
  let result = mul(BigInt(len), PRIME64_1);
  for (let i = 0; i < 4; i++) {
    const lo = acc[2 * i]! ^ read64(secret, 11 + 16 * i);
    const hi = acc[2 * i + 1]! ^ read64(secret, 11 + 16 * i + 8);
    result = add(result, mulFold(lo, hi));
  }
  return avalanche(result);
}

/** XXH3-64 of `input` with `seed` (a u64 bigint), per the specification. */
export function referenceXxh3_64(input: Uint8Array, seed = 0n): bigint {
  const len = input.length;
  const secret = DEFAULT_SECRET;
  seed &= MASK64;
  if (len === 0) return xxh64Avalanche(seed ^ read64(secret, 56) ^ read64(secret, 64));
  if (len <= 3) {
    const combined =
      (BigInt(input[0]!) << 16n) | (BigInt(input[len >> 1]!) << 24n) | BigInt(input[len - 1]!) | (BigInt(len) << 8n);
    const bitflip = add(read32(secret, 0) ^ read32(secret, 4), seed);
    return xxh64Avalanche(combined ^ bitflip);
  }
  if (len <= 8) {
    const s = seed ^ (byteSwap(seed & 0xffffffffn, 4) << 32n);
    const input64 = read32(input, len - 4) + (read32(input, 0) << 32n);
    const bitflip = sub(read64(secret, 8) ^ read64(secret, 16), s);
    return rrmxmx(input64 ^ bitflip, len);
  }
  if (len <= 16) {
    const lo = read64(input, 0) ^ add(read64(secret, 24) ^ read64(secret, 32), seed);
    const hi = read64(input, len - 8) ^ sub(read64(secret, 40) ^ read64(secret, 48), seed);
    let acc = add(BigInt(len), byteSwap(lo, 8));
    acc = add(acc, hi);
    acc = add(acc, mulFold(lo, hi));
    return avalanche(acc);
  }
  if (len <= 128) {
    let acc = mul(BigInt(len), PRIME64_1);
    const rounds = Math.floor((len - 1) / 32); // 0..3 extra pairs, as the nested ifs of the spec
    for (let i = rounds; i >= 0; i--) {
      acc = add(acc, mix16(input, 16 * i, secret, 32 * i, seed));
      acc = add(acc, mix16(input, len - 16 * (i + 1), secret, 32 * i + 16, seed));
    }
    return avalanche(acc);
  }
  if (len <= 240) {
    let acc = mul(BigInt(len), PRIME64_1);
    for (let i = 0; i < 8; i++) acc = add(acc, mix16(input, 16 * i, secret, 16 * i, seed));
    acc = avalanche(acc);
    for (let i = 8; i < Math.floor(len / 16); i++) acc = add(acc, mix16(input, 16 * i, secret, 16 * (i - 8) + 3, seed));
    acc = add(acc, mix16(input, len - 16, secret, 136 - 17, seed));
    return avalanche(acc);
  }
  const custom = new Uint8Array(secret.length);
  for (let i = 0; i < secret.length; i += 16) {
    const lo = add(read64(secret, i), seed);
    const hi = sub(read64(secret, i + 8), seed);
    for (let b = 0; b < 8; b++) {
      custom[i + b] = Number((lo >> BigInt(8 * b)) & 0xffn);
      custom[i + 8 + b] = Number((hi >> BigInt(8 * b)) & 0xffn);
    }
  }
  return hashLong(input, custom);
}

/*
 * XXH3-64 (seeded) and XXH64 for kvrouter, written from the xxHash specification
 * (doc/xxhash_spec.md) for wasm32 without libc. Built by scripts/build-wasm.sh into
 * src/hashing/xxh3-wasm.generated.ts.
 *
 * The JavaScript side owns linear memory above __heap_base: it copies inputs in, calls one
 * export per prompt, and reads results back as (lo, hi) u32 pairs. Every export is a pure
 * function of its arguments and the memory it is pointed at, except for `custom_secret`, a
 * scratch area that is filled and consumed inside a single call (calls never interleave).
 */

#include <wasm_simd128.h>

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define EXPORT(name) __attribute__((export_name(name)))

#define PRIME32_1 0x9E3779B1U
#define PRIME32_2 0x85EBCA77U
#define PRIME32_3 0xC2B2AE3DU
#define PRIME64_1 0x9E3779B185EBCA87ULL
#define PRIME64_2 0xC2B2AE3D27D4EB4FULL
#define PRIME64_3 0x165667B19E3779F9ULL
#define PRIME64_4 0x85EBCA77C2B2AE63ULL
#define PRIME64_5 0x27D4EB2F165667C5ULL
#define PRIME_MX1 0x165667919E3779F9ULL
#define PRIME_MX2 0x9FB21C651E98DF25ULL

#define SECRET_SIZE 192
#define STRIPE_LEN 64
#define SECRET_CONSUME_RATE 8
#define STRIPES_PER_BLOCK ((SECRET_SIZE - STRIPE_LEN) / SECRET_CONSUME_RATE)
#define BLOCK_LEN (STRIPE_LEN * STRIPES_PER_BLOCK)

/* The specification's default 192-byte secret. */
static const u8 default_secret[SECRET_SIZE] = {
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
  0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
  0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
  0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
  0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
  0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
  0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
  0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
  0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
  0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
  0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
  0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

/* Seed-derived secret of the long path (> 240 bytes); valid only during one call. */
static u8 custom_secret[SECRET_SIZE];

/* wasm32 is little-endian and allows unaligned access: these lower to single loads/stores. */
static inline u32 read32(const u8 *p) { u32 v; __builtin_memcpy(&v, p, 4); return v; }
static inline u64 read64(const u8 *p) { u64 v; __builtin_memcpy(&v, p, 8); return v; }
static inline void write64(u8 *p, u64 v) { __builtin_memcpy(p, &v, 8); }
static inline u64 seed_of(u32 lo, u32 hi) { return ((u64)hi << 32) | lo; }

static inline u64 rotl64(u64 x, int r) { return (x << r) | (x >> (64 - r)); }
static inline u32 swap32(u32 x) { return __builtin_bswap32(x); }
static inline u64 swap64(u64 x) { return __builtin_bswap64(x); }

/* Low and high halves of the 128-bit product, xor-folded. wasm has no 64x64->128
 * multiply, so it is assembled from four 32x32->64 products. */
static inline u64 mul128_fold64(u64 a, u64 b) {
  u64 a_lo = (u32)a, a_hi = a >> 32, b_lo = (u32)b, b_hi = b >> 32;
  u64 lo_lo = a_lo * b_lo;
  u64 hi_lo = a_hi * b_lo;
  u64 lo_hi = a_lo * b_hi;
  u64 hi_hi = a_hi * b_hi;
  u64 cross = (lo_lo >> 32) + (u32)hi_lo + lo_hi;
  u64 upper = (hi_lo >> 32) + (cross >> 32) + hi_hi;
  u64 lower = (cross << 32) | (u32)lo_lo;
  return lower ^ upper;
}

static inline u64 xxh64_avalanche(u64 h) {
  h ^= h >> 33; h *= PRIME64_2;
  h ^= h >> 29; h *= PRIME64_3;
  h ^= h >> 32;
  return h;
}

static inline u64 xxh3_avalanche(u64 h) {
  h ^= h >> 37; h *= PRIME_MX1;
  h ^= h >> 32;
  return h;
}

static inline u64 rrmxmx(u64 h, u64 len) {
  h ^= rotl64(h, 49) ^ rotl64(h, 24);
  h *= PRIME_MX2;
  h ^= (h >> 35) + len;
  h *= PRIME_MX2;
  h ^= h >> 28;
  return h;
}

static inline u64 mix16(const u8 *in, const u8 *sec, u64 seed) {
  u64 lo = read64(in), hi = read64(in + 8);
  return mul128_fold64(lo ^ (read64(sec) + seed), hi ^ (read64(sec + 8) - seed));
}

static u64 len_0to16(const u8 *in, u32 len, u64 seed) {
  const u8 *sec = default_secret;
  if (len > 8) {
    u64 flip1 = (read64(sec + 24) ^ read64(sec + 32)) + seed;
    u64 flip2 = (read64(sec + 40) ^ read64(sec + 48)) - seed;
    u64 lo = read64(in) ^ flip1;
    u64 hi = read64(in + len - 8) ^ flip2;
    u64 acc = (u64)len + swap64(lo) + hi + mul128_fold64(lo, hi);
    return xxh3_avalanche(acc);
  }
  if (len >= 4) {
    seed ^= (u64)swap32((u32)seed) << 32;
    u32 first = read32(in), last = read32(in + len - 4);
    u64 flip = (read64(sec + 8) ^ read64(sec + 16)) - seed;
    u64 keyed = ((u64)last + ((u64)first << 32)) ^ flip;
    return rrmxmx(keyed, len);
  }
  if (len > 0) {
    u32 c1 = in[0], c2 = in[len >> 1], c3 = in[len - 1];
    u32 combined = (c1 << 16) | (c2 << 24) | c3 | (len << 8);
    u64 flip = (u64)(read32(sec) ^ read32(sec + 4)) + seed;
    return xxh64_avalanche((u64)combined ^ flip);
  }
  return xxh64_avalanche(seed ^ (read64(sec + 56) ^ read64(sec + 64)));
}

static u64 len_17to128(const u8 *in, u32 len, u64 seed) {
  const u8 *sec = default_secret;
  u64 acc = (u64)len * PRIME64_1;
  if (len > 32) {
    if (len > 64) {
      if (len > 96) {
        acc += mix16(in + 48, sec + 96, seed);
        acc += mix16(in + len - 64, sec + 112, seed);
      }
      acc += mix16(in + 32, sec + 64, seed);
      acc += mix16(in + len - 48, sec + 80, seed);
    }
    acc += mix16(in + 16, sec + 32, seed);
    acc += mix16(in + len - 32, sec + 48, seed);
  }
  acc += mix16(in, sec, seed);
  acc += mix16(in + len - 16, sec + 16, seed);
  return xxh3_avalanche(acc);
}

static u64 len_129to240(const u8 *in, u32 len, u64 seed) {
  const u8 *sec = default_secret;
  u64 acc = (u64)len * PRIME64_1;
  u32 rounds = len / 16, i;
  for (i = 0; i < 8; i++) acc += mix16(in + 16 * i, sec + 16 * i, seed);
  acc = xxh3_avalanche(acc);
  for (i = 8; i < rounds; i++) acc += mix16(in + 16 * i, sec + 16 * (i - 8) + 3, seed);
  acc += mix16(in + len - 16, sec + 136 - 17, seed);
  return xxh3_avalanche(acc);
}

static inline void accumulate_stripe(u64 *acc, const u8 *in, const u8 *sec) {
  for (int i = 0; i < 8; i++) {
    u64 data = read64(in + 8 * i);
    u64 key = data ^ read64(sec + 8 * i);
    acc[i ^ 1] += data;
    acc[i] += (u64)(u32)key * (key >> 32);
  }
}

static inline void scramble(u64 *acc, const u8 *sec) {
  for (int i = 0; i < 8; i++) {
    u64 a = acc[i];
    a ^= a >> 47;
    a ^= read64(sec + 8 * i);
    acc[i] = a * PRIME32_1;
  }
}

/* Fills custom_secret from the default secret and the seed (the long path's key). */
static void derive_secret(u64 seed) {
  for (int i = 0; i < SECRET_SIZE / 16; i++) {
    write64(custom_secret + 16 * i, read64(default_secret + 16 * i) + seed);
    write64(custom_secret + 16 * i + 8, read64(default_secret + 16 * i + 8) - seed);
  }
}

static u64 hash_long(const u8 *in, u32 len, const u8 *sec) {
  u64 acc[8] = { PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1 };
  u32 blocks = (len - 1) / BLOCK_LEN, b, s;
  for (b = 0; b < blocks; b++) {
    const u8 *block = in + b * BLOCK_LEN;
    for (s = 0; s < STRIPES_PER_BLOCK; s++) accumulate_stripe(acc, block + s * STRIPE_LEN, sec + s * SECRET_CONSUME_RATE);
    scramble(acc, sec + SECRET_SIZE - STRIPE_LEN);
  }
  u32 stripes = ((len - 1) - blocks * BLOCK_LEN) / STRIPE_LEN;
  const u8 *tail = in + blocks * BLOCK_LEN;
  for (s = 0; s < stripes; s++) accumulate_stripe(acc, tail + s * STRIPE_LEN, sec + s * SECRET_CONSUME_RATE);
  accumulate_stripe(acc, in + len - STRIPE_LEN, sec + SECRET_SIZE - STRIPE_LEN - 7);

  u64 result = (u64)len * PRIME64_1;
  for (int i = 0; i < 4; i++) {
    const u8 *k = sec + 11 + 16 * i;
    result += mul128_fold64(acc[2 * i] ^ read64(k), acc[2 * i + 1] ^ read64(k + 8));
  }
  return xxh3_avalanche(result);
}

/* XXH3-64 of len bytes with a seed. The long path expects derive_secret(seed) already done. */
static inline u64 xxh3_prepared(const u8 *in, u32 len, u64 seed) {
  if (len <= 16) return len_0to16(in, len, seed);
  if (len <= 128) return len_17to128(in, len, seed);
  if (len <= 240) return len_129to240(in, len, seed);
  return hash_long(in, len, custom_secret);
}

/* out[0..8) = XXH3-64(bytes[ptr..ptr+len), seed) as a little-endian u64. */
EXPORT("xxh3_bytes")
void xxh3_bytes(const u8 *ptr, u32 len, u32 seed_lo, u32 seed_hi, u8 *out) {
  u64 seed = seed_of(seed_lo, seed_hi);
  if (len > 240) derive_secret(seed);
  write64(out, xxh3_prepared(ptr, len, seed));
}

/* Specialised 64-byte block (16 tokens), the commonest engine block size. */
static inline u64 len_64(const u8 *in, u64 seed) {
  const u8 *sec = default_secret;
  u64 acc = 64 * PRIME64_1;
  acc += mix16(in + 16, sec + 32, seed);
  acc += mix16(in + 32, sec + 48, seed);
  acc += mix16(in, sec, seed);
  acc += mix16(in + 48, sec + 16, seed);
  return xxh3_avalanche(acc);
}

/* mul128_fold64 of two blocks at once (wasm simd128, lanes = blocks). in_a and in_b are one
 * mix16 input of block A and of block B, already xored with the key: u64 lanes (lo, hi), the
 * operands of the product. Returns (fold(lo_A * hi_A), fold(lo_B * hi_B)), each bit for bit
 * what mul128_fold64 returns. The 32-bit halves are regrouped so that each extended multiply
 * takes one half from each block and leaves one 64-bit partial product per lane. */
static inline v128_t mul128_fold64_x2(v128_t in_a, v128_t in_b) {
  v128_t a = wasm_i32x4_shuffle(in_a, in_b, 0, 4, 1, 5);  /* (a_lo A, a_lo B, a_hi A, a_hi B) */
  v128_t b = wasm_i32x4_shuffle(in_a, in_b, 2, 6, 3, 7);  /* (b_lo A, b_lo B, b_hi A, b_hi B) */
  v128_t b_swapped = wasm_i32x4_shuffle(b, b, 2, 3, 0, 1); /* (b_hi A, b_hi B, b_lo A, b_lo B) */
  v128_t lo_lo = wasm_u64x2_extmul_low_u32x4(a, b);
  v128_t hi_hi = wasm_u64x2_extmul_high_u32x4(a, b);
  v128_t lo_hi = wasm_u64x2_extmul_low_u32x4(a, b_swapped);
  v128_t hi_lo = wasm_u64x2_extmul_high_u32x4(a, b_swapped);
  v128_t cross = wasm_i64x2_add(wasm_i64x2_add(wasm_u64x2_shr(lo_lo, 32), wasm_v128_and(hi_lo, wasm_i64x2_splat(0xffffffffLL))), lo_hi);
  v128_t upper = wasm_i64x2_add(wasm_i64x2_add(wasm_u64x2_shr(hi_lo, 32), wasm_u64x2_shr(cross, 32)), hi_hi);
  /* lower = (cross << 32) | (u32)lo_lo: a blend of 32-bit lanes. */
  v128_t lower = wasm_i32x4_shuffle(lo_lo, wasm_i64x2_shl(cross, 32), 0, 5, 2, 7);
  return wasm_v128_xor(lower, upper);
}

static inline v128_t mix16_x2(const u8 *in_a, const u8 *in_b, v128_t key) {
  return mul128_fold64_x2(wasm_v128_xor(wasm_v128_load(in_a), key), wasm_v128_xor(wasm_v128_load(in_b), key));
}

/* key of mix16 with secret sec: (read64(sec) + seed, read64(sec + 8) - seed). */
static inline v128_t mix16_key(const u8 *sec, u64 seed) {
  return wasm_i64x2_make((long long)(read64(sec) + seed), (long long)(read64(sec + 8) - seed));
}

/* hash_blocks for 64-byte blocks: len_64 on two blocks per step; an odd last block goes
 * through the scalar len_64. */
static void hash_blocks_64(const u8 *tokens, u32 n_blocks, u64 seed, u8 *out) {
  const u8 *sec = default_secret;
  const v128_t key0 = mix16_key(sec, seed), key16 = mix16_key(sec + 32, seed);
  const v128_t key32 = mix16_key(sec + 48, seed), key48 = mix16_key(sec + 16, seed);
  const v128_t init = wasm_i64x2_splat((long long)(64 * PRIME64_1));
  const v128_t mx1 = wasm_i64x2_splat((long long)PRIME_MX1);
  u32 b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    const u8 *in_a = tokens + 64 * b, *in_b = in_a + 64;
    v128_t acc = init;
    acc = wasm_i64x2_add(acc, mix16_x2(in_a + 16, in_b + 16, key16));
    acc = wasm_i64x2_add(acc, mix16_x2(in_a + 32, in_b + 32, key32));
    acc = wasm_i64x2_add(acc, mix16_x2(in_a, in_b, key0));
    acc = wasm_i64x2_add(acc, mix16_x2(in_a + 48, in_b + 48, key48));
    acc = wasm_v128_xor(acc, wasm_u64x2_shr(acc, 37));
    acc = wasm_i64x2_mul(acc, mx1);
    acc = wasm_v128_xor(acc, wasm_u64x2_shr(acc, 32));
    wasm_v128_store(out + 8 * b, acc);
  }
  if (b < n_blocks) write64(out + 8 * b, len_64(tokens + 64 * b, seed));
}

/* Tokens hash of n_blocks consecutive blocks of block_size u32 tokens at tokens;
 * out receives n_blocks little-endian u64 hashes. */
EXPORT("hash_blocks")
void hash_blocks(const u8 *tokens, u32 n_blocks, u32 block_size, u32 seed_lo, u32 seed_hi, u8 *out) {
  u64 seed = seed_of(seed_lo, seed_hi);
  u32 len = block_size * 4, b;
  if (len == 64) {
    hash_blocks_64(tokens, n_blocks, seed, out);
    return;
  }
  if (len > 240) {
    derive_secret(seed);
    for (b = 0; b < n_blocks; b++) write64(out + 8 * b, hash_long(tokens + b * len, len, custom_secret));
    return;
  }
  for (b = 0; b < n_blocks; b++) write64(out + 8 * b, xxh3_prepared(tokens + b * len, len, seed));
}

/* Sequence hashes (seed 1337 always): seq[0] = h[0]; seq[i] = XXH3(le64(seq[i-1]) || le64(h[i])).
 * in and out may be the same address. */
EXPORT("sequence_hashes")
void sequence_hashes(const u8 *in, u32 count, u8 *out) {
  if (count == 0) return;
  const u8 *sec = default_secret;
  const u64 seed = 1337;
  const u64 flip1 = (read64(sec + 24) ^ read64(sec + 32)) + seed;
  const u64 flip2 = (read64(sec + 40) ^ read64(sec + 48)) - seed;
  u64 prev = read64(in);
  write64(out, prev);
  for (u32 i = 1; i < count; i++) {
    u64 lo = prev ^ flip1;
    u64 hi = read64(in + 8 * i) ^ flip2;
    prev = xxh3_avalanche(16 + swap64(lo) + hi + mul128_fold64(lo, hi));
    write64(out + 8 * i, prev);
  }
}

/* ---- XXH64, for the text mode: chained block hashes in one call ---- */

static inline u64 xxh64_round(u64 acc, u64 input) {
  acc += input * PRIME64_2;
  acc = rotl64(acc, 31);
  return acc * PRIME64_1;
}

static inline u64 xxh64_merge(u64 acc, u64 val) {
  acc ^= xxh64_round(0, val);
  return acc * PRIME64_1 + PRIME64_4;
}

static u64 xxh64(const u8 *in, u32 len, u64 seed) {
  const u8 *end = in + len;
  u64 h;
  if (len >= 32) {
    u64 v1 = seed + PRIME64_1 + PRIME64_2, v2 = seed + PRIME64_2, v3 = seed, v4 = seed - PRIME64_1;
    const u8 *limit = end - 32;
    do {
      v1 = xxh64_round(v1, read64(in));
      v2 = xxh64_round(v2, read64(in + 8));
      v3 = xxh64_round(v3, read64(in + 16));
      v4 = xxh64_round(v4, read64(in + 24));
      in += 32;
    } while (in <= limit);
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xxh64_merge(h, v1);
    h = xxh64_merge(h, v2);
    h = xxh64_merge(h, v3);
    h = xxh64_merge(h, v4);
  } else {
    h = seed + PRIME64_5;
  }
  h += len;
  while (in + 8 <= end) {
    h ^= xxh64_round(0, read64(in));
    h = rotl64(h, 27) * PRIME64_1 + PRIME64_4;
    in += 8;
  }
  if (in + 4 <= end) {
    h ^= (u64)read32(in) * PRIME64_1;
    h = rotl64(h, 23) * PRIME64_2 + PRIME64_3;
    in += 4;
  }
  while (in < end) {
    h ^= (u64)(*in) * PRIME64_5;
    h = rotl64(h, 11) * PRIME64_1;
    in++;
  }
  return xxh64_avalanche(h);
}

/* out[0..8) = XXH64(bytes, seed). */
EXPORT("xxh64_bytes")
void xxh64_bytes(const u8 *ptr, u32 len, u32 seed_lo, u32 seed_hi, u8 *out) {
  write64(out, xxh64(ptr, len, seed_of(seed_lo, seed_hi)));
}

/* Text-mode block hashes. bytes is UTF-8; a block is block_chars consecutive code points
 * (a code point starts at every byte that is not 10xxxxxx). Block i's hash is XXH64 of its
 * bytes seeded with block i-1's hash (block 0: the given seed), so it names the block and its
 * whole prefix. A partial trailing block is dropped. Returns the number of blocks written. */
EXPORT("xxh64_text_chain")
u32 xxh64_text_chain(const u8 *bytes, u32 len, u32 block_chars, u32 seed_lo, u32 seed_hi, u8 *out) {
  u64 h = seed_of(seed_lo, seed_hi);
  u32 count = 0, start = 0, chars = 0;
  if (block_chars == 0) return 0;
  for (u32 pos = 0; pos < len; pos++) {
    if ((bytes[pos] & 0xC0) == 0x80) continue;
    if (chars == block_chars) {
      h = xxh64(bytes + start, pos - start, h);
      write64(out + 8 * count++, h);
      start = pos;
      chars = 0;
    }
    chars++;
  }
  if (chars == block_chars) {
    h = xxh64(bytes + start, len - start, h);
    write64(out + 8 * count++, h);
  }
  return count;
}

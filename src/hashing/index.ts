export type * from './types.js';
export { createHasher } from './hasher.js';
export type { Hasher } from './hasher.js';
export { createTextHasher } from './text-hasher.js';
export type { TextHasher, TextHasherOptions } from './text-hasher.js';
export { xxh3_64, xxh64 } from './xxh3.js';

export type * from './types.js';
export { TIERS } from './types.js';
export { RadixIndex, type RadixIndexOptions } from './radix-index.js';

export type * from './types.js';
export { TIERS } from './types.js';

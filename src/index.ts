/**
 * kvrouter: a KV-cache-aware router for LLM serving fleets.
 *
 * @packageDocumentation
 */
export * from './hashing/index.js';
export * from './radix/index.js';
export * from './events/index.js';
export * from './scoring/index.js';
export * from './sim/index.js';

/**
 * kvrouter: a KV-cache-aware router for LLM serving fleets.
 *
 * @packageDocumentation
 */
export * from './hashing/index.js';
export * from './radix/index.js';

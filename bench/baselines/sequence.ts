/** Sequence hashes for the baseline designs, which key blocks by their whole prefix. */
import type { Hasher } from '../../src/hashing/index.js';

/**
 * Chains sequence hashes from `parentSeq` (or from the root when null) over `tokensHashes`,
 * as DESIGN §3: seq[i] = xxh3(le(seq[i-1]) ‖ le(tokens[i]), 1337), seq[0] = tokens[0] at the root.
 * Uses the hasher's one-call chain by prepending the parent's sequence hash.
 */
export function chainSequenceHashes(hasher: Hasher, parentSeq: bigint | null, tokensHashes: readonly bigint[] | BigUint64Array): bigint[] {
  const n = tokensHashes.length;
  if (n === 0) return [];
  const lead = parentSeq === null ? 0 : 1;
  const input = new BigUint64Array(n + lead);
  if (parentSeq !== null) input[0] = parentSeq;
  for (let i = 0; i < n; i++) input[i + lead] = tokensHashes[i]!;
  const seq = hasher.sequenceHashesU32(new Uint32Array(input.buffer), n + lead);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const j = 2 * (i + lead);
    out[i] = (BigInt(seq[j + 1]!) << 32n) | BigInt(seq[j]!);
  }
  return out;
}

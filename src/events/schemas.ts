/**
 * zod schemas of the normalized shapes. Decoders of untrusted input build these shapes by hand (the
 * hot path cannot afford zod) and the tests check their output against these schemas.
 */
import { z } from 'zod';

const U64_MAX = (1n << 64n) - 1n;

/** A u64 as a bigint. */
export const U64Schema = z.bigint().min(0n).max(U64_MAX);

const TierSchema = z.enum(['device', 'host', 'disk']);
const base = {
  workerId: z.string(),
  dpRank: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  eventId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  tier: TierSchema.optional(),
};

/** Schema of a normalized `KvEvent` (radix `KvEvent`). */
export const KvEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('stored'),
    parentHash: U64Schema.nullable().optional(),
    blocks: z.array(z.object({ blockHash: U64Schema, tokensHash: U64Schema })),
  }),
  z.object({ ...base, type: z.literal('removed'), blockHashes: z.array(U64Schema) }),
  z.object({ ...base, type: z.literal('cleared') }),
]);

const count = z.number().finite().nonnegative();
const fraction = z.number().finite().min(0).max(1);

/** Schema of `LoadMetrics`: counts finite and non-negative, fractions in [0, 1]. */
export const LoadMetricsSchema = z
  .object({
    requestActiveSlots: count.optional(),
    requestTotalSlots: count.optional(),
    numRequestsWaiting: count.optional(),
    kvActiveBlocks: count.optional(),
    kvTotalBlocks: count.optional(),
    gpuCacheUsagePerc: fraction.optional(),
    gpuPrefixCacheHitRate: fraction.optional(),
    dataParallelRank: z.number().int().nonnegative().optional(),
    activeDecodeBlocks: count.optional(),
    activePrefillTokens: count.optional(),
  })
  .strict();

/**
 * NVIDIA Dynamo's routing cost (DESIGN §6), as pure arithmetic. Lower wins.
 *
 * ```
 * prefill      = (activePrefillTokens + promptTokens) / B
 * credit       = overlapCredit·o_dev + hostWeight·o_host + diskWeight·o_disk
 * prefillBlocks = max(0, prefill − credit)
 * decodeBlocks = activeBlocks + newBlocks          (newBlocks = promptBlocks − overlap)
 * cost         = prefillLoadScale · prefillBlocks + decodeBlocks
 * ```
 */

/** The weights the cost uses; a subset of the router config. */
export interface CostParams {
  /** Tokens per block `B`. */
  blockSize: number;
  /** Credit per device-tier overlap block. */
  overlapCredit: number;
  /** Credit per host-tier overlap block. */
  hostWeight: number;
  /** Credit per disk-tier overlap block. */
  diskWeight: number;
  /** Weight of the prefill term. */
  prefillLoadScale: number;
}

/** Overlap credit of a worker, in blocks. `creditScale` 0 turns it off (decode-role picks). */
export function overlapCreditBlocks(
  p: CostParams,
  deviceBlocks: number,
  hostBlocks: number,
  diskBlocks: number,
  creditScale = 1,
): number {
  return creditScale * (p.overlapCredit * deviceBlocks + p.hostWeight * hostBlocks + p.diskWeight * diskBlocks);
}

/** Prefill blocks left after the overlap credit: `max(0, (activePrefillTokens + promptTokens)/B − credit)`. */
export function prefillBlocksAfterCredit(
  p: CostParams,
  activePrefillTokens: number,
  promptTokens: number,
  creditBlocks: number,
): number {
  const prefill = (activePrefillTokens + promptTokens) / p.blockSize;
  const left = prefill - creditBlocks;
  return left > 0 ? left : 0;
}

/** Decode blocks: the worker's active blocks plus the blocks the request adds there. */
export function decodeBlocksWith(activeBlocks: number, promptBlocks: number, overlapBlocks: number): number {
  const added = promptBlocks - overlapBlocks;
  return activeBlocks + (added > 0 ? added : 0);
}

/** The cost: `prefillLoadScale · prefillBlocks + decodeBlocks`. */
export function routingCost(p: CostParams, prefillBlocks: number, decodeBlocks: number): number {
  return p.prefillLoadScale * prefillBlocks + decodeBlocks;
}

/**
 * Scoring: the router facade (`createRouter`, `pickEndpoint`), its configuration, and the
 * policy plugins (filters → scorers → picker).
 */
export { createRouter, Router } from './router.js';
export type { RouterOptions } from './router.js';
export {
  RouterConfigSchema,
  BusyThresholdsSchema,
  ScorerWeightsSchema,
  RouterConfigError,
  parseRouterConfig,
} from './config.js';
export type { RouterConfig, RouterConfigInput } from './config.js';
export {
  prefixScorer,
  queueScorer,
  kvUtilizationScorer,
  costScorer,
  maxPicker,
  randomPicker,
} from './plugins.js';
export type { CandidateTable, Filter, Scorer, Picker } from './plugins.js';
export type { RandomSource } from './pickers.js';
export type {
  WorkerRole,
  WorkerSpec,
  WorkerInfo,
  CandidateSpec,
  RequestBase,
  TokenRequest,
  TextRequest,
  PickRequest,
  CandidateScore,
  PickFailureReason,
  PickSuccess,
  PickFailure,
  PickResult,
  EndpointScore,
  RouterIndex,
} from './types.js';

/**
 * The simulated fleet: vLLM-like engines on a simulated clock that publish real KV events,
 * workloads (synthetic chat, Mooncake traces), routing policies and the comparison report.
 */
export { simulate, idealHitRate, DEFAULT_CAPACITY_TOKENS, type SimulationOptions } from './simulate.js';
export { syntheticWorkload, type SyntheticOptions } from './synthetic.js';
export { parseMooncakeTrace, loadMooncakeTrace, TraceFormatError, MOONCAKE_BLOCK_TOKENS, type MooncakeOptions } from './mooncake.js';
export type { SimRequest, Workload } from './workload.js';
export type { EngineConfig, EngineSink } from './engine.js';
export { POLICY_NAMES, type PolicyName, type RoutingPolicy, type FleetView } from './policies.js';
export { withoutWallTime, type SimReport, type PolicyReport, type PolicySeries } from './report.js';
export type { Distribution } from './stats.js';

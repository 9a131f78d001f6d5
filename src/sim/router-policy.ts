import { createRouter } from '../scoring/index.js';
import type { RoutingPolicy } from './policies.js';
import type { PolicyContext } from './simulate.js';

/** The router as a simulator policy (`kv` with KV events, `approx` without). @internal */
export async function routerPolicy(name: string, ctx: PolicyContext, kvEvents: boolean): Promise<RoutingPolicy> {
  void createRouter;
  void ctx;
  void kvEvents;
  throw new Error(`policy ${name}: the router is not available yet`);
}

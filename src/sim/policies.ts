import type { EngineSink } from './engine.js';
import { Rng } from './rng.js';
import type { SimRequest } from './workload.js';

/** Names of the routing policies the simulator compares. */
export type PolicyName = 'kv' | 'round-robin' | 'random' | 'least-loaded' | 'approx';

/** All policy names, in report order. */
export const POLICY_NAMES: readonly PolicyName[] = ['kv', 'approx', 'least-loaded', 'round-robin', 'random'];

/** What a policy sees of the fleet when it picks. */
export interface FleetView {
  /** Worker ids, index = worker number. */
  readonly workerIds: readonly string[];
  /** Requests queued or running on worker `i` right now. */
  activeRequests(i: number): number;
}

/** A routing policy driven by the simulator. */
export interface RoutingPolicy {
  /** Policy name shown in reports. */
  readonly name: string;
  /** Where engines publish events and load, when the policy consumes them. */
  readonly sink?: EngineSink;
  /** Waits until everything engines published so far has reached the router (transports with latency). */
  sync?(): Promise<void>;
  /** Whether `pick` reads the prompt tokens (otherwise it gets an empty array). */
  readonly needsTokens?: boolean;
  /** Picks a worker number for a request. */
  pick(request: SimRequest, tokens: Uint32Array): number;
  /** The request's prefill finished. */
  prefillDone?(request: SimRequest): void;
  /** The request finished. */
  completed?(request: SimRequest): void;
  /** Event-path counters to show in the report. */
  counters?(): Record<string, number>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** Round-robin over workers. @internal */
export function roundRobinPolicy(fleet: FleetView): RoutingPolicy {
  let next = 0;
  return {
    name: 'round-robin',
    pick: () => {
      const w = next;
      next = (next + 1) % fleet.workerIds.length;
      return w;
    },
  };
}

/** Uniformly random worker (seeded). @internal */
export function randomPolicy(fleet: FleetView, seed: number): RoutingPolicy {
  const rng = new Rng(seed ^ 0x5eed);
  return { name: 'random', pick: () => Math.floor(rng.next() * fleet.workerIds.length) };
}

/** Fewest requests queued or running (ties: lowest number after a rotating start). @internal */
export function leastLoadedPolicy(fleet: FleetView): RoutingPolicy {
  let start = 0;
  return {
    name: 'least-loaded',
    pick: () => {
      const n = fleet.workerIds.length;
      let best = start % n;
      let bestLoad = fleet.activeRequests(best);
      for (let k = 1; k < n; k++) {
        const i = (start + k) % n;
        const load = fleet.activeRequests(i);
        if (load < bestLoad) {
          best = i;
          bestLoad = load;
        }
      }
      start++;
      return best;
    },
  };
}


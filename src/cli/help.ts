import { DEFAULT_CAPACITY_TOKENS, POLICY_NAMES } from '../sim/index.js';

/** Default arrival rate of the embedded synthetic workload, requests per second. */
export const DEFAULT_SYNTHETIC_RATE = 90;
/** Default number of requests of the embedded synthetic workload. */
export const DEFAULT_SYNTHETIC_REQUESTS = 6000;

/** `kvrouter --help`. */
export function mainHelp(version: string): string {
  return `kvrouter ${version}: a KV-cache-aware router for LLM serving fleets

Usage:
  kvrouter <command> [options]

Commands:
  simulate     Replay a workload on a simulated fleet of vLLM-like engines and compare
               routing policies (KV-aware router vs round-robin, random, least-loaded).
               Run \`kvrouter simulate --help\` for its options.

Options:
  -h, --help     Show this help
  -v, --version  Print the version

Examples:
  kvrouter simulate
  kvrouter simulate --trace mooncake_conversation_trace.jsonl --workers 16 --html report.html
`;
}

/** `kvrouter simulate --help`. */
export function simulateHelp(): string {
  return `Usage: kvrouter simulate [options]

Replays a workload on a simulated fleet and compares routing policies. Each engine models
vLLM's prefix cache (a fixed pool of KV blocks, LRU eviction of unreferenced blocks, generated
tokens cached too) and publishes real vLLM msgpack KV events; the kv policy consumes them
through the real decoder, ingestor and router. Time is simulated (far faster than real time).

Workload:
  --trace FILE          Mooncake JSONL trace ({timestamp, input_length, output_length,
                        hash_ids} per line, 512 tokens per hash id). Default: an embedded,
                        seeded synthetic chat workload (multi-turn conversations sharing
                        system prompts; no files or network needed).
  --requests N          Use the first N requests (synthetic default: ${DEFAULT_SYNTHETIC_REQUESTS};
                        trace default: all).
  --rate R              Mean arrival rate, requests per second (synthetic default:
                        ${DEFAULT_SYNTHETIC_RATE}; a trace is rescaled to R).
  --speedup X           Replay X times faster than the trace's timestamps (synthetic:
                        multiplies the default rate). Not with --rate.
  --seed S              Seed of the synthetic workload and of random choices. Default 1.

Fleet:
  --workers N           Engines in the fleet. Default 16.
  --block-size B        Tokens per KV block (engines and router). Default 16.
  --capacity BLOCKS     KV blocks per engine. Default ${DEFAULT_CAPACITY_TOKENS} tokens' worth
                        (${DEFAULT_CAPACITY_TOKENS / 16} blocks of 16).
  --batch-limit N       Most requests running per engine. Default 64.
  --prefill-rate TPS    Prefill throughput per engine, uncached tokens/s. Default 16000.
  --decode-ms MS        Decode time per generated token, ms. Default 20.

Policies:
  --policies LIST       Comma-separated, run in this order. Default: all of
                        ${POLICY_NAMES.join(',')}
                          kv            the router, fed by KV events and pushed load
                          approx        the router without KV events (remembers its routing)
                          least-loaded  fewest queued + running requests
                          round-robin   next worker in turn
                          random        uniformly random worker (seeded)
  --nats URL            Send KV events and load from the engines to the router through
                        this NATS server (e.g. nats://127.0.0.1:4222). Default: in-process.

Output:
  --json FILE           Write the full report as JSON.
  --html FILE           Write a self-contained HTML report with charts (no network assets).
  -q, --quiet           No progress on stderr.
  -h, --help            Show this help.

The report gives, per policy: prefix cache hit rate (and the ideal infinite-cache rate of
the workload), prefill tokens saved, time to first token p50/p90/p99, end-to-end latency,
load imbalance (busiest worker's active requests / the mean, averaged over time) and the
router's real time per pick.

Exit status: 0 on success, 1 when the run fails, 2 on a bad command line.

Examples:
  kvrouter simulate
  kvrouter simulate --workers 8 --policies kv,round-robin --json out.json
  kvrouter simulate --trace mooncake_conversation_trace.jsonl --speedup 2 --html report.html
`;
}

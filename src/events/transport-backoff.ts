/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay of the first retry in ms. Default 100. */
  initialMs?: number;
  /** Largest delay in ms. Default 5000. */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential growth capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that many clients restarting together spread out.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts (never rejects): retry loops stay
 * interruptible by `close()`.
 * @internal
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * NATS subject conventions of kvrouter (compatible with NVIDIA Dynamo's older subjects).
 *
 * Base subjects, for namespace `ns` and component `c`:
 * - events: `namespace.ns.component.c.kv_events`
 * - metrics: `namespace.ns.component.c.kv_metrics`
 * - resync requests: `namespace.ns.component.c.kv_resync`
 *
 * Two ways to name the worker a message is from:
 * - **shared subject** (`workerIdFrom: 'payload'`): every worker publishes on the base subject and
 *   the payload carries the worker (Dynamo `RouterEvent.worker_id`).
 * - **per-worker subjects** (`workerIdFrom: 'subject'`): worker `w` publishes on `<base>.<w>`. The
 *   worker id is everything after the base and its dot, so ids with dots (`10.0.0.7:8000`) work; a
 *   subscriber listens on `<base>.>`.
 */

/** The three subjects of a namespace and component. */
export interface NatsSubjects {
  /** KV events subject (base; per-worker subjects append `.<workerId>`). */
  events: string;
  /** Load metrics subject (base; per-worker subjects append `.<workerId>`). */
  metrics: string;
  /** Resync request subject. */
  resync: string;
}

/** Default subjects of a Dynamo-style `namespace` and `component`. */
export function defaultNatsSubjects(namespace: string, component: string): NatsSubjects {
  checkToken(namespace, 'namespace');
  checkToken(component, 'component');
  const base = `namespace.${namespace}.component.${component}`;
  return { events: `${base}.kv_events`, metrics: `${base}.kv_metrics`, resync: `${base}.kv_resync` };
}

/** The per-worker subject of worker `workerId` under `base`. */
export function workerSubject(base: string, workerId: string): string {
  checkWorkerId(workerId);
  return `${base}.${workerId}`;
}

/**
 * The worker id of a per-worker subject: the part after `base.`, or `undefined` when `subject`
 * is not under `base`.
 */
export function workerIdFromSubject(subject: string, base: string): string | undefined {
  if (subject.length <= base.length + 1 || !subject.startsWith(base) || subject.charCodeAt(base.length) !== 46) {
    return undefined;
  }
  return subject.slice(base.length + 1);
}

/** Throws unless `subject` is a valid NATS subject to publish on or subscribe to. @internal */
export function checkSubject(subject: unknown, what: string, allowWildcards: boolean): string {
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new TypeError(`${what}: expected a non-empty NATS subject string, got ${describe(subject)}`);
  }
  const tokens = subject.split('.');
  for (const token of tokens) {
    if (token.length === 0 || /\s/.test(token)) {
      throw new TypeError(`${what}: "${subject}" has an empty token or whitespace`);
    }
    if (!allowWildcards && (token === '*' || token === '>')) {
      throw new TypeError(`${what}: "${subject}" must not contain wildcards`);
    }
  }
  return subject;
}

function checkToken(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0 || /[\s.*>]/.test(value)) {
    throw new TypeError(`${what}: expected a non-empty subject token without '.', '*', '>' or spaces, got ${describe(value)}`);
  }
}

function checkWorkerId(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[\s*>]/.test(value) || value.split('.').includes('')) {
    throw new TypeError(`workerId: expected a non-empty id without spaces, '*', '>' or empty dot-separated parts, got ${describe(value)}`);
  }
}

/** Short description of a bad value for error messages. @internal */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

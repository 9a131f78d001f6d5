/** Subject conventions and backoff of the NATS transports (no server needed). */
import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultNatsSubjects, workerIdFromSubject, workerSubject } from '../src/events/transports.js';
import { resolveSubjects, workerRoute } from '../src/events/nats.js';

describe('NATS subjects', () => {
  it('defaults follow Dynamo: namespace.{ns}.component.{c}.kv_events / kv_metrics / kv_resync', () => {
    expect(defaultNatsSubjects('dynamo', 'backend')).toEqual({
      events: 'namespace.dynamo.component.backend.kv_events',
      metrics: 'namespace.dynamo.component.backend.kv_metrics',
      resync: 'namespace.dynamo.component.backend.kv_resync',
    });
    expect(() => defaultNatsSubjects('a.b', 'c')).toThrow(TypeError);
    expect(() => defaultNatsSubjects('a', '*')).toThrow(TypeError);
    expect(() => defaultNatsSubjects('', 'c')).toThrow(TypeError);
  });

  it('per-worker subjects carry the whole worker id after the base, dots included', () => {
    const base = 'namespace.n.component.c.kv_events';
    expect(workerSubject(base, '10.0.0.7:8000')).toBe(`${base}.10.0.0.7:8000`);
    expect(workerIdFromSubject(`${base}.10.0.0.7:8000`, base)).toBe('10.0.0.7:8000');
    expect(workerIdFromSubject(base, base)).toBeUndefined();
    expect(workerIdFromSubject(`${base}x.w`, base)).toBeUndefined();
    expect(workerIdFromSubject('other.w', base)).toBeUndefined();
    for (const bad of ['', 'a b', 'a..b', 'a.', '*', 'w.>']) expect(() => workerSubject(base, bad)).toThrow(TypeError);
  });

  it('routes: payload mode listens on the base, subject mode on base.>, a function on the subject as given', () => {
    expect(workerRoute('s.e', 'payload').subject).toBe('s.e');
    const r = workerRoute('s.e', 'subject');
    expect(r.subject).toBe('s.e.>');
    expect(r.workerOf('s.e.w1')).toBe('w1');
    const f = workerRoute('s.*.e', (subject) => subject.split('.')[1]);
    expect(f.subject).toBe('s.*.e');
    expect(f.workerOf('s.w9.e')).toBe('w9');
    expect(() => workerRoute('s.*', 'subject')).toThrow(TypeError);
    expect(() => workerRoute('s', 'nope' as never)).toThrow(TypeError);
  });

  it('resolves explicit subjects and disables metrics / resync with false', () => {
    expect(resolveSubjects({ eventsSubject: 'kv-events', metricsSubject: false, resyncSubject: false }, 't')).toEqual({ events: 'kv-events', metrics: undefined, resync: undefined });
    expect(resolveSubjects({ namespace: 'n', component: 'c', eventsSubject: 'x.y' }, 't').events).toBe('x.y');
    expect(() => resolveSubjects({}, 't')).toThrow(TypeError);
    expect(() => resolveSubjects({ eventsSubject: 'a..b' }, 't')).toThrow(TypeError);
    expect(() => resolveSubjects({ eventsSubject: 'a', resyncSubject: 'r.*' }, 't')).toThrow(TypeError);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap, with jitter in [ceiling/2, ceiling]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** attempt);
      for (let k = 0; k < 50; k++) {
        const d = backoffDelay(attempt, { initialMs: 10, maxMs: 1000 });
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(backoffDelay(10_000)).toBeLessThanOrEqual(5000);
  });
});

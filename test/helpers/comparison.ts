/**
 * Runs one event stream into the literal model and every index implementation, comparing apply
 * results and everything observable; a mismatch throws with a pasteable repro of the stream.
 */
import type { KvEvent, WorkerKey } from '../../src/radix/types.js';
import { actionCode, prng, show, StreamDriver, WORKER_IDS, type Step } from './event-streams.js';
import { implementations, scoreList, workerList, type Implementation, type IndexUnderTest } from './index-impls.js';
import { LiteralModel } from './literal-model.js';

/** One implementation under comparison. */
export interface Subject {
  name: string;
  impl: Implementation;
  index: IndexUnderTest;
  baselineNodes: number;
}

const byKey = (a: WorkerKey, b: WorkerKey): number =>
  a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : a.dpRank - b.dpRank;

/** A disagreement between an implementation and the model. */
export class Mismatch extends Error {}

/** Runs a stream into the model and every implementation, comparing as it goes. */
export class Comparison {
  readonly model = new LiteralModel();
  readonly driver = new StreamDriver(this.model);
  readonly subjects: Subject[];
  readonly log: string[] = [];
  readonly #random: () => number;

  constructor(querySeed: number, impls: ReadonlyArray<[string, Implementation]> = implementations) {
    this.#random = prng(querySeed);
    this.subjects = impls.map(([name, impl]) => {
      const index = impl.create();
      return { name, impl, index, baselineNodes: index.stats().nodes };
    });
  }

  fail(what: string): never {
    const tail = this.log.length > 80 ? ['// … earlier steps omitted', ...this.log.slice(-80)] : this.log;
    throw new Mismatch(`${what}\n// repro (${this.log.length} steps):\nlet index = new RadixIndex();\n${tail.join('\n')}`);
  }

  run(s: Step): void {
    const action = this.driver.action(s);
    this.log.push(actionCode(action));
    if (action.kind === 'snapshot') {
      this.restoreAll();
    } else if (action.kind === 'removeWorker') {
      this.model.removeWorker(action.workerId, action.dpRank);
      for (const { index } of this.subjects) index.removeWorker(action.workerId, action.dpRank);
    } else {
      this.applyEvent(action.event);
    }
  }

  /** Replaces every index by the restore of its own snapshot. */
  restoreAll(): void {
    for (const subject of this.subjects) subject.index = subject.impl.restore(subject.index.snapshot());
  }

  applyEvent(event: KvEvent): void {
    const expected = this.model.apply(event);
    if (expected.error === undefined) this.driver.accepted(event);
    for (const { name, index } of this.subjects) {
      const got = index.apply(event);
      if (got.applied !== expected.applied || got.error !== expected.error) {
        this.fail(`${name}: apply returned ${show(got)}, expected ${show(expected)}`);
      }
    }
  }

  /** Compares everything observable on `queries`. */
  check(queryCount: number): void {
    const expectedWorkers = this.model.workers().sort(byKey);
    const queries = this.driver.queries(this.#random, queryCount);
    for (const { name, index } of this.subjects) {
      const workers = workerList(index);
      if (show(workers) !== show(expectedWorkers)) this.fail(`${name}: workers() ${show(workers)}, expected ${show(expectedWorkers)}`);
      for (const w of [...expectedWorkers, { workerId: 'nobody', dpRank: 0 }]) {
        const got = index.blockCount(w.workerId, w.dpRank);
        const want = this.model.blockCount(w.workerId, w.dpRank);
        if (got !== want) this.fail(`${name}: blockCount(${show(w)}) = ${got}, expected ${want}`);
      }
      for (const workerId of new Set(expectedWorkers.map((w) => w.workerId))) {
        const got = index.blockCount(workerId);
        const want = this.model.blockCount(workerId);
        if (got !== want) this.fail(`${name}: blockCount(${show(workerId)}) (every rank) = ${got}, expected ${want}`);
      }
      const entries = index.stats().entries;
      if (entries !== this.model.entries()) this.fail(`${name}: stats().entries = ${entries}, expected ${this.model.entries()}`);
      queries.forEach((query, qi) => {
        for (const earlyExit of [false, true]) {
          const expected = this.model.findMatches(query, earlyExit).sort(byKey);
          // Vary the query's form: bigint[], BigUint64Array, and (lo, hi) pairs.
          const form = qi % 3;
          const big = new BigUint64Array(query);
          const scores =
            form === 1
              ? index.findMatches(big, { earlyExit })
              : form === 2 && index.findMatchesU32
                ? index.findMatchesU32(new Uint32Array(big.buffer), query.length, { earlyExit })
                : index.findMatches(query, { earlyExit });
          const where = `${name}: findMatches(${show(query)}, {earlyExit: ${earlyExit}})`;
          const got = scoreList(scores);
          const want = expected.map(({ workerId, dpRank, blocks }) => ({ workerId, dpRank, blocks }));
          if (show(got) !== show(want)) this.fail(`${where} scores ${show(got)}, expected ${show(want)}`);
          if (scores.size !== want.length) this.fail(`${where} size ${scores.size}, expected ${want.length}`);
          for (const e of expected) {
            if (scores.get(e.workerId, e.dpRank) !== e.blocks) this.fail(`${where} get(${show(e.workerId)}, ${e.dpRank}) differs`);
            const tiers = scores.tiers(e.workerId, e.dpRank);
            if (show(tiers) !== show(e.tiers)) this.fail(`${where} tiers of ${show(e.workerId)}/${e.dpRank} ${show(tiers)}, expected ${show(e.tiers)}`);
          }
          for (const w of expectedWorkers) {
            if (expected.some((e) => e.workerId === w.workerId && e.dpRank === w.dpRank)) continue;
            if (scores.get(w.workerId, w.dpRank) !== 0) this.fail(`${where} get(${show(w)}) should be 0`);
            if (show(scores.tiers(w.workerId, w.dpRank)) !== show({ device: 0, host: 0, disk: 0 })) {
              this.fail(`${where} tiers(${show(w)}) should be all 0`);
            }
          }
        }
      });
    }
  }

  /** Clears every known cache, removes every worker, and checks nothing is left. */
  drain(): void {
    for (const w of this.model.workers()) this.applyEvent({ type: 'cleared', workerId: w.workerId, dpRank: w.dpRank });
    this.check(4);
    for (const { name, index, baselineNodes } of this.subjects) {
      const stats = index.stats();
      if (stats.entries !== 0 || stats.nodes !== baselineNodes) {
        this.fail(`${name}: after clearing everything stats() = ${show(stats)}, expected entries 0 and nodes ${baselineNodes}`);
      }
    }
    for (const workerId of WORKER_IDS) {
      this.model.removeWorker(workerId);
      for (const { index } of this.subjects) index.removeWorker(workerId);
    }
    this.check(2);
  }
}


/**
 * Compares two indexes on everything observable (known caches, block counts, entries, and scores and
 * tiers of `queries` with and without early exit); throws a {@link Mismatch} naming the first difference.
 */
export function compareIndexes(
  oracle: IndexUnderTest,
  subject: IndexUnderTest,
  queries: ReadonlyArray<readonly bigint[]>,
  where: string,
): void {
  const fail = (what: string): never => {
    throw new Mismatch(`${where}: ${what}`);
  };
  const workers = workerList(oracle);
  if (show(workerList(subject)) !== show(workers)) fail(`workers() ${show(workerList(subject))}, expected ${show(workers)}`);
  for (const w of workers) {
    const got = subject.blockCount(w.workerId, w.dpRank);
    const want = oracle.blockCount(w.workerId, w.dpRank);
    if (got !== want) fail(`blockCount(${show(w)}) = ${got}, expected ${want}`);
  }
  for (const workerId of new Set(workers.map((w) => w.workerId))) {
    if (subject.blockCount(workerId) !== oracle.blockCount(workerId)) fail(`blockCount(${show(workerId)}) differs`);
  }
  if (subject.stats().entries !== oracle.stats().entries) {
    fail(`stats().entries = ${subject.stats().entries}, expected ${oracle.stats().entries}`);
  }
  for (const query of queries) {
    for (const earlyExit of [false, true]) {
      const want = oracle.findMatches(query, { earlyExit });
      const got = subject.findMatches(query, { earlyExit });
      const at = `findMatches(<${query.length} hashes>, {earlyExit: ${earlyExit}})`;
      if (show(scoreList(got)) !== show(scoreList(want))) fail(`${at} = ${show(scoreList(got))}, expected ${show(scoreList(want))}`);
      if (got.size !== want.size) fail(`${at} size ${got.size}, expected ${want.size}`);
      for (const w of workers) {
        const g = got.tiers(w.workerId, w.dpRank);
        const e = want.tiers(w.workerId, w.dpRank);
        if (g.device !== e.device || g.host !== e.host || g.disk !== e.disk) {
          fail(`${at} tiers(${show(w)}) = ${show(got.tiers(w.workerId, w.dpRank))}, expected ${show(want.tiers(w.workerId, w.dpRank))}`);
        }
      }
    }
  }
}

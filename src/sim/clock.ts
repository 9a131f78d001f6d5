/**
 * The simulated clock: a binary min-heap of timed callbacks. Ties run in insertion order, so a run
 * is a pure function of its inputs.
 * @internal
 */
export class EventQueue {
  private times: number[] = [];
  private seqs: number[] = [];
  private actions: Array<() => void> = [];
  private seq = 0;
  /** Current simulated time in milliseconds. */
  now = 0;

  get size(): number {
    return this.times.length;
  }

  /** Runs `action` at simulated time `time` (ms); a time in the past runs at `now`. */
  at(time: number, action: () => void): void {
    const t = time < this.now ? this.now : time;
    let i = this.times.length;
    this.times.push(t);
    this.seqs.push(this.seq++);
    this.actions.push(action);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Runs the earliest pending action; false when none is left. */
  step(): boolean {
    const n = this.times.length;
    if (n === 0) return false;
    const t = this.times[0]!;
    const action = this.actions[0]!;
    const last = n - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.actions.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const m = r < last && this.less(r, l) ? r : l;
      if (!this.less(m, i)) break;
      this.swap(i, m);
      i = m;
    }
    this.now = t;
    action();
    return true;
  }

  /** Time of the earliest pending action, or Infinity. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i]!;
    const tj = this.times[j]!;
    return ti < tj || (ti === tj && this.seqs[i]! < this.seqs[j]!);
  }

  private swap(i: number, j: number): void {
    const t = this.times[i]!;
    this.times[i] = this.times[j]!;
    this.times[j] = t;
    const s = this.seqs[i]!;
    this.seqs[i] = this.seqs[j]!;
    this.seqs[j] = s;
    const a = this.actions[i]!;
    this.actions[i] = this.actions[j]!;
    this.actions[j] = a;
  }
}

/** Progress on stderr: a redrawn bar on a TTY, otherwise a plain line every few seconds. @internal */
export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private lastDraw = 0;
  private lastLine = 0;
  private drawn = false;

  constructor(stream: NodeJS.WriteStream, enabled: boolean) {
    this.stream = stream;
    this.tty = stream.isTTY === true;
    this.enabled = enabled;
  }

  /** A phase without a fraction, e.g. "preparing workload". */
  note(text: string): void {
    if (!this.enabled) return;
    if (this.tty) this.redraw(text);
    else this.stream.write(`kvrouter: ${text}\n`);
  }

  /** `done` of `total` requests of policy `label` (number `index` of `count`). */
  update(label: string, index: number, count: number, done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    const finished = done >= total;
    if (this.tty) {
      if (!finished && now - this.lastDraw < 80) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.redraw(`[${index}/${count}] ${label.padEnd(12)} ${bar} ${String(Math.floor((done / total) * 100)).padStart(3)}%  ${done}/${total}`);
    } else if (finished || now - this.lastLine >= 2000) {
      this.lastLine = now;
      this.stream.write(`kvrouter: [${index}/${count}] ${label} ${done}/${total} requests${finished ? ' done' : ''}\n`);
    }
  }

  /** Clears the bar. */
  end(): void {
    if (this.enabled && this.tty && this.drawn) {
      this.stream.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  private redraw(text: string): void {
    this.stream.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }
}

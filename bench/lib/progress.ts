/** Progress lines on stderr (stdout carries only the table). */
const start = process.hrtime.bigint();
let quiet = false;

/** Silences progress output (tests). */
export function setQuiet(q: boolean): void {
  quiet = q;
}

function stamp(): string {
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return `[${s.toFixed(1).padStart(6)}s]`;
}

/** One progress line. */
export function progress(msg: string): void {
  if (!quiet) process.stderr.write(`${stamp()} ${msg}\n`);
}

/** A progress counter for a long loop: prints at most every ~2 s (and at the end). */
export function ticker(label: string, total: number): (done: number) => void {
  let last = process.hrtime.bigint();
  return (done: number) => {
    if (quiet) return;
    const now = process.hrtime.bigint();
    if (done >= total || now - last > 2_000_000_000n) {
      last = now;
      process.stderr.write(`${stamp()}   ${label}: ${done}/${total} (${Math.round((done / Math.max(1, total)) * 100)}%)\n`);
    }
  };
}

/**
 * A minimal MessagePack writer for the simulator's vLLM event batches: just the types a batch
 * uses (arrays, strings, nil, unsigned ints, u64 from two u32 halves, float64). Writing u64 from
 * halves keeps hashes out of BigInt on the simulator's hot path.
 * @internal
 */
export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written since the last reset. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  /** An ASCII string (the batch only has type names and medium names). */
  str(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    if (n < 32) this.buf[this.pos++] = 0xa0 | n;
    else {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = n;
    }
    for (let i = 0; i < n; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  /** A non-negative integer below 2^32. */
  uint(v: number): void {
    this.ensure(5);
    if (v < 128) this.buf[this.pos++] = v;
    else if (v < 256) {
      this.buf[this.pos++] = 0xcc;
      this.buf[this.pos++] = v;
    } else if (v < 0x10000) {
      this.buf[this.pos++] = 0xcd;
      this.view.setUint16(this.pos, v);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xce;
      this.view.setUint32(this.pos, v);
      this.pos += 4;
    }
  }

  /** A u64 given as (lo, hi) u32 halves, always in the 9-byte uint64 form. */
  u64(lo: number, hi: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcf;
    this.view.setUint32(this.pos, hi >>> 0);
    this.view.setUint32(this.pos + 4, lo >>> 0);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
}

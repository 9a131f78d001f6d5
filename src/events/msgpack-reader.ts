/**
 * @internal A minimal MessagePack cursor for the vLLM fast path: reads headers and scalars in
 * place (no intermediate objects), so token ids go straight into a typed array and hashes straight
 * into bigints. Every read is bounds-checked; a problem aborts with `MALFORMED` and the offset.
 */
import { DecodeAbort, type DecodeErrorCode } from './errors.js';

/** @internal A decode abort carrying the byte offset of the problem. */
export class ReaderAbort extends DecodeAbort {
  constructor(
    reason: DecodeErrorCode,
    message: string,
    readonly byteOffset: number,
  ) {
    super(reason, message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** @internal Kinds of MessagePack values the vLLM decoder distinguishes. */
export const Kind = { Nil: 0, Bool: 1, Int: 2, Float: 3, Str: 4, Bin: 5, Array: 6, Map: 7, Ext: 8 } as const;
/** @internal */
export type Kind = (typeof Kind)[keyof typeof Kind];

const MAX_DEPTH = 64;

/** @internal */
export class MsgpackReader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(reason: DecodeErrorCode, message: string, at = this.pos): never {
    throw new ReaderAbort(reason, `${message} at byte ${at}`, at);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail('MALFORMED', 'unexpected end of MessagePack data');
  }

  /** Kind of the next value without consuming it. */
  peek(): Kind {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b <= 0x7f || b >= 0xe0) return Kind.Int;
    if (b <= 0x8f) return Kind.Map;
    if (b <= 0x9f) return Kind.Array;
    if (b <= 0xbf) return Kind.Str;
    switch (b) {
      case 0xc0:
        return Kind.Nil;
      case 0xc2:
      case 0xc3:
        return Kind.Bool;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return Kind.Bin;
      case 0xca:
      case 0xcb:
        return Kind.Float;
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return Kind.Int;
      case 0xd9:
      case 0xda:
      case 0xdb:
        return Kind.Str;
      case 0xdc:
      case 0xdd:
        return Kind.Array;
      case 0xde:
      case 0xdf:
        return Kind.Map;
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return Kind.Ext;
      default:
        return this.fail('MALFORMED', `invalid MessagePack byte 0x${b.toString(16)}`);
    }
  }

  /** Consumes a nil if next; true when it did. */
  nil(): boolean {
    this.need(1);
    if (this.buf[this.pos] === 0xc0) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Array length, or -1 (nothing consumed) when the next value is not an array. */
  arrayHeader(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    let n: number;
    if (b >= 0x90 && b <= 0x9f) {
      this.pos++;
      n = b & 0x0f;
    } else if (b === 0xdc) {
      this.need(3);
      n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (b === 0xdd) {
      this.need(5);
      n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else return -1;
    // Each element takes at least one byte: a larger count is a lie (bounds allocation).
    if (n > this.buf.length - this.pos) this.fail('MALFORMED', `array of ${n} elements in ${this.buf.length - this.pos} bytes`);
    return n;
  }

  /** Map entry count, or -1 (nothing consumed) when the next value is not a map. */
  mapHeader(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    let n: number;
    if (b >= 0x80 && b <= 0x8f) {
      this.pos++;
      n = b & 0x0f;
    } else if (b === 0xde) {
      this.need(3);
      n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
    } else if (b === 0xdf) {
      this.need(5);
      n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
    } else return -1;
    if (n * 2 > this.buf.length - this.pos) this.fail('MALFORMED', `map of ${n} entries in ${this.buf.length - this.pos} bytes`);
    return n;
  }

  /** A string, or undefined (nothing consumed) when the next value is not one. */
  str(): string | undefined {
    this.need(1);
    const b = this.buf[this.pos]!;
    let n: number;
    let h: number;
    if (b >= 0xa0 && b <= 0xbf) {
      n = b & 0x1f;
      h = 1;
    } else if (b === 0xd9) {
      this.need(2);
      n = this.buf[this.pos + 1]!;
      h = 2;
    } else if (b === 0xda) {
      this.need(3);
      n = this.view.getUint16(this.pos + 1);
      h = 3;
    } else if (b === 0xdb) {
      this.need(5);
      n = this.view.getUint32(this.pos + 1);
      h = 5;
    } else return undefined;
    this.need(h + n);
    const start = this.pos + h;
    this.pos = start + n;
    // Short ASCII strings (tags, keys, media) without TextDecoder.
    if (n <= 24) {
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = this.buf[i]!;
        if (c >= 0x80) return utf8.decode(this.buf.subarray(start, start + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(this.buf.subarray(start, start + n));
  }

  /**
   * An integer: a number for encodings up to 32 bits, a bigint for 64-bit ones (as msgpackr with
   * `int64AsType: 'bigint'`); undefined (nothing consumed) when the next value is not an integer.
   */
  int(): number | bigint | undefined {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b <= 0x7f) {
      this.pos++;
      return b;
    }
    if (b >= 0xe0) {
      this.pos++;
      return b - 0x100;
    }
    const v = this.view;
    const p = this.pos;
    switch (b) {
      case 0xcc:
        this.need(2);
        this.pos += 2;
        return this.buf[p + 1]!;
      case 0xcd:
        this.need(3);
        this.pos += 3;
        return v.getUint16(p + 1);
      case 0xce:
        this.need(5);
        this.pos += 5;
        return v.getUint32(p + 1);
      case 0xcf:
        this.need(9);
        this.pos += 9;
        return v.getBigUint64(p + 1);
      case 0xd0:
        this.need(2);
        this.pos += 2;
        return v.getInt8(p + 1);
      case 0xd1:
        this.need(3);
        this.pos += 3;
        return v.getInt16(p + 1);
      case 0xd2:
        this.need(5);
        this.pos += 5;
        return v.getInt32(p + 1);
      case 0xd3:
        this.need(9);
        this.pos += 9;
        return v.getBigInt64(p + 1);
      default:
        return undefined;
    }
  }

  /** A float or integer as a number; undefined (nothing consumed) for anything else. */
  num(): number | undefined {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b === 0xcb) {
      this.need(9);
      const x = this.view.getFloat64(this.pos + 1);
      this.pos += 9;
      return x;
    }
    if (b === 0xca) {
      this.need(5);
      const x = this.view.getFloat32(this.pos + 1);
      this.pos += 5;
      return x;
    }
    const i = this.int();
    return i === undefined ? undefined : Number(i);
  }

  /** A bin payload as a view, or undefined (nothing consumed). */
  bin(): Uint8Array | undefined {
    this.need(1);
    const b = this.buf[this.pos]!;
    let n: number;
    let h: number;
    if (b === 0xc4) {
      this.need(2);
      n = this.buf[this.pos + 1]!;
      h = 2;
    } else if (b === 0xc5) {
      this.need(3);
      n = this.view.getUint16(this.pos + 1);
      h = 3;
    } else if (b === 0xc6) {
      this.need(5);
      n = this.view.getUint32(this.pos + 1);
      h = 5;
    } else return undefined;
    this.need(h + n);
    const start = this.pos + h;
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }

  /** Reads one value of any kind as plain JS (arrays, prototype-less objects, numbers or bigints…). */
  value(depth = 0): unknown {
    if (depth > MAX_DEPTH) this.fail('MALFORMED', 'nesting too deep');
    switch (this.peek()) {
      case Kind.Nil:
        this.pos++;
        return null;
      case Kind.Bool:
        return this.buf[this.pos++] === 0xc3;
      case Kind.Int:
        return this.int();
      case Kind.Float:
        return this.num();
      case Kind.Str:
        return this.str();
      case Kind.Bin:
        return this.bin();
      case Kind.Array: {
        const n = this.arrayHeader();
        const out: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case Kind.Map: {
        const n = this.mapHeader();
        const out = Object.create(null) as Record<string, unknown>;
        for (let i = 0; i < n; i++) {
          const key = this.value(depth + 1);
          // Non-string keys never name a field; give them a name no field has.
          out[typeof key === 'string' ? key : `\u0000${typeof key}`] = this.value(depth + 1);
        }
        return out;
      }
      default:
        // No engine writes extension values in KV events (msgpackr too rejects unknown ones).
        return this.fail('MALFORMED', `MessagePack extension 0x${this.buf[this.pos]!.toString(16)} in a KV event`);
    }
  }

  /** Skips one value of any kind (iteratively: hostile nesting cannot overflow the stack); extension values are rejected. */
  skip(rejectExt = true): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const start = this.pos;
      switch (this.peek()) {
        case Kind.Nil:
        case Kind.Bool:
          this.pos++;
          break;
        case Kind.Int:
          this.int();
          break;
        case Kind.Float:
          this.num();
          break;
        case Kind.Str: {
          this.str();
          break;
        }
        case Kind.Bin:
          this.bin();
          break;
        case Kind.Array:
          pending += this.arrayHeader();
          break;
        case Kind.Map:
          pending += 2 * this.mapHeader();
          break;
        case Kind.Ext: {
          if (rejectExt) this.fail('MALFORMED', `MessagePack extension 0x${this.buf[this.pos]!.toString(16)} in a KV event`);
          const b = this.buf[this.pos]!;
          const fixed = b === 0xd4 ? 1 : b === 0xd5 ? 2 : b === 0xd6 ? 4 : b === 0xd7 ? 8 : b === 0xd8 ? 16 : -1;
          if (fixed > 0) {
            this.need(2 + fixed);
            this.pos += 2 + fixed;
          } else {
            const h = b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4;
            this.need(1 + h + 1);
            const n = h === 1 ? this.buf[this.pos + 1]! : h === 2 ? this.view.getUint16(this.pos + 1) : this.view.getUint32(this.pos + 1);
            this.need(2 + h + n);
            this.pos += 2 + h + n;
          }
          break;
        }
      }
      if (this.pos === start) this.fail('INTERNAL', 'skip made no progress');
    }
  }
}

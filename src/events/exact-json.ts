/**
 * A JSON parser that keeps big integers exact: an integer literal outside ±(2^53 − 1) becomes a
 * `bigint`, every other number a `number`. `JSON.parse` rounds such integers to the nearest double,
 * which silently corrupts u64 hashes above 2^53.
 *
 * Objects are created without a prototype (no `__proto__` surprises). Nesting is limited, so
 * hostile input cannot overflow the stack. Errors carry the offset.
 */

import { isUtf8 } from 'node:buffer';

/** A parsed JSON value; integers beyond the safe range are bigints. */
export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [key: string]: ExactJson };

/** @internal A JSON syntax error at a character offset. */
export class JsonSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    // Describes data, not code: skip the stack capture.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.offset = offset;
  }
}

const MAX_DEPTH = 128;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** @internal Parses UTF-8 JSON bytes exactly; throws {@link JsonSyntaxError}. */
export function parseExactJson(bytes: Uint8Array): ExactJson {
  if (!isUtf8(bytes)) throw new JsonSyntaxError('invalid UTF-8', 0);
  return parseExactJsonText(utf8.decode(bytes));
}

/** @internal Parses JSON text exactly; throws {@link JsonSyntaxError}. */
export function parseExactJsonText(text: string): ExactJson {
  const p = new Parser(text);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail('unexpected data after the JSON value');
  return value;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(`${message} at offset ${this.i}`, this.i);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): ExactJson {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.s.charCodeAt(this.i);
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 34) return this.string();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.s.startsWith('true', this.i)) return (this.i += 4), true;
    if (this.s.startsWith('false', this.i)) return (this.i += 5), false;
    if (this.s.startsWith('null', this.i)) return (this.i += 4), null;
    return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
  }

  object(depth: number): { [key: string]: ExactJson } {
    const out: { [key: string]: ExactJson } = Object.create(null) as { [key: string]: ExactJson };
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) return this.i++, out;
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 34) this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 58) this.fail("expected ':'");
      this.i++;
      this.ws();
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
      } else if (c === 125) {
        this.i++;
        return out;
      } else this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): ExactJson[] {
    const out: ExactJson[] = [];
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 93) return this.i++, out;
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
      } else if (c === 93) {
        this.i++;
        return out;
      } else this.fail("expected ',' or ']'");
    }
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) return this.fail('invalid number');
    const literal = m[0];
    this.i += literal.length;
    if (m[1] === undefined && m[2] === undefined) {
      // Integers: up to 15 digits always fit a double exactly; longer ones are checked.
      if (literal.length <= 15) return Number(literal);
      const big = BigInt(literal);
      return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
    }
    return Number(literal);
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    const start = i;
    // Fast path: no escapes.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === 92) break;
      if (c < 32 || Number.isNaN(c)) {
        this.i = i;
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      i++;
    }
    let out = s.slice(start, i);
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        this.i = i + 1;
        return out;
      }
      if (Number.isNaN(c) || c < 32) {
        this.i = i;
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      if (c !== 92) {
        out += s[i];
        i++;
        continue;
      }
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = s.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.i = i;
            this.fail('invalid \\u escape');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.i = i - 2;
          this.fail('invalid escape');
      }
    }
  }
}

/**
 * Serializes a value as JSON, writing bigints as exact integer literals (for u64 hashes).
 * Accepts null, booleans, finite numbers, bigints, strings, arrays and plain objects; `undefined`
 * object fields are skipped.
 */
export function stringifyExactJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as JSON`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyExactJson(v))).join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyExactJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}

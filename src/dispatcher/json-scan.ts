/**
 * Finds the worker type in a JSON body without building the tree. `JSON.parse` of a 16 MiB body
 * of `[{},{},…]` makes millions of objects and holds the event loop for seconds, long enough to
 * miss heartbeats; this scanner reads the bytes once, allocates nothing per value, and still
 * validates the whole body as JSON (RFC 8259), so what `JSON.parse` refused is refused here too.
 *
 * The result is what `JSON.parse` would give for the two places the type may be, last key
 * winning as there: `fields.params.worker_type` (a Ruote workitem) and a top-level
 * `worker_type`.
 */

/** What the body holds, or why it is not JSON. */
export type JsonScan =
  | { kind: 'invalid'; reason: string }
  | { kind: 'not-object'; what: string }
  | {
      kind: 'object';
      /** `fields.params.worker_type`, as `JSON.parse` would give it; undefined when absent. */
      ruoteType: JsonValue | undefined;
      topType: JsonValue | undefined;
    };

/** A value found: a string decoded, anything else only by its kind. */
export type JsonValue = { string: string } | { kind: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

class ScanError extends Error {}

/** Scans `body` (valid UTF-8) as one JSON value. */
export function scanJson(body: Buffer): JsonScan {
  // A UTF-8 byte order mark: TextDecoder drops it, and so did the route before this scanner.
  const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  const scanner = new Scanner(body, start);
  try {
    return scanner.document();
  } catch (err) {
    if (err instanceof ScanError) return { kind: 'invalid', reason: err.message };
    throw err;
  }
}

/** The span of a member's value inside the body: [start, end). */
interface Span {
  start: number;
  end: number;
}

class Scanner {
  readonly #b: Buffer;
  #i: number;
  /** Open containers, innermost last: 1 object, 0 array. Grown on demand. */
  #stack = new Uint8Array(64);

  constructor(body: Buffer, start: number) {
    this.#b = body;
    this.#i = start;
  }

  document(): JsonScan {
    this.#ws();
    const first = this.#b[this.#i];
    if (first !== OPEN_OBJECT) {
      this.#value();
      this.#end();
      return { kind: 'not-object', what: kindAt(first) };
    }
    let fields: Span | undefined;
    let topType: Span | undefined;
    this.#members(this.#i, (key, span) => {
      if (key === 'fields') fields = span;
      else if (key === 'worker_type') topType = span;
    });
    this.#end();
    return {
      kind: 'object',
      ruoteType: this.#ruoteType(fields),
      topType: topType && this.#decode(topType),
    };
  }

  /** `fields.params.worker_type` inside an already validated `fields` value. */
  #ruoteType(fields: Span | undefined): JsonValue | undefined {
    if (!fields || this.#b[fields.start] !== OPEN_OBJECT) return undefined;
    let params: Span | undefined;
    this.#members(fields.start, (key, span) => {
      if (key === 'params') params = span;
    });
    if (!params || this.#b[params.start] !== OPEN_OBJECT) return undefined;
    let type: Span | undefined;
    this.#members(params.start, (key, span) => {
      if (key === 'worker_type') type = span;
    });
    return type && this.#decode(type);
  }

  /**
   * Walks the members of the object at `at`, validating each value and handing over the keys
   * that could matter with their value's span; leaves #i after the closing brace.
   */
  #members(at: number, onMember: (key: string, span: Span) => void): void {
    this.#i = at + 1;
    this.#ws();
    if (this.#b[this.#i] === CLOSE_OBJECT) {
      this.#i++;
      return;
    }
    for (;;) {
      const key = this.#key();
      this.#ws();
      this.#expect(COLON);
      this.#ws();
      const start = this.#i;
      this.#value();
      if (key !== undefined) onMember(key, { start, end: this.#i });
      this.#ws();
      const c = this.#b[this.#i];
      this.#i++;
      if (c === CLOSE_OBJECT) return;
      if (c !== COMMA) this.#fail(this.#i - 1);
      this.#ws();
    }
  }

  /** A member's key when it is one the route looks for; undefined for any other. */
  #key(): string | undefined {
    const start = this.#i;
    if (this.#b[start] !== QUOTE) this.#fail(start);
    const escaped = this.#string();
    const length = this.#i - start - 2;
    // Only 6, 11 and 6 bytes long keys can be fields, worker_type or params, unescaped.
    if (!escaped && length !== 6 && length !== 11) return undefined;
    return this.#decodeString(start, this.#i);
  }

  #decode(span: Span): JsonValue {
    if (this.#b[span.start] === QUOTE) return { string: this.#decodeString(span.start, span.end) };
    return { kind: kindAt(this.#b[span.start]) };
  }

  #decodeString(start: number, end: number): string {
    // A short token, already validated: JSON.parse decodes its escapes exactly as before.
    return JSON.parse(this.#b.toString('utf8', start, end)) as string;
  }

  /** One value of any kind, validated, without recursion (nesting depth is not bounded). */
  #value(): void {
    const b = this.#b;
    let depth = 0;
    for (;;) {
      // A value.
      const c = b[this.#i];
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.#i++;
        this.#ws();
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        if (b[this.#i] === close) {
          this.#i++;
        } else {
          this.#push(depth++, c === OPEN_OBJECT ? 1 : 0);
          if (c === OPEN_OBJECT) this.#memberHead();
          continue;
        }
      } else if (c === QUOTE) {
        this.#string();
      } else if (c === 0x74) {
        this.#literal('true');
      } else if (c === 0x66) {
        this.#literal('false');
      } else if (c === 0x6e) {
        this.#literal('null');
      } else {
        this.#number();
      }
      // After a value: close containers or go on to the next element.
      for (;;) {
        if (depth === 0) return;
        this.#ws();
        const inObject = this.#stack[depth - 1] === 1;
        const next = b[this.#i];
        if (next === COMMA) {
          this.#i++;
          this.#ws();
          if (inObject) this.#memberHead();
          break;
        }
        if (next === (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          this.#i++;
          depth--;
          continue;
        }
        this.#fail(this.#i);
      }
    }
  }

  /** `"key" :` and the whitespace before the value. */
  #memberHead(): void {
    if (this.#b[this.#i] !== QUOTE) this.#fail(this.#i);
    this.#string();
    this.#ws();
    this.#expect(COLON);
    this.#ws();
  }

  #push(depth: number, container: number): void {
    if (depth === this.#stack.length) {
      const grown = new Uint8Array(this.#stack.length * 2);
      grown.set(this.#stack);
      this.#stack = grown;
    }
    this.#stack[depth] = container;
  }

  /** Skips a string token at #i; true when it has escapes. */
  #string(): boolean {
    const b = this.#b;
    let i = this.#i + 1;
    let escaped = false;
    for (;;) {
      const c = b[i];
      if (c === QUOTE) break;
      if (c === undefined) this.#fail(i);
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) if (!isHex(b[i + k])) this.#fail(i + k);
          i += 6;
          continue;
        }
        if (e === undefined || !SIMPLE_ESCAPES.has(e)) this.#fail(i + 1);
        i += 2;
        continue;
      }
      if (c < 0x20) this.#fail(i);
      i++;
    }
    this.#i = i + 1;
    return escaped;
  }

  #number(): void {
    const b = this.#b;
    let i = this.#i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit19(b[i])) while (isDigit(b[i])) i++;
    else this.#fail(i);
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) this.#fail(i);
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) this.#fail(i);
      while (isDigit(b[i])) i++;
    }
    this.#i = i;
  }

  #literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.#b[this.#i + k] !== word.charCodeAt(k)) this.#fail(this.#i + k);
    }
    this.#i += word.length;
  }

  #ws(): void {
    const b = this.#b;
    let i = this.#i;
    for (;;) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.#i = i;
  }

  #expect(byte: number): void {
    if (this.#b[this.#i] !== byte) this.#fail(this.#i);
    this.#i++;
  }

  /** Only whitespace may follow the document. */
  #end(): void {
    this.#ws();
    if (this.#i < this.#b.length) this.#fail(this.#i);
  }

  #fail(at: number): never {
    if (at >= this.#b.length) throw new ScanError(`unexpected end of JSON at position ${at}`);
    const byte = this.#b[at]!;
    const shown =
      byte >= 0x20 && byte < 0x7f
        ? JSON.stringify(String.fromCharCode(byte))
        : `byte 0x${byte.toString(16)}`;
    throw new ScanError(`unexpected ${shown} at position ${at}`);
  }
}

const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isDigit19(c: number | undefined): boolean {
  return c !== undefined && c >= 0x31 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
  );
}

/** The kind of the (already validated) value starting with `first`, in JSON.parse's words. */
function kindAt(first: number | undefined): string {
  if (first === OPEN_OBJECT) return 'object';
  if (first === OPEN_ARRAY) return 'array';
  if (first === QUOTE) return 'string';
  if (first === 0x74 || first === 0x66) return 'boolean';
  if (first === 0x6e) return 'null';
  return 'number';
}

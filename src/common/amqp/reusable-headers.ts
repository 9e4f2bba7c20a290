/** A header table as amqplib takes it in `options.headers`. */
export type Headers = Record<string, unknown>;

interface Slot {
  keys: string[];
  table: Headers;
  busy: boolean;
}

/** Distinct key lists kept; past that, a message's own headers object goes to amqplib as it is. */
const MAX_KEY_LISTS = 64;

/**
 * Header objects for amqplib's publish, one per list of header names, reused message after
 * message.
 *
 * amqplib publishes `Object.create(options.headers)`, so each message's headers object becomes
 * a prototype. For a fresh object every message, V8 then builds a new prototype map and its
 * bookkeeping in the old generation, and reads the names back through the prototype chain with
 * no cache: several times slower a message than with a reused object, and an old generation that
 * grows until a mark-compact (figures in bench/FINDINGS.md). amqplib encodes the properties
 * before `publish` returns, so one object per key list can carry every message's values; they
 * are cleared after the call, so that the object holds nothing of a message once it is sent.
 *
 * Both are amqplib's internals, not its API: amqplib is pinned to one version in package.json,
 * and test/unit/common/reusable-headers.test.ts publishes through its real channel and encoder,
 * so that an upgrade that changes either fails there first.
 */
export class ReusableHeaders {
  #byKeys = new Map<string, Slot>();
  /** The slot of the last message: a publisher's messages mostly carry the same names. */
  #last: Slot | undefined;

  /**
   * Calls `send` with an object that reads like `headers` (same names, same order, same
   * values) and returns what it returns. `send` must be done with the object when it returns.
   */
  lend<T>(headers: Headers, send: (table: Headers) => T): T {
    const keys = Object.keys(headers);
    const last = this.#last;
    const slot = last && !last.busy && sameKeys(last.keys, keys) ? last : this.#slotFor(keys);
    if (!slot) return send(headers);
    this.#last = slot;
    const { table } = slot;
    for (const key of keys) table[key] = headers[key];
    slot.busy = true;
    try {
      return send(table);
    } finally {
      for (const key of keys) table[key] = undefined;
      slot.busy = false;
    }
  }

  /** The free slot for exactly these names in this order, made on first use. */
  #slotFor(keys: string[]): Slot | undefined {
    const id = keys.join('\0');
    let slot = this.#byKeys.get(id);
    if (slot === undefined) {
      if (this.#byKeys.size >= MAX_KEY_LISTS) return undefined;
      // No prototype: a header named `__proto__` is then a plain property, as in the original.
      const table: Headers = Object.create(null);
      for (const key of keys) table[key] = undefined;
      slot = { keys, table, busy: false };
      this.#byKeys.set(id, slot);
    }
    // A name holding `\0` could make two lists join alike: the slot must match name for name.
    return !slot.busy && sameKeys(slot.keys, keys) ? slot : undefined;
  }
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

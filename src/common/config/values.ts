import { posix } from 'node:path';
import { isWorkerType, WORKER_TYPE_PATTERN } from '../worker-type.js';

/** Returned by a parser for text it does not accept; the caller reports the key's `expected`. */
export const INVALID: unique symbol = Symbol('invalid');

/** A parsed value, or INVALID. */
export type Parsed<T> = T | typeof INVALID;

/** Turns the (interpolated, trimmed) text of a value into its typed form. */
export type ValueParser<T> = (text: string) => Parsed<T>;

/** The largest number of seconds a Node timer can wait (2^31-1 ms); longer ones fire at once. */
export const MAX_TIMER_SECONDS = 2_147_483;

/**
 * SPEC §1's characters of worker type names (also used for instance names, which become part of
 * a section name); a type must also keep clear of the reserved segments (`isWorkerType`).
 */
export const TYPE_NAME = WORKER_TYPE_PATTERN;

/** Unix user and group names as useradd/groupadd accept them by default (NAME_REGEX). */
const UNIX_NAME = /^[a-z_][a-z0-9_.-]*\$?$/;
const MAX_UNIX_NAME = 32;

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/** A whole number in [min, max]; signs, exponents and `_` separators are not accepted. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueParser<number> {
  return (text) => {
    if (!DIGITS.test(text)) return INVALID;
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : INVALID;
  };
}

const SIZE = /^([0-9]+)\s*(|K|KiB|M|MiB|G|GiB)$/;
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** A number of bytes in [min, max]: `4096`, or with a binary unit, `64K`, `16 MiB`, `1G`. */
export function byteSize(min: number, max: number): ValueParser<number> {
  return (text) => {
    const match = SIZE.exec(text);
    if (!match) return INVALID;
    const n = Number(match[1]) * SIZE_UNITS[match[2]!.charAt(0)]!;
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : INVALID;
  };
}

/** A size in whole MiB in [min, max] MiB, written as byteSize takes it (`8M`, `8 MiB`); in MiB. */
export function wholeMiB(min: number, max: number): ValueParser<number> {
  const bytes = byteSize(min * 1024 ** 2, max * 1024 ** 2);
  return (text) => {
    const n = bytes(text);
    return n !== INVALID && n % 1024 ** 2 === 0 ? n / 1024 ** 2 : INVALID;
  };
}

/** A non-negative decimal number of seconds in [min, max] (or (min, max] when `aboveMin`). */
export function seconds(min: number, max: number, aboveMin = false): ValueParser<number> {
  return (text) => {
    if (!DECIMAL.test(text)) return INVALID;
    const n = Number(text);
    if (aboveMin ? n <= min : n < min) return INVALID;
    return n <= max ? n : INVALID;
  };
}

/** A non-negative decimal number of days in [min, max], returned in seconds. */
export function days(min: number, max: number): ValueParser<number> {
  return (text) => {
    if (!DECIMAL.test(text)) return INVALID;
    const n = Number(text);
    return n >= min && n <= max ? n * 86_400 : INVALID;
  };
}

/** `none` (any case) or an empty value means "no limit": undefined; anything else goes to `parse`. */
export function optional<T>(parse: ValueParser<T>): ValueParser<T | undefined> {
  return (text) => (text === '' || text.toLowerCase() === 'none' ? undefined : parse(text));
}

/** Exactly one of `values` (case-sensitive, as the words are written in SPEC). */
export function oneOf<const T extends string>(values: readonly T[]): ValueParser<T> {
  return (text) => (values.includes(text as T) ? (text as T) : INVALID);
}

/** `yes` or `no` (also true/false, on/off, 1/0, any case, as ConfigParser's getboolean). */
export const yesNo: ValueParser<boolean> = (text) => {
  const word = text.toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(word)) return true;
  if (['no', 'false', 'off', '0'].includes(word)) return false;
  return INVALID;
};

/** Text matching `pattern`. */
export function matching(pattern: RegExp): ValueParser<string> {
  return (text) => (pattern.test(text) ? text : INVALID);
}

/** Any text at all, or any non-empty text. */
export function text(options: { nonEmpty: boolean; maxBytes?: number }): ValueParser<string> {
  return (value) => {
    if (options.nonEmpty && value === '') return INVALID;
    if (options.maxBytes !== undefined && Buffer.byteLength(value) > options.maxBytes) {
      return INVALID;
    }
    return value;
  };
}

/**
 * A comma-separated list (spaces and line breaks around items ignored). An empty item (`a,,b`,
 * a trailing comma) is a mistake rather than something to skip silently.
 */
export function list<T>(
  item: ValueParser<T>,
  options: { allowEmpty: boolean; unique: boolean },
): ValueParser<T[]> {
  return (value) => {
    if (value === '') return options.allowEmpty ? [] : INVALID;
    const items: T[] = [];
    for (const part of value.split(',').map((s) => s.trim())) {
      const parsed = part === '' ? INVALID : item(part);
      if (parsed === INVALID) return INVALID;
      if (options.unique && items.includes(parsed)) return INVALID;
      items.push(parsed);
    }
    return items;
  };
}

/** A Unix user or group name (what `useradd` accepts), at most 32 characters. */
export const unixName: ValueParser<string> = (value) =>
  value.length <= MAX_UNIX_NAME && UNIX_NAME.test(value) ? value : INVALID;

/** A worker type name: the grammar and no reserved segment (src/common/worker-type.ts). */
export const typeName: ValueParser<string> = (value) => (isWorkerType(value) ? value : INVALID);

/** An instance name: part of a section name, never of a queue name, so only the characters. */
export const instanceName: ValueParser<string> = matching(TYPE_NAME);

/** An absolute path (relative ones would depend on the daemon's working directory, `/`). */
export const absolutePath: ValueParser<string> = (value) =>
  posix.isAbsolute(value) && !value.includes('\0') ? value : INVALID;

/**
 * An `amqp://` or `amqps://` URL with a host and at most one path segment (the vhost, which
 * must be percent-encoded: `/%2Fvhost`, as the AMQP URI spec says).
 */
export const amqpUrl: ValueParser<string> = (value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return INVALID;
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') return INVALID;
  if (url.hostname === '' || url.hash !== '') return INVALID;
  return /^(?:\/[^/]*)?$/.test(url.pathname) ? value : INVALID;
};

/** An http:// or https:// URL with a host and no fragment (the management API's, say). */
export const httpUrl: ValueParser<string> = (value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return INVALID;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return INVALID;
  return url.hostname === '' || url.hash !== '' || url.search !== '' ? INVALID : value;
};

/**
 * A host name or IP address: a DNS name (underscores allowed, as container names have them),
 * IPv4, or IPv6 with or without brackets.
 */
export const hostName: ValueParser<string> = (value) => {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(value)) return value;
  const bare = value.replace(/^\[(.*)\]$/, '$1');
  return /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(bare) ? value : INVALID;
};

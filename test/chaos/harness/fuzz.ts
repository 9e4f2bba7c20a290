/**
 * Fuzzed input for the dispatcher (SPEC §1 *Input*, *Invalid input*): random bytes, broken JSON,
 * wrong types, huge and deep bodies, odd properties and headers of every AMQP field type, mixed
 * with good tasks. Every case carries its number in message_id (see tasks.ts) and says where it
 * must end:
 *
 *   result   answered on `results` (a good task: JSON workitem or `text/plain` "echo …")
 *   invalid  parked on `taskqueue.invalid` (SPEC's invalid input)
 *   either   the contract leaves room (a BOM, duplicate keys, extreme header values): answered
 *            or parked, but never lost and never stuck
 *
 * Bad bodies never get a `text/plain` content type (except the text-plain kinds, built so that
 * their first word is no valid type): `text/plain` with a body `1` would name the type `1`.
 */
import type { Options } from 'amqplib';
import { type Outgoing, taskId } from './tasks.js';
import type { Random } from './util.js';

export type Expect = 'result' | 'invalid' | 'either';

export interface FuzzCase extends Outgoing {
  kind: string;
  expect: Expect;
}

const TYPE = 'echo';

/** Content types that are not text/plain (some only nearly). */
const NOT_PLAIN: Array<string | undefined> = [
  undefined,
  '',
  'application/json',
  'APPLICATION/JSON; charset=utf-8',
  'application/octet-stream',
  'text/html',
  'text/plainx',
  'text /plain',
  'text/plain-ish; x=y',
  `x/${'x'.repeat(253)}`,
  'ü/ö',
  ';',
  ' ',
  'application/json\u0000',
];
const PLAIN = [
  'text/plain',
  'TEXT/PLAIN',
  ' text/plain ',
  'text/plain; charset=utf-8',
  'Text/Plain;format=flowed',
];

/** Headers of every AMQP 0-9-1 field type, with ordinary values. */
function allTypesHeaders(r: Random): Record<string, unknown> {
  return {
    'x-int8': { '!': 'int8', value: r.int(-128, 127) },
    'x-uint8': { '!': 'uint8', value: r.int(0, 255) },
    'x-int16': { '!': 'int16', value: r.int(-32768, 32767) },
    'x-uint16': { '!': 'uint16', value: r.int(0, 65535) },
    'x-int32': { '!': 'int32', value: r.int(-2e9, 2e9) },
    'x-uint32': { '!': 'uint32', value: r.int(0, 4e9) },
    'x-int64': { '!': 'int64', value: r.int(-(2 ** 52), 2 ** 52) },
    'x-float': { '!': 'float', value: 1.5 },
    'x-double': r.next() * 1e6,
    'x-decimal': { '!': 'decimal', value: { places: 2, digits: r.int(0, 1e6) } },
    'x-timestamp': { '!': 'timestamp', value: r.int(0, 2e9) },
    'x-string': 'héllo wörld ✓',
    'x-empty-string': '',
    'x-bool': r.chance(0.5),
    'x-void': null,
    'x-bytes': r.bytes(r.int(0, 64)),
    'x-array': [1, 'two', true, null, [3, [4]], { five: 5 }, { '!': 'float', value: 6.5 }],
    'x-table': { a: { b: { c: { d: 'deep' } } }, list: [], n: -1 },
  };
}

/** One extreme header value per name: each case carries exactly one, so a failure names it. */
const EXTREME_HEADERS: Record<string, unknown> = {
  'int8-min': { '!': 'int8', value: -128 },
  'uint8-max': { '!': 'uint8', value: 255 },
  'int16-min': { '!': 'int16', value: -32768 },
  'uint16-max': { '!': 'uint16', value: 65535 },
  'int32-min': { '!': 'int32', value: -2147483648 },
  'uint32-max': { '!': 'uint32', value: 4294967295 },
  'int64-min': { '!': 'int64', value: -(2n ** 63n) },
  'int64-max': { '!': 'int64', value: 2n ** 63n - 1n },
  // No NaN or ±Infinity: RabbitMQ 3.10 cannot parse them and closes the publisher's channel.
  'float-max': { '!': 'float', value: 3.4028234663852886e38 },
  'double-max': Number.MAX_VALUE,
  'double-min': 5e-324,
  'double-neg-zero': { '!': 'double', value: -0 },
  'decimal-max': { '!': 'decimal', value: { places: 255, digits: 4294967295 } },
  'timestamp-zero': { '!': 'timestamp', value: 0 },
  'timestamp-max': { '!': 'timestamp', value: 2n ** 64n - 1n },
  'string-nul-surrogate': 'a\u0000b\ud800c',
  'string-16k': 'x'.repeat(16 * 1024),
  'bytes-4k': Buffer.alloc(4096, 0xff),
  'table-depth-60': nest(60),
  'array-1000': Array.from({ length: 1000 }, (_, i) => i),
  [`key-${'k'.repeat(200)}`]: 'a key of 204 bytes',
};

function nest(depth: number): Record<string, unknown> {
  let table: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) table = { t: table };
  return table;
}

function workitemJson(n: number, extra = ''): string {
  return `{"fields":{"n":${n},"params":{"worker_type":"${TYPE}"}${extra}}}`;
}

/** Random bytes that are certainly not UTF-8 (a 0xFF byte somewhere). */
function notUtf8(r: Random, length: number): Buffer {
  const bytes = r.bytes(Math.max(1, length));
  bytes[r.int(0, bytes.length - 1)] = 0xff;
  return bytes;
}

/** A case's body and properties; `label` names it more precisely than its kind (in reports). */
type Maker = (
  n: number,
  r: Random,
) => { body: Buffer | string; options?: Options.Publish; label?: string };

interface Kind {
  name: string;
  expect: Expect;
  weight: number;
  make: Maker;
}

const notPlain = (r: Random): Options.Publish => {
  const contentType = r.pick(NOT_PLAIN);
  return contentType === undefined ? {} : { contentType };
};

const BAD_TYPE_NAMES = [
  '',
  ' echo',
  'echo ',
  '-echo',
  '.echo',
  '_echo',
  'echo!',
  'éc',
  'ec ho',
  'echo/x',
  'echo\n',
  '\u0000',
  'a'.repeat(202),
  '😀',
];

const BROKEN_JSON = [
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"echo"},}}`,
  (n: number) => `{'fields':{'n':${n},'params':{'worker_type':'echo'}}}`,
  (n: number) => `{fields:{n:${n},params:{worker_type:"echo"}}}`,
  (n: number) => `{"fields":{"n":NaN,"params":{"worker_type":"echo"}},"m":${n}}`,
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"echo"}}}}`,
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"echo"}}} // comment`,
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"echo"}}}\u0000`,
  (n: number) => `{"fields":{"n":0x${n.toString(16)},"params":{"worker_type":"echo"}}}`,
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"ec\\qho"}}}`,
  (n: number) => `{"fields":{"n":${n},"params":{"worker_type":"echo"}}} {}`,
];

const KINDS: Kind[] = [
  // --- bad: must land in taskqueue.invalid ----------------------------------------------------
  {
    name: 'random-bytes',
    expect: 'invalid',
    weight: 1500,
    make: (_, r) => ({ body: notUtf8(r, r.int(1, 2048)), options: notPlain(r) }),
  },
  {
    name: 'empty-body',
    expect: 'invalid',
    weight: 100,
    make: (_, r) => ({ body: '', options: notPlain(r) }),
  },
  {
    name: 'junk-text',
    expect: 'invalid',
    weight: 800,
    make: (_, r) => ({
      body: `#${Array.from({ length: r.int(0, 300) }, () => String.fromCharCode(r.int(32, 126))).join('')}`,
      options: notPlain(r),
    }),
  },
  {
    name: 'truncated-json',
    expect: 'invalid',
    weight: 1200,
    make: (n, r) => {
      const full = workitemJson(n, `,"pad":"${'p'.repeat(r.int(0, 100))}"`);
      return { body: full.slice(0, r.int(1, full.length - 1)), options: notPlain(r) };
    },
  },
  {
    name: 'broken-json',
    expect: 'invalid',
    weight: 1200,
    make: (n, r) => ({ body: r.pick(BROKEN_JSON)(n), options: notPlain(r) }),
  },
  {
    name: 'json-not-object',
    expect: 'invalid',
    weight: 800,
    make: (n, r) => ({
      body: r.pick([
        `${n}`,
        '"echo"',
        'null',
        'true',
        '[]',
        `[${workitemJson(n)}]`,
        '-0.5e3',
        '"{\\"worker_type\\":\\"echo\\"}"',
      ]),
      options: notPlain(r),
    }),
  },
  {
    name: 'no-type',
    expect: 'invalid',
    weight: 1000,
    make: (n, r) => ({
      body: r.pick([
        '{}',
        `{"fields":{"n":${n}}}`,
        `{"fields":{"n":${n},"params":{}}}`,
        `{"fields":{"params":null},"n":${n}}`,
        '{"fields":"echo"}',
        '{"params":{"worker_type":"echo"}}',
        '{"__proto__":{"worker_type":"echo"}}',
        '{"fields":{"__proto__":{"params":{"worker_type":"echo"}}}}',
        '{"Worker_Type":"echo","WORKER_TYPE":"echo"}',
        '{"fields":{"params":{"workerType":"echo","worker-type":"echo"}}}',
      ]),
      options: notPlain(r),
    }),
  },
  {
    name: 'type-not-string',
    expect: 'invalid',
    weight: 800,
    make: (n, r) => {
      const value = r.pick(['5', '["echo"]', '{"name":"echo"}', 'true', 'null', '1e999']);
      const body = r.chance(0.5)
        ? `{"worker_type":${value},"n":${n}}`
        : `{"fields":{"n":${n},"params":{"worker_type":${value}}}}`;
      return { body, options: notPlain(r) };
    },
  },
  {
    name: 'bad-type-name',
    expect: 'invalid',
    weight: 1000,
    make: (n, r) => {
      const type = JSON.stringify(r.pick(BAD_TYPE_NAMES));
      const body = r.chance(0.5)
        ? `{"worker_type":${type},"n":${n}}`
        : `{"fields":{"n":${n},"params":{"worker_type":${type}}}}`;
      return { body, options: notPlain(r) };
    },
  },
  {
    name: 'text-plain-bad',
    expect: 'invalid',
    weight: 600,
    make: (n, r) => ({
      body: r.pick(['', '   ', '\n\t', `!echo ${n}`, workitemJson(n), `-echo ${n}`, `é ${n}`]),
      options: { contentType: r.pick(PLAIN) },
    }),
  },
  {
    name: 'deep-bad',
    expect: 'invalid',
    weight: 300,
    make: (n, r) => {
      // Mostly moderate, a few near 1 MiB: 200 000 levels of {"a": … } are 1.2 MB.
      const depth = r.chance(0.03) ? 200_000 : r.pick([100, 1000, 5000, 20_000]);
      const arrays = r.chance(0.5);
      const body = arrays
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}${n}${'}'.repeat(depth)}`;
      return {
        body,
        options: notPlain(r),
        label: `deep-bad-${arrays ? 'array' : 'object'}-${depth}`,
      };
    },
  },
  {
    name: 'huge-bad',
    expect: 'invalid',
    weight: 40,
    make: (n, r) => {
      const size = r.int(256 * 1024, 1000 * 1024);
      const body = r.chance(0.5)
        ? notUtf8(r, size)
        : `{"fields":{"n":${n},"blob":"${'x'.repeat(size)}"}}`;
      return { body, options: notPlain(r) };
    },
  },
  // --- either: answered or parked, never lost -------------------------------------------------
  {
    name: 'bom-json',
    expect: 'either',
    weight: 100,
    make: (n, r) => ({ body: `\ufeff${workitemJson(n)}`, options: notPlain(r) }),
  },
  {
    name: 'conflicting-types',
    expect: 'either',
    weight: 200,
    make: (n, r) => ({
      body: r.pick([
        `{"fields":{"n":${n},"params":{"worker_type":5}},"worker_type":"echo"}`,
        `{"fields":{"n":${n},"params":{"worker_type":"bad type!"}},"worker_type":"echo"}`,
        `{"fields":{"n":${n},"params":{"worker_type":"echo"}},"worker_type":"bad!"}`,
        `{"fields":{"n":${n},"params":{"worker_type":null}},"worker_type":"echo"}`,
      ]),
      options: notPlain(r),
    }),
  },
  {
    name: 'duplicate-keys',
    expect: 'either',
    weight: 200,
    make: (n, r) => ({
      body: r.pick([
        `{"worker_type":"bad!","worker_type":"echo","n":${n}}`,
        `{"fields":{"n":${n},"params":{"worker_type":"echo","worker_type":"echo"}}}`,
        `{"fields":{"n":${n},"params":{"worker_type":"x y"}},"fields":{"n":${n},"params":{"worker_type":"echo"}}}`,
      ]),
      options: notPlain(r),
    }),
  },
  ...Object.entries(EXTREME_HEADERS).map(
    ([name, value]): Kind => ({
      name: `header:${name.slice(0, 24)}`,
      expect: 'either',
      weight: 8,
      make: (n, r) => ({
        body: r.chance(0.5) ? workitemJson(n) : notUtf8(r, 16),
        options: { ...notPlain(r), headers: { [`x-${name}`]: value } },
      }),
    }),
  ),
  {
    // amqplib encodes a message's headers in a 64 KiB buffer: near that, what the dispatcher
    // adds (x-taskqueue-error) or widens (a uint8 comes back as a JS number) may not fit.
    name: 'headers-near-64k',
    expect: 'either',
    weight: 10,
    make: (n, r) => ({
      body: r.chance(0.5) ? workitemJson(n) : `#bad ${n}`,
      options: {
        contentType: 'application/json',
        headers: {
          'x-big': 'b'.repeat(65_536 - r.int(200, 1200)),
          'x-small': { '!': 'uint8', value: 200 },
        },
      },
    }),
  },
  // --- good: must be answered on results -------------------------------------------------------
  {
    name: 'good',
    expect: 'result',
    weight: 1000,
    make: (n, r) => ({ body: workitemJson(n), options: notPlain(r) }),
  },
  {
    name: 'good-top-level-type',
    expect: 'result',
    weight: 300,
    make: (n, r) => ({
      body: r.chance(0.5)
        ? `{"worker_type":"echo","n":${n}}`
        : `{"worker_type":"echo","fields":{"n":${n}}}`,
      options: notPlain(r),
    }),
  },
  {
    name: 'good-text-plain',
    expect: 'result',
    weight: 300,
    make: (n, r) => ({
      body: r.pick([
        `echo ${n} some text`,
        `  echo\t${n}`,
        'echo',
        `echo ${'é'.repeat(r.int(0, 50))}`,
      ]),
      options: { contentType: r.pick(PLAIN) },
    }),
  },
  {
    name: 'good-all-header-types',
    expect: 'result',
    weight: 300,
    make: (n, r) => ({
      body: workitemJson(n),
      options: { ...notPlain(r), headers: allTypesHeaders(r) },
    }),
  },
  {
    name: 'good-odd-properties',
    expect: 'result',
    weight: 200,
    make: (n, r) => {
      const options: Options.Publish = { ...notPlain(r), priority: r.int(0, 255) };
      if (r.chance(0.5)) options.timestamp = r.int(0, Number.MAX_SAFE_INTEGER);
      if (r.chance(0.5)) options.type = r.pick(['', 'weird type ✓', 'x'.repeat(255)]);
      if (r.chance(0.5)) options.appId = r.pick(['', 'ü', 'chaos']);
      if (r.chance(0.3)) options.userId = 'guest';
      if (r.chance(0.3)) options.contentEncoding = r.pick(['gzip', 'identity', '', 'x-bogus']);
      if (r.chance(0.3)) options.replyTo = r.pick([`no-such-queue-${n}`, 'results']);
      if (r.chance(0.3)) options.deliveryMode = 1;
      if (r.chance(0.3)) {
        options.headers = {
          'x-taskqueue-attempt': r.pick([7, 'abc', -1, 1e12]),
          'x-taskqueue-crashes': r.pick([99, 'x', null]),
          'x-taskqueue-error': 'set by the client',
          'x-death': [{ count: 3, reason: 'expired', queue: 'elsewhere' }],
        };
      }
      return { body: workitemJson(n), options };
    },
  },
  {
    name: 'good-huge',
    expect: 'result',
    weight: 10,
    make: (n, r) => ({
      body: workitemJson(n, `,"blob":"${'x'.repeat(r.int(256 * 1024, 1000 * 1024))}"`),
      options: notPlain(r),
    }),
  },
  {
    name: 'good-deep',
    expect: 'result',
    weight: 20,
    make: (n, r) => {
      const depth = r.pick([50, 200, 1000, 3000, 10_000, 100_000]);
      return {
        body: workitemJson(n, `,"deep":${'['.repeat(depth)}${']'.repeat(depth)}`),
        options: notPlain(r),
        label: `good-deep-${depth}`,
      };
    },
  },
  {
    name: 'good-unicode',
    expect: 'result',
    weight: 70,
    make: (n, r) => ({
      body: workitemJson(n, ',"s":"😀 \\u0000 \\ud800 é \\u2028","big":1e400,"neg":-0'),
      options: notPlain(r),
    }),
  },
];

/** `badCount` fuzzed cases (invalid or either) and `goodCount` good ones, shuffled, numbered. */
export function fuzzCases(r: Random, badCount: number, goodCount: number): FuzzCase[] {
  const pickKinds = (kinds: Kind[], count: number): Kind[] => {
    const total = kinds.reduce((sum, k) => sum + k.weight, 0);
    const out: Kind[] = [];
    for (const kind of kinds) {
      const share = Math.round((kind.weight / total) * count);
      for (let i = 0; i < share && out.length < count; i++) out.push(kind);
    }
    while (out.length < count) out.push(kinds[0]!);
    return out;
  };
  const kinds = [
    ...pickKinds(
      KINDS.filter((k) => k.expect !== 'result'),
      badCount,
    ),
    ...pickKinds(
      KINDS.filter((k) => k.expect === 'result'),
      goodCount,
    ),
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((kind, n) => {
    const made = kind.make(n, r);
    const options: Options.Publish = { persistent: true, ...made.options, messageId: taskId(n) };
    return {
      n,
      kind: made.label ?? kind.name,
      expect: kind.expect,
      body: Buffer.isBuffer(made.body) ? made.body : Buffer.from(made.body, 'utf8'),
      options,
    };
  });
}

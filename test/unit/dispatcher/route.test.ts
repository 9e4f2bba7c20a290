import { describe, expect, it } from 'vitest';
import { PARSE_MAX_BYTES, routeTask } from '../../../src/dispatcher/route.js';

/**
 * The route as it was with JSON.parse: the reference the scanner must agree with on which type
 * it finds, and on whether a body is JSON, an object, or has a type at all.
 */
function parsedRoute(content: Buffer): { ok: true; type: string } | { ok: false; why: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, why: 'not an object' };
  }
  const fields = (parsed as { fields?: unknown }).fields;
  const params =
    typeof fields === 'object' && fields !== null
      ? (fields as { params?: unknown }).params
      : undefined;
  const ruote =
    typeof params === 'object' && params !== null
      ? (params as { worker_type?: unknown }).worker_type
      : undefined;
  const type = ruote ?? (parsed as { worker_type?: unknown }).worker_type;
  if (type === undefined) return { ok: false, why: 'no worker type' };
  if (typeof type !== 'string') return { ok: false, why: 'not a string' };
  return { ok: true, type };
}

/**
 * Checks `body` as it is and, padded with whitespace past PARSE_MAX_BYTES, on the scanner's path.
 */
function agree(body: string): void {
  agreeOn(body);
  agreeOn(`${' '.repeat(PARSE_MAX_BYTES + 1)}${body}`);
}

function agreeOn(body: string): void {
  const content = Buffer.from(body);
  const want = parsedRoute(content);
  const got = routeTask(content, 'application/json');
  if (want.ok) {
    // The grammar may still refuse the type; the scanner must have found the same one.
    if (got.ok) expect(got.type, body.trim().slice(0, 80)).toBe(want.type);
    else expect(got.reason, body.trim().slice(0, 80)).toMatch(/^worker type "/);
  } else {
    expect(got.ok, body.trim().slice(0, 80)).toBe(false);
    if (!got.ok) expect(got.reason, body.trim().slice(0, 80)).toContain(want.why);
  }
}

const CASES = [
  '{"fields":{"params":{"worker_type":"echo"}}}',
  '{"worker_type":"echo"}',
  ' \n\t{ "worker_type" : "echo" } \r\n',
  '{"worker_type":"a","worker_type":"b"}',
  '{"fields":{"params":{"worker_type":"a"}},"fields":{"x":1}}',
  '{"fields":{"params":{"worker_type":"a"}},"worker_type":"b"}',
  '{"fields":{"params":{"worker_type":null}},"worker_type":"b"}',
  '{"fields":{"params":{"worker_type":null}}}',
  '{"fields":{"params":{"worker_type":7}},"worker_type":"b"}',
  '{"fields":{"params":[1]},"worker_type":"b"}',
  '{"fields":[{"params":{"worker_type":"a"}}],"worker_type":"b"}',
  '{"fields":null,"worker_type":"b"}',
  '{"worker\\u005ftype":"e\\u0063ho"}',
  '{"fields":{"par\\u0061ms":{"worker_type":"x\\/y"}}}',
  '{"worker_type":{"a":[1,2,{"b":null}]}}',
  '{"worker_type":[]}',
  '{"worker_type":true}',
  '{"worker_type":-1.5e+3}',
  '{"nested":{"worker_type":"no"}}',
  '{}',
  '[]',
  '[1,2,3]',
  '"echo"',
  '12',
  'null',
  '',
  '   ',
  '{',
  '{"a":1,}',
  '{"a":01}',
  '{"a":1.}',
  '{"a":.5}',
  '{"a":-}',
  '{"a":tru}',
  '{"a":"\\x"}',
  '{"a":"\\u12G4"}',
  '{"a":"tab\there"}',
  '{"a":1} x',
  '{"a" 1}',
  '{a:1}',
  "{'a':1}",
  '[1,]',
  '[,1]',
  '{"worker_type":"echo"}{}',
  '{"a":[[[[[]]]]],"worker_type":"deep"}',
  '{"é":"ü","worker_type":"ünï"}',
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  `{"fields":{"params":{"worker_type":"echo"},"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
];

describe('routeTask scans JSON as JSON.parse reads it', () => {
  it.each(CASES.map((c) => [c.length > 60 ? `${c.slice(0, 60)}…` : c, c]))('%s', (_name, body) =>
    agree(body),
  );

  it('takes a UTF-8 byte order mark as the decoder did, and refuses what is not UTF-8', () => {
    for (const pad of ['', ' '.repeat(PARSE_MAX_BYTES)]) {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const body = Buffer.concat([bom, Buffer.from(`${pad}{"worker_type":"e"}`)]);
      expect(routeTask(body, undefined)).toEqual({ ok: true, type: 'e' });
      const bad = Buffer.concat([
        Buffer.from(`${pad}{"a":"`),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]);
      expect(routeTask(bad, undefined)).toEqual({ ok: false, reason: 'body is not valid UTF-8' });
    }
  });

  it('agrees on every prefix and on single-byte mutations of a workitem', () => {
    const base =
      '{"fei":{"wfid":"w-1"},"fields":{"params":{"worker_type":"echo","n":[1,2.5e-3,true,null]},"s":"a\\"b\\\\c\\u00e9"},"worker_type":"top"}';
    for (let end = 0; end <= base.length; end++) agree(base.slice(0, end));
    const alphabet = '{}[]":,\\ 0-1.eEtfnu"a';
    let seed = 1;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let n = 0; n < 3000; n++) {
      const at = Math.floor(random() * base.length);
      const c = alphabet[Math.floor(random() * alphabet.length)]!;
      agree(base.slice(0, at) + c + base.slice(at + (random() < 0.5 ? 1 : 0)));
    }
  });

  it('scans 16 MiB of [{},{},…] in a small fraction of a heartbeat, without parsing it', () => {
    const body = Buffer.from(`[${'{},'.repeat(5_592_404)}{}]`);
    const started = performance.now();
    const route = routeTask(body, 'application/json');
    const elapsed = performance.now() - started;
    expect(route).toEqual({ ok: false, reason: 'body is JSON but not an object (array)' });
    // JSON.parse took 7.5 s here (15 s with the unit's --max-semi-space-size=2); a heartbeat is
    // 30 s. The bound is loose for a loaded test machine: the point is seconds against a pass.
    expect(elapsed).toBeLessThan(2_000);
  });
});

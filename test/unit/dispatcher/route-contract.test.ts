import { describe, expect, it } from 'vitest';
import { PARSE_MAX_BYTES, type Route, routeTask } from '../../../src/dispatcher/route.js';

/**
 * routeTask against SPEC §1 *Input* and *Invalid input*, case by case, on both of its paths: a
 * body parsed (up to PARSE_MAX_BYTES) and the same body padded past it, scanned. The reasons are
 * what `x-taskqueue-error` says on `<input>.invalid`.
 */
const JSON_TYPE = 'application/json';

function routes(body: string, contentType: string | undefined = JSON_TYPE): Route[] {
  const padded = `${' '.repeat(PARSE_MAX_BYTES + 1)}${body}`;
  return [routeTask(Buffer.from(body), contentType), routeTask(Buffer.from(padded), contentType)];
}

function expectType(body: string, type: string, contentType?: string): void {
  for (const route of routes(body, contentType)) expect(route).toEqual({ ok: true, type });
}

function expectRefused(body: string, reason: RegExp, contentType?: string): void {
  for (const route of routes(body, contentType)) {
    expect(route.ok).toBe(false);
    if (!route.ok) expect(route.reason).toMatch(reason);
  }
}

describe('routeTask: what the dispatcher accepts', () => {
  it('a Ruote workitem: fields.params.worker_type', () => {
    expectType('{"fields":{"params":{"worker_type":"build"}},"fei":{}}', 'build');
  });

  it('a JSON object with a top-level worker_type', () => {
    expectType('{"worker_type":"echo","x":1}', 'echo');
  });

  it('the Ruote type wins over a top-level one; a null Ruote type falls back to it', () => {
    expectType('{"worker_type":"top","fields":{"params":{"worker_type":"ruote"}}}', 'ruote');
    expectType('{"worker_type":"top","fields":{"params":{"worker_type":null}}}', 'top');
  });

  it('a text/plain body: the first word, whatever the parameters or case of the content type', () => {
    for (const contentType of ['text/plain', 'TEXT/Plain; charset=utf-8', ' text/plain ;x=y']) {
      expect(routeTask(Buffer.from('  shell ls -l'), contentType)).toEqual({
        ok: true,
        type: 'shell',
      });
    }
  });

  it('no content type is JSON', () => {
    expect(routeTask(Buffer.from('{"worker_type":"echo"}'), undefined)).toEqual({
      ok: true,
      type: 'echo',
    });
    expect(routeTask(Buffer.from('echo hello'), undefined).ok).toBe(false);
  });

  it('types at the edges of the grammar', () => {
    expectType(`{"worker_type":"${'a'.repeat(201)}"}`, 'a'.repeat(201));
    expectType('{"worker_type":"a.b-c_d"}', 'a.b-c_d');
    expectType('{"worker_type":"retry"}', 'retry'); // a first segment is free
  });
});

describe('routeTask: invalid input, with the reason parked beside it', () => {
  it('not JSON, not an object', () => {
    expectRefused('{"worker_type":', /^body is not JSON: /);
    expectRefused('["echo"]', /^body is JSON but not an object \(array\)$/);
    expectRefused('"echo"', /^body is JSON but not an object \(string\)$/);
  });

  it('no type, or a type that is not a string', () => {
    expectRefused('{"fields":{"params":{}}}', /^no worker type: /);
    expectRefused('{"worker_type":7}', /^worker type is a number, not a string$/);
    expectRefused('{"fields":{"params":{"worker_type":["a"]}}}', /^worker type is a array/);
  });

  it('a type outside the grammar, or with a reserved segment after a dot', () => {
    expectRefused(`{"worker_type":"${'a'.repeat(202)}"}`, /^worker type .* does not match /);
    expectRefused('{"worker_type":"-lead"}', /does not match/);
    expectRefused('{"worker_type":"has space"}', /does not match/);
    expectRefused('{"worker_type":"flaky.DEAD"}', /has the reserved segment "DEAD"/);
    expectRefused('{"worker_type":"a.retry.2000ms"}', /has the reserved segment "retry"/);
  });

  it('a body that is not UTF-8, JSON or text/plain', () => {
    const bad = Buffer.from([0x7b, 0xff, 0x7d]);
    expect(routeTask(bad, JSON_TYPE)).toEqual({ ok: false, reason: 'body is not valid UTF-8' });
    expect(routeTask(bad, 'text/plain')).toEqual({ ok: false, reason: 'body is not valid UTF-8' });
    const large = Buffer.concat([Buffer.alloc(PARSE_MAX_BYTES + 1, 0x20), bad]);
    expect(routeTask(large, JSON_TYPE)).toEqual({ ok: false, reason: 'body is not valid UTF-8' });
  });

  it('an empty text/plain body has no type', () => {
    expect(routeTask(Buffer.from('   '), 'text/plain').ok).toBe(false);
  });
});

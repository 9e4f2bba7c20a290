import type { MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { parseWorkitem, taskIdOf } from '../../../src/workerpool/child/workitem.js';

const props = (extra: Partial<MessageProperties> = {}) =>
  ({ headers: {}, ...extra }) as MessageProperties;
const json = props({ contentType: 'application/json' });

describe('parseWorkitem: the workitem a plugin gets from a task message', () => {
  it('passes a JSON object as it is', () => {
    const item = { fields: { params: { worker_type: 'echo' }, n: [1, 2] }, fei: { wfid: 'x' } };
    expect(parseWorkitem(Buffer.from(JSON.stringify(item)), json)).toEqual(item);
  });

  it('reads JSON whatever the content type says, unless it says text/plain', () => {
    const body = Buffer.from('{"worker_type":"echo"}');
    expect(parseWorkitem(body, props())).toEqual({ worker_type: 'echo' });
    expect(parseWorkitem(body, props({ contentType: 'application/octet-stream' }))).toEqual({
      worker_type: 'echo',
    });
  });

  it('drops a UTF-8 byte order mark, as the dispatcher does', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"fields":{}}')]);
    expect(parseWorkitem(body, json)).toEqual({ fields: {} });
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('refuses JSON that is %s', (_what, text) => {
    expect(() => parseWorkitem(Buffer.from(text), json)).toThrow('task body is not a JSON object');
  });

  it('refuses a body that is not JSON', () => {
    expect(() => parseWorkitem(Buffer.from('{not json'), json)).toThrow(SyntaxError);
  });

  it('makes a Ruote-shaped workitem of a text/plain body "<type> <rest>"', () => {
    const plain = props({ contentType: 'text/plain; charset=utf-8' });
    expect(parseWorkitem(Buffer.from('  shell ls -l /tmp'), plain)).toEqual({
      fields: { params: { worker_type: 'shell' }, text: 'ls -l /tmp' },
    });
    expect(parseWorkitem(Buffer.from('echo'), props({ contentType: 'TEXT/PLAIN' }))).toEqual({
      fields: { params: { worker_type: 'echo' }, text: '' },
    });
  });
});

describe('taskIdOf: the id logs and the plugin see', () => {
  it('prefers correlation_id, then message_id, and makes one up only when both are missing', () => {
    let made = 0;
    const make = () => `made-${++made}`;
    expect(taskIdOf(props({ correlationId: 'c', messageId: 'm' }), make)).toBe('c');
    expect(taskIdOf(props({ messageId: 'm' }), make)).toBe('m');
    expect(made).toBe(0);
    expect(taskIdOf(props(), make)).toBe('made-1');
  });
});

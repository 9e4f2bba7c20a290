import { describe, expect, it } from 'vitest';
import { type ServerSentEvent, sseParser } from '../../../src/dashboard/events/sse-parser';

function parse(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const feed = sseParser((event) => events.push(event));
  for (const chunk of chunks) feed(chunk);
  return events;
}

describe('sseParser (GET /v1/events read with fetch)', () => {
  it('reads the API’s events, skipping its comment lines', () => {
    const data = '{"taskId":"a","state":"queued"}';
    expect(
      parse([`: taskqueue-api state changes\n\nevent: state\ndata: ${data}\n\n: keepalive\n\n`]),
    ).toEqual([{ event: 'state', data }]);
  });

  it('joins an event cut anywhere across chunks, also inside a line and a CRLF', () => {
    const text =
      'event: state\r\ndata: {"taskId":"b"}\r\n\r\nevent: state\ndata: {"taskId":"c"}\n\n';
    const whole = parse([text]);
    for (let cut = 1; cut < text.length; cut++)
      expect(parse([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toEqual(whole);
    expect(whole.map((e) => e.data)).toEqual(['{"taskId":"b"}', '{"taskId":"c"}']);
    // One character a chunk.
    expect(parse([...text])).toEqual(whole);
  });

  it('gives an event only once its blank line came; data lines join with a newline', () => {
    const events: ServerSentEvent[] = [];
    const feed = sseParser((event) => events.push(event));
    feed('data: one\ndata:two\n');
    expect(events).toEqual([]);
    feed('\n');
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});

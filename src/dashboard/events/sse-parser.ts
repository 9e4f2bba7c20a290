/**
 * Splits a text/event-stream into events as chunks arrive (the WHATWG rules the dashboard
 * needs: `event:` and `data:` lines, blank line ends an event, `:` lines are comments).
 */
export interface ServerSentEvent {
  event: string;
  data: string;
}

export function sseParser(onEvent: (event: ServerSentEvent) => void): (chunk: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  // A CRLF cut between two chunks: the CR ended the line, the LF that follows is not another.
  let afterCR = false;
  return (piece) => {
    const chunk = afterCR && piece.startsWith('\n') ? piece.slice(1) : piece;
    afterCR = chunk.endsWith('\r');
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    // The last piece is a line not ended yet (or '' after a newline): keep it for the next chunk.
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
  };
}

import type { ChannelModel } from 'amqplib';

interface Muxer {
  _readIncoming(): void;
}
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Sends the frames amqplib writes in one pass of its muxer (a publish, an event, an ack made in
 * the same turn of the event loop) in one socket write instead of one each: the socket is
 * corked around the pass, and uncorking hands them to the kernel together (writev). On loopback
 * every write runs the broker side's TCP receive too, so this is CPU of both; bench/FINDINGS.md
 * "Tracking's cost, measured" has the figures. Frames, order and flow control are unchanged: the
 * muxer still writes chunk by chunk and stops when the socket says it is full.
 *
 * Reaches into amqplib 2.x (`connection.muxer`, `connection.stream`); another amqplib without
 * them is left as it is.
 */
export function gatherWrites(model: ChannelModel): void {
  const connection = (model as unknown as { connection?: { muxer?: Muxer; stream?: Corkable } })
    .connection;
  const muxer = connection?.muxer;
  const out = connection?.stream;
  if (typeof muxer?._readIncoming !== 'function' || typeof out?.cork !== 'function') return;
  const readIncoming = muxer._readIncoming.bind(muxer);
  muxer._readIncoming = () => {
    out.cork();
    try {
      readIncoming();
    } finally {
      out.uncork();
    }
  };
}

import { describe, expect, it } from 'vitest';
import { replyTarget } from '../../../src/workerpool/child/reply-to.js';

const DIRECT =
  'amq.rabbitmq.reply-to.g1h2AA5yZWFjdEBlcmxhbmcAAAAAAAAABQAAAABlN3E6.rHkRD3aOaNK9tJmoKYSN5w==';

describe('replyTarget: where a reply_to may send a result', () => {
  it('lets a caller queue and a well-formed direct reply-to address through', () => {
    expect(replyTarget('my-answers', 'taskqueue')).toEqual({ kind: 'queue', queue: 'my-answers' });
    expect(replyTarget('results', 'taskqueue')).toEqual({ kind: 'queue', queue: 'results' });
    expect(replyTarget('taskqueuex', 'taskqueue').kind).toBe('queue');
    expect(replyTarget('my.deadline', 'taskqueue').kind).toBe('queue');
    expect(replyTarget(DIRECT, 'taskqueue')).toEqual({ kind: 'direct', queue: DIRECT });
    // An RPC caller's exclusive, server-named queue.
    const named = 'amq.gen-JzTY20BRgKO-HjmUJj0wLg';
    expect(replyTarget(named, 'taskqueue')).toEqual({ kind: 'queue', queue: named });
  });

  it('means none when empty or missing', () => {
    expect(replyTarget(undefined, 'taskqueue')).toEqual({ kind: 'none' });
    expect(replyTarget('', 'taskqueue')).toEqual({ kind: 'none' });
  });

  it.each([
    ['taskqueue', 'the input queue'],
    ['taskqueue.invalid', 'the input queue'],
    ['taskqueue.unroutable', 'the input queue'],
    ['jobs', 'the input queue'], // the configured [dispatcher] queue
    ['jobs.invalid', 'the input queue'],
    ['worker_echo', 'worker queue'],
    ['worker_other.dead', 'worker queue'],
    ['worker_echo.retry.1000ms', 'worker queue'],
    ['someone.dead', 'parked'],
    ['someone.invalid', 'parked'],
    ['amq.direct', 'reserved by the broker'],
    ['amq.rabbitmq.reply-to', 'direct reply-to'],
    ['amq.rabbitmq.reply-to.', 'direct reply-to'],
    ['amq.rabbitmq.reply-to.bad address', 'direct reply-to'],
    ['amq.rabbitmq.reply-to..x', 'direct reply-to'],
  ])('refuses %s (%s)', (replyTo, why) => {
    const target = replyTarget(replyTo, 'jobs');
    expect(target.kind).toBe('refused');
    expect(target.kind === 'refused' && target.reason).toContain(why);
  });
});

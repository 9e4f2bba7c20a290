import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CHANNEL_FD, Channel } from './channel.js';
import { childCommand } from './child-command.js';
import { KILL_GRACE_MS, PRIVATE_ENV } from './child-handle.js';
import {
  isOneShotReply,
  ONE_SHOT_MAX_LINE_BYTES,
  type OneShotReply,
  type OneShotRequest,
} from './one-shot-ipc.js';

/** The one-shot child's entry point, next to this file in dist/. */
export const ONE_SHOT_ENTRY = new URL('./child/one-shot.js', import.meta.url);

/** The limit on a child that has said its last word and only has to leave. */
export const LEAVING_MS = KILL_GRACE_MS;

/** How a one-shot child ended, and what it said on the way. */
export interface OneShotEnd {
  replies: OneShotReply[];
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the command killed it (its watchdog fired, or the child broke the protocol). */
  killed: string | undefined;
  /** The child could not be started at all (setpriv or node missing). */
  spawnError: Error | undefined;
}

/**
 * How long the child may stay silent after `last` (undefined: before its first reply) before
 * it is killed, in ms, and the reason given then; undefined for no limit.
 */
export type Watchdog = (
  last: OneShotReply | undefined,
) => { ms: number; reason: string } | undefined;

/**
 * Starts a one-shot child exactly as the pool starts its children (child-command.ts: setpriv to
 * the group's user, the same node flags, no broker credentials in its environment), sends it
 * `request` and resolves once it has exited. Its stdout goes to this process's stderr: what the
 * plugin prints never mixes with a command's output. A child silent past what `watchdog`
 * allows is killed (SIGKILL: it may be spinning, deaf to anything else).
 */
export function runOneShot(request: OneShotRequest, watchdog: Watchdog): Promise<OneShotEnd> {
  const command = childCommand(request.plugin.identity, fileURLToPath(ONE_SHOT_ENTRY));
  const env = { ...process.env, ...command.env };
  for (const name of PRIVATE_ENV) delete env[name];
  const stdio: Array<'ignore' | 'inherit' | 'pipe' | number> = ['ignore', 2, 'inherit'];
  stdio[CHANNEL_FD] = 'pipe';
  const child = spawn(command.file, command.args, { env, stdio });
  const end: OneShotEnd = {
    replies: [],
    code: null,
    signal: null,
    killed: undefined,
    spawnError: undefined,
  };
  const channel = new Channel<OneShotReply, OneShotRequest>(
    child.stdio[CHANNEL_FD] as Socket,
    isOneShotReply,
    ONE_SHOT_MAX_LINE_BYTES,
  );
  let timer: NodeJS.Timeout | undefined;
  const kill = (reason: string) => {
    end.killed ??= reason;
    child.kill('SIGKILL');
  };
  const arm = (last: OneShotReply | undefined) => {
    clearTimeout(timer);
    const limit = watchdog(last);
    if (limit) timer = setTimeout(() => kill(limit.reason), limit.ms);
  };
  channel.on('message', (reply: OneShotReply) => {
    end.replies.push(reply);
    arm(reply);
  });
  channel.on('broken', (reason: string) => kill(`it sent ${reason}`));
  arm(undefined);
  channel.send(request);
  return new Promise((resolve) => {
    let resolved = false;
    const done = () => {
      if (resolved) return;
      resolved = true;
      clearTimeout(timer);
      channel.close();
      resolve(end);
    };
    child.once('error', (err) => {
      if (child.pid !== undefined) return;
      end.spawnError = err;
      done();
    });
    child.once('exit', (code, signal) => {
      end.code = code;
      end.signal = signal;
      // A process the plugin started may hold the channel open after the child is gone.
      setTimeout(done, LEAVING_MS).unref();
    });
    // After 'exit' and the channel's last bytes: every reply is in before the end is told.
    child.once('close', done);
  });
}

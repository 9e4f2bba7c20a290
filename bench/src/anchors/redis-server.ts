/**
 * A private redis-server for the BullMQ anchors, started fresh for each run (as RabbitMQ's queues
 * are reset for each run): AOF on with the run's `appendfsync`, no RDB snapshots, its data in the
 * run's work directory (the same disk as the RabbitMQ node's), a port free in the anchors' range.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Launched } from '../processes.js';
import { environment, launch, type SystemContext } from '../systems.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
/** RULES: fixed ports outside the ephemeral range; 20200–20299 are the anchors'. */
const PORTS = { first: 20_200, last: 20_299 };
const READY_TIMEOUT_MS = 20_000;

export type Fsync = 'everysec' | 'always';

export function redisMissing(): string | undefined {
  return existsSync(REDIS_SERVER)
    ? undefined
    : `bullmq: ${REDIS_SERVER} is missing; install it with apt-get install -y --no-install-recommends redis-server`;
}

/** The redis-server arguments of a run: AOF with this fsync, nothing else written. */
export function redisArgs(port: number, dir: string, fsync: Fsync): string[] {
  return [
    '--port',
    `${port}`,
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    fsync,
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    '',
    // BullMQ's requirement: a full Redis refuses writes rather than evicting jobs.
    '--maxmemory-policy',
    'noeviction',
  ];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const span = PORTS.last - PORTS.first + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORTS.first + ((start + i) % span);
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in ${PORTS.first}–${PORTS.last} for redis-server`);
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(answer.startsWith('+PONG')));
    socket.on('data', (data) => {
      answer += data.toString();
      socket.end();
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

export interface RedisServer {
  port: number;
  process: Launched;
}

export async function startRedis(ctx: SystemContext, fsync: Fsync): Promise<RedisServer> {
  const dir = join(ctx.workDir, `${ctx.runId}.redis`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const redis = launch(ctx, 'redis', redisArgs(port, dir, fsync), environment(), REDIS_SERVER);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await pong(port))) {
    if (!redis.running || Date.now() > deadline) {
      await redis.stop();
      throw new Error(`redis-server did not answer on port ${port}; see ${redis.logFile}`);
    }
    await sleep(50);
  }
  return { port, process: redis };
}

#!/usr/bin/env node
/**
 * `npm start`: the whole stack on this machine — a private RabbitMQ node (unless
 * TASKQUEUE_AMQP_URL names a broker), the dispatcher, the pool with the example plugins — and a
 * few example tasks a second, printed as they flow. Ctrl-C stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp, { type ConsumeMessage } from 'amqplib';
import { RabbitNode } from './rabbitmq-node.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WORK_DIR = join(ROOT, '.tq-dev');
const TASKS_PER_SECOND = 2;
const STOP_TIMEOUT_MS = 15_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

function devConfig(url: string): string {
  return `; written by npm start
[amqp]
url = ${url}

[workerpool]
plugin_paths = ${join(ROOT, 'node_modules')}
shutdown_timeout = 5

[echo]
workers = 2

[shell]
workers = 1
command = ${process.execPath} ${join(ROOT, 'plugins/shell/examples/shout.mjs')}
`;
}

function startProgram(name: string, configFile: string, logDir: string): ChildProcess {
  const log = openSync(join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [join(ROOT, `dist/${name}/main.js`), '-c', configFile], {
    stdio: ['ignore', log, log],
    env: { ...process.env, TASKQUEUE_LOG_PRETTY: '0', TASKQUEUE_AMQP_URL: '' },
  });
  child.on('exit', (code, signal) => {
    if (!stopping)
      say(`!! ${name} exited (code ${code}, signal ${signal}); see ${join(logDir, `${name}.log`)}`);
  });
  return child;
}

function stopProgram(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

let stopping = false;

async function main(): Promise<void> {
  mkdirSync(join(WORK_DIR, 'logs'), { recursive: true });
  const logDir = join(WORK_DIR, 'logs');
  let node: RabbitNode | undefined;
  let url = process.env.TASKQUEUE_AMQP_URL;
  if (url) {
    say(`broker: ${url.replace(/\/\/[^@]*@/, '//***@')} (from TASKQUEUE_AMQP_URL)`);
  } else {
    say('broker: starting a private RabbitMQ node…');
    node = await RabbitNode.start();
    url = node.url;
    say(`broker: ${node.nodeName} on ${url}`);
  }
  const configFile = join(WORK_DIR, 'config.ini');
  writeFileSync(configFile, devConfig(url));
  const dispatcher = startProgram('dispatcher', configFile, logDir);
  const pool = startProgram('workerpool', configFile, logDir);
  say(`dispatcher pid ${dispatcher.pid}, workerpool pid ${pool.pid}; logs in ${logDir}`);

  const connection = await amqp.connect(url, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('taskqueue', { durable: true });
  await channel.assertQueue('results', { durable: true });
  const sentAt = new Map<string, number>();
  await channel.consume('results', (message: ConsumeMessage | null) => {
    if (!message) return;
    const id = String(message.properties.correlationId);
    const headers = message.properties.headers ?? {};
    const started = sentAt.get(id);
    sentAt.delete(id);
    const body = message.content.toString('utf8');
    say(
      `task ${id} → ${headers['x-worker-type']} child pid ${headers['x-worker-pid']} → ` +
        `${body.length > 120 ? `${body.slice(0, 117)}…` : body}` +
        (started ? `  (${Date.now() - started} ms)` : ''),
    );
    channel.ack(message);
  });

  let n = 0;
  const timer = setInterval(() => {
    n++;
    const type = n % 3 === 0 ? 'shell' : 'echo';
    const id = `demo-${n}`;
    const workitem = { fields: { params: { worker_type: type }, n, text: `hello number ${n}` } };
    sentAt.set(id, Date.now());
    channel.publish('', 'taskqueue', Buffer.from(JSON.stringify(workitem)), {
      persistent: true,
      contentType: 'application/json',
      messageId: id,
      correlationId: id,
    });
  }, 1000 / TASKS_PER_SECOND);

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    say('stopping…');
    await connection.close().catch(() => {});
    await Promise.all([stopProgram(dispatcher), stopProgram(pool)]);
    if (node) await node.destroy();
    say('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  say('tasks flowing; Ctrl-C to stop.');
}

main().catch((err) => {
  process.stderr.write(`npm start failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

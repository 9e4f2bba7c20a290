import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import {
  type Program,
  startDispatcher,
  startPool,
  WORKSPACE_PLUGINS,
  writeConfig,
} from '../support/programs.js';

const openssl = (dir: string, ...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it. */
function makeCertificates(dir: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=tq-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, ext] of [
    ['server', ['-extfile', 'server.ext']],
    ['client', []],
  ] as const) {
    openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=tq-test-${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      ...ext,
    );
  }
}

/** Uses a private node of its own: it needs a TLS listener that requires client certificates. */
describe('amqps with a CA and a client certificate', () => {
  let certs: string;
  let node: RabbitNode;
  let tlsPort: number;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'tq-tls-'));
    makeCertificates(certs);
    tlsPort = (await freePorts(1))[0]!;
    node = await RabbitNode.start({
      extraConfig: [
        `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${join(certs, 'ca.pem')}`,
        `ssl_options.certfile = ${join(certs, 'server.pem')}`,
        `ssl_options.keyfile = ${join(certs, 'server.key')}`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = true',
      ],
    });
  });

  afterAll(async () => {
    await node?.destroy();
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  const config = (withClientCert: boolean) =>
    writeConfig(`[amqp]
url = amqps://guest:guest@127.0.0.1:${tlsPort}/
tls_ca = ${join(certs, 'ca.pem')}
${withClientCert ? `tls_cert = ${join(certs, 'client.pem')}\ntls_key = ${join(certs, 'client.key')}` : ''}
connect_retries = 2

[workerpool]
plugin_paths = ${WORKSPACE_PLUGINS}
enabled = echo
shutdown_timeout = 5

[echo]
workers = 1
`);

  // The certificates' directory is private to root (mkdtemp, 0700): the pool's child, running as
  // nobody, gets the PEM contents from the pool and never reads the files (the client key!).
  it('the dispatcher and the pool carry a task end to end over TLS', async () => {
    const file = config(true);
    const programs: Program[] = [];
    // Tasks go in over the plain listener: the broker is the same.
    const client = await TestClient.connect(node.url);
    try {
      const dispatcher = startDispatcher(file.file);
      const pool = startPool(file.file);
      programs.push(dispatcher, pool);
      await dispatcher.waitFor(/dispatcher consuming/);
      await pool.waitForRunning('echo');
      expect(
        dispatcher.lines.some((l) => l.includes(`amqps://guest:***@127.0.0.1:${tlsPort}`)),
      ).toBe(true);
      await client.declare('results');
      await client.publish('taskqueue', workitem('echo', { over: 'tls' }), {
        correlationId: 'tls-1',
      });
      const [result] = await client.collect('results', 1, 30_000);
      expect(result?.properties.correlationId).toBe('tls-1');
      expect(JSON.parse(result!.content.toString()).fields.over).toBe('tls');
    } finally {
      await client.close();
      await Promise.all(programs.map((p) => p.stop()));
      file.cleanup();
    }
  });

  it('without the client certificate the broker refuses, and the dispatcher exits 69', async () => {
    const file = config(false);
    try {
      const dispatcher = startDispatcher(file.file);
      const { code } = await dispatcher.exited();
      expect(code).toBe(69);
      expect(dispatcher.lines.some((l) => l.includes('TQ_ERR_AMQP_UNREACHABLE'))).toBe(true);
    } finally {
      file.cleanup();
    }
  });

  it('the pool refuses to start (exit 78) when it cannot read a TLS file', async () => {
    const file = writeConfig(`[amqp]
url = amqps://guest:guest@127.0.0.1:${tlsPort}/
tls_ca = ${join(certs, 'no-such-ca.pem')}

[workerpool]
plugin_paths = ${WORKSPACE_PLUGINS}
enabled = echo
`);
    try {
      const pool = startPool(file.file);
      const { code } = await pool.exited();
      expect(code).toBe(78);
      expect(pool.lines.some((l) => l.includes('TQ_ERR_CONFIG_TLS_READ'))).toBe(true);
    } finally {
      file.cleanup();
    }
  });
});

/**
 * BENCH_METRICS=1: taskqueue runs with its metrics endpoints on (a token, loopback) and each is
 * scraped once a second for the whole run, so that the cost of being watched is in the figures
 * (issue 27: the hot path does not pay for what nobody watches).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '@taskqueue/dev/rabbitmq-node';

export const metricsOn = () => process.env.BENCH_METRICS === '1';

export interface MetricsSetup {
  /** Lines for [dispatcher] and [workerpool]. */
  dispatcher: string;
  workerpool: string;
  ports: number[];
  token: string;
}

export async function metricsSetup(workDir: string, runId: string): Promise<MetricsSetup> {
  const token = randomBytes(32).toString('hex');
  const file = join(workDir, `${runId}.metrics.token`);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  const ports = await freePorts(2);
  const keys = (port: number) =>
    `metrics_listen = 127.0.0.1:${port}\nmetrics_token_file = ${file}\n`;
  return { dispatcher: keys(ports[0]!), workerpool: keys(ports[1]!), ports, token };
}

/** Scrapes every port once a second until the returned stop; throws on a failed scrape. */
export function scrapeEverySecond(setup: MetricsSetup): () => Promise<number> {
  let scrapes = 0;
  let failure: Error | undefined;
  const timer = setInterval(() => {
    for (const port of setup.ports) {
      fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${setup.token}` },
      })
        .then(async (res) => {
          await res.text();
          if (res.status !== 200) throw new Error(`scrape of :${port}: HTTP ${res.status}`);
          scrapes++;
        })
        .catch((err: Error) => {
          failure ??= err;
        });
    }
  }, 1000);
  return async () => {
    clearInterval(timer);
    if (failure) throw failure;
    return scrapes;
  };
}

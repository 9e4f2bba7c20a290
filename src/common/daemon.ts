import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { worstCaseConnectMs } from './amqp/connect-options.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { ExitStatus, exitStatusFor } from './exit.js';
import {
  DAEMON_ENVIRONMENT,
  DAEMON_EXIT_CODES,
  failWithUsage,
  HELP_WIDTH,
  helpEpilogue,
} from './help.js';
import { createLogger, type Logger } from './logger.js';
import { StatusServer } from './status/server.js';
import { keepStatusCurrent, type StatusLine } from './status/status-updates.js';
import { startWatchdog } from './status/watchdog.js';
import { notifySystemd } from './systemd.js';

/**
 * Time for what a start does besides connecting: the pool's one look at each broker URL
 * (probe.ts), loading plugins and their setup, declaring queues.
 */
export const START_MARGIN_MS = 60_000;

/** What a daemon's body gets: its config and logger, and how to register its stop. */
export interface DaemonContext {
  config: Config;
  /** The file the config came from (to read again on reload). */
  configFile: string;
  log: Logger;
  /** Makes the daemon exit with `status` (a fatal error after start, say). */
  exit(status: number): void;
}

/** A running daemon: `stop()` is called once on SIGTERM or SIGINT. */
export interface RunningDaemon {
  stop(): Promise<void>;
  reload?(): Promise<void>;
  /** Resolves once the daemon serves (connected and consuming); systemd hears READY=1 then. */
  ready?: Promise<void>;
  /** What `taskqueue status` and systemd's STATUS= line show of it (docs/status.md). */
  status?: DaemonStatus;
}

/** A daemon's state, for its status socket and systemd. */
export interface DaemonStatus {
  /** Its `status_socket`, or undefined for none. */
  socket: string | undefined;
  /** The snapshot a status request is answered with (JSON-serializable). */
  snapshot(): unknown;
  /** The STATUS= line. */
  line(): StatusLine;
}

/**
 * The shared frame of `taskqueue-dispatcher` and `taskqueue-workerpool`: parse `-c` (and accept
 * `-f`; a malformed command line exits 64), load the config (exit 78 before connecting anywhere
 * when it is bad), start, stop on SIGTERM/SIGINT, reload on SIGHUP, and map errors to SPEC §4's
 * exit statuses.
 */
export async function runDaemon(
  name: string,
  start: (ctx: DaemonContext) => Promise<RunningDaemon>,
): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName(name)
    .usage(`$0 [-c FILE] [-f]`)
    .option('c', {
      alias: 'config',
      type: 'string',
      default: DEFAULT_CONFIG_FILE,
      describe: 'config file',
    })
    // -f (foreground) is in SPEC §4's synopsis, from the original taskqueue. These daemons never
    // fork (systemd supervises them, Type=notify), so -f is accepted for old unit files and
    // scripts and changes nothing; the log format follows TASKQUEUE_LOG_PRETTY, not -f.
    .option('f', {
      alias: 'foreground',
      type: 'boolean',
      default: false,
      describe:
        'accepted for compatibility with the original taskqueue and ignored: always runs in the foreground',
    })
    .example(`$0 -c /etc/taskqueue/config.ini`, 'run with this config (as the systemd unit does)')
    .epilogue(helpEpilogue(DAEMON_EXIT_CODES, DAEMON_ENVIRONMENT))
    .strict()
    .wrap(HELP_WIDTH)
    .fail(failWithUsage(name))
    .help()
    .parseAsync();
  const bootLog = createLogger(name);
  let config: Config;
  try {
    config = loadConfig(argv.c);
  } catch (err) {
    bootLog.fatal({ code: (err as { code?: string }).code, file: argv.c }, (err as Error).message);
    process.exit(exitStatusFor(err));
  }
  const log = createLogger(name, config.workerpool.logLevel);
  for (const warning of config.warnings) log.warn({ file: argv.c }, warning);
  // From the start: a start stuck in a blocking call is a stuck daemon too.
  const stopWatchdog = startWatchdog(log);
  let statusServer: StatusServer | undefined;
  let stopStatusUpdates = () => {};
  let stopping: Promise<void> | undefined;
  const exit = (status: number) => {
    process.exitCode = status;
    void stopAndExit(status);
  };
  let running: RunningDaemon | undefined;
  const stopAndExit = async (status: number) => {
    stopping ??= (async () => {
      try {
        await running?.stop();
      } catch (err) {
        log.error({ err }, 'error while stopping');
      }
      // Open while draining (status shows it), gone once stopped.
      statusServer?.close();
      stopStatusUpdates();
      stopWatchdog();
      log.info({ status }, 'stopped');
      process.exit(status);
    })();
    await stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log.info({ signal }, 'stopping');
      void stopAndExit(ExitStatus.OK);
    });
  }
  process.on('SIGHUP', () => {
    if (!running?.reload) {
      log.info('SIGHUP ignored: nothing to reload');
      return;
    }
    const reload = running.reload.bind(running);
    void (async () => {
      await notifySystemd(log, 'RELOADING=1');
      await reload().catch((err) => log.error({ err }, 'reload failed'));
      await notifySystemd(log, 'READY=1');
    })();
  });
  // Type=notify units time the start out after TimeoutStartSec (90 s by default), far less than
  // the connect retries may take while the broker is down; a timed-out start would be killed and
  // restarted before connect_retries ran out. Tell systemd the real bound instead, once.
  const startWindowMs = worstCaseConnectMs(config.amqp.connectRetries) + START_MARGIN_MS;
  await notifySystemd(log, `EXTEND_TIMEOUT_USEC=${startWindowMs * 1000}`);
  try {
    running = await start({ config, configFile: argv.c, log, exit });
    const { status } = running;
    if (status) {
      // Before `ready`: a start that waits for the broker or for children is worth seeing.
      if (status.socket !== undefined && !stopping) {
        statusServer = new StatusServer(status.socket, () => status.snapshot(), log);
        await statusServer.open();
      }
      stopStatusUpdates = keepStatusCurrent(log, () => status.line());
    }
    await running.ready;
    if (!stopping) {
      log.info('ready');
      await notifySystemd(log, 'READY=1');
    }
  } catch (err) {
    const status = exitStatusFor(err);
    log.fatal({ code: (err as { code?: string }).code, err }, (err as Error).message);
    await stopAndExit(status);
  }
}

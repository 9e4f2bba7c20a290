#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { hasCode } from '../common/errors.js';
import { ExitStatus } from '../common/exit.js';
import { failWithUsage, HELP_WIDTH } from '../common/help.js';
import { buildPluginDeb } from './build.js';
import { REVISION_PATTERN } from './debian-fields.js';

const NAME = 'taskqueue-plugin-deb';

/** sysexits.h EX_DATAERR: the tarball is not a plugin this host would run. */
const REFUSED = 65;

const EPILOGUE = `Exit status:
  0   built; the .deb's path is on stdout
  64  usage error (no tarball, a bad --revision, no maintainer known)
  65  not a taskqueue plugin's tarball, or its plugin API range does not fit this host
  69  npm or dpkg-deb missing or failing

Environment:
  DEBFULLNAME, DEBEMAIL  the maintainer when --maintainer is not given (as debchange(1))`;

const argv = await yargs(hideBin(process.argv))
  .scriptName(NAME)
  .usage(
    '$0 TARBALL [options]\n\nMakes a Debian package of a taskqueue plugin from its npm tarball (npm pack): the plugin in /usr/lib/taskqueue/plugins/node_modules with its runtime dependencies; installing or removing it reloads a running worker pool.',
  )
  .command('$0 <tarball>', false)
  .positional('tarball', {
    type: 'string',
    demandOption: true,
    describe: "the plugin's npm tarball, as npm pack writes it",
  })
  .option('out', { alias: 'o', type: 'string', default: '.', describe: 'directory for the .deb' })
  .option('revision', {
    type: 'string',
    default: '1',
    describe: 'Debian revision after the npm version (1.2.0 -> 1.2.0-1)',
  })
  .option('maintainer', { type: 'string', describe: 'the Maintainer field, "Name <mail>"' })
  .check((args) => {
    if (!REVISION_PATTERN.test(args.revision)) {
      throw new Error(`--revision ${args.revision}: expected ${REVISION_PATTERN.source}`);
    }
    return true;
  })
  .example('$0 taskqueue-plugin-ocr-1.2.0.tgz --out debs/', '')
  .epilogue(EPILOGUE)
  .strict()
  .wrap(HELP_WIDTH)
  .fail(failWithUsage(NAME))
  .help()
  .version(false)
  .parse();

try {
  const built = buildPluginDeb({
    tarball: argv.tarball,
    outDir: argv.out,
    revision: argv.revision,
    maintainer: argv.maintainer,
  });
  process.stderr.write(
    `${NAME}: ${built.packageName} ${built.version} installs ${built.installDir}\n`,
  );
  process.stdout.write(`${built.debFile}\n`);
} catch (err) {
  const code = (err as { code?: string }).code;
  process.stderr.write(`${NAME}: ${(err as Error).message}${code ? ` [${code}]` : ''}\n`);
  process.exitCode = statusFor(err);
}

function statusFor(err: unknown): number {
  if (hasCode(err, 'TQ_ERR_PLUGIN_DEB_INPUT') || hasCode(err, 'TQ_ERR_PLUGIN_API')) return REFUSED;
  if (hasCode(err, 'TQ_ERR_PLUGIN_DEB_BUILD')) return ExitStatus.UNAVAILABLE;
  if (hasCode(err, 'TQ_ERR_CLI_USAGE')) return ExitStatus.USAGE;
  return ExitStatus.SOFTWARE;
}

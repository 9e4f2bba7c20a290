import { relative } from 'node:path';
import type { ScaffoldOptions } from './args.js';

/** What to do after the package is written, from building it to the pool running it. */
export function nextSteps(options: ScaffoldOptions, cwd = process.cwd()): string {
  const dir = relative(cwd, options.dir) || '.';
  const { type, packageName } = options;
  return `Created ${packageName} in ${dir}

Next:
  cd ${dir}
  npm install
  npm test                 # builds, then runs test/index.test.ts through the worker child's code
  npm pack                 # ${packageName}-0.1.0.tgz, the package as the pool will see it

Install it on the pool host, as root (the pool runs only code that nobody but root can change):
  npm install -g ./${packageName}-0.1.0.tgz
    or unpack it under a directory listed in [workerpool] plugin_paths,
    or ship it as a .deb into /usr/lib/taskqueue/plugins (docs/packaging.md)
  taskqueue plugins                            # is ${type} found, and accepted?
  taskqueue run-task ${type} '{"fields":{"text":"one two three"}}'
  systemctl reload taskqueue-workerpool        # the pool starts ${type}'s children

More in the plugin author's guide, docs/plugin-guide.md of taskqueue.
`;
}

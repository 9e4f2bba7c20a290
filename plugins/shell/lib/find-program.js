// @ts-check
/**
 * Finds the program a command would run, the way the kernel's execvp does, so that a typo in the
 * config fails `setup` with a clear message instead of failing every task.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, resolve } from 'node:path';

/** The search path execvp uses when the environment has no PATH. */
const DEFAULT_PATH = '/usr/bin:/bin';

/**
 * @param {string} file a program name (searched in PATH) or a path containing `/`
 * @param {string | undefined} pathVar the command's PATH
 * @param {string} cwd the command's working directory (relative names are resolved against it)
 * @returns {Promise<string | undefined>} the program's absolute path, or undefined if none
 */
export async function findProgram(file, pathVar, cwd) {
  if (file.includes('/')) {
    const candidate = resolve(cwd, file);
    return (await isExecutableFile(candidate)) ? candidate : undefined;
  }
  for (const dir of (pathVar ?? DEFAULT_PATH).split(delimiter)) {
    // An empty PATH entry means the current directory.
    const candidate = resolve(cwd, dir, file);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * @param {string} path
 * @returns {Promise<boolean>}
 */
export async function isDirectory(path) {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** @param {string} path */
async function isExecutableFile(path) {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

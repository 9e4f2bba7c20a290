// @ts-check
/**
 * Splits a `command` setting into an argv the way a POSIX shell splits simple words, without
 * running a shell: blanks separate words, '...' is literal, "..." is literal except for \" \\ \$
 * \` and \<newline>, and outside quotes a backslash makes the next character literal.
 *
 * Characters that a shell would treat specially (pipes, redirections, `;`, `&`, `$` expansions,
 * backquotes, globs, a leading `~`) are refused unless quoted or escaped: taking them literally
 * would silently run something other than what the line seems to say. Whoever needs them sets
 * `shell = yes`.
 */

/** Characters that end a word. */
const BLANKS = ' \t\r\n';

/** Characters a shell would interpret outside quotes; refused there. */
const SHELL_SPECIAL = '|&;<>()$`*?[';

/** Characters a backslash escapes inside double quotes (POSIX); before others it is literal. */
const DQUOTE_ESCAPABLE = '"\\$`\n';

/** A `command` that cannot be split; the message says where and why. */
export class CommandSyntaxError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'CommandSyntaxError';
  }
}

/**
 * @param {string} line the command line, as written in the INI file
 * @returns {string[]} its words; empty when the line is blank
 * @throws {CommandSyntaxError} on an unterminated quote, a trailing backslash, or an unquoted
 *   shell operator or expansion
 */
export function splitArgv(line) {
  /** @type {string[]} */
  const argv = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line.charAt(i);
    if (BLANKS.includes(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandSyntaxError(`unterminated ' quote at column ${i + 1}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= line.length) {
          throw new CommandSyntaxError(`unterminated " quote at column ${start + 1}`);
        }
        const d = line.charAt(i);
        if (d === '"') break;
        if (d === '\\' && i + 1 < line.length && DQUOTE_ESCAPABLE.includes(line.charAt(i + 1))) {
          if (line.charAt(i + 1) !== '\n') word += line.charAt(i + 1);
          i += 2;
        } else if (d === '$' || d === '`') {
          throw refused(d, i, `inside "..." (write \\${d} or use single quotes)`);
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandSyntaxError('trailing \\ at the end of the line');
      const next = line.charAt(i + 1);
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (SHELL_SPECIAL.includes(c) || (c === '~' && !inWord)) {
      throw refused(c, i, 'outside quotes (quote or escape it)');
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) argv.push(word);
  return argv;
}

/**
 * @param {string} char
 * @param {number} index
 * @param {string} where
 */
function refused(char, index, where) {
  return new CommandSyntaxError(
    `${char} at column ${index + 1} ${where}: the command runs without a shell, so it would be ` +
      'passed on literally; set shell = yes to have /bin/sh interpret it',
  );
}

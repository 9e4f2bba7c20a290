import { createInterface } from 'node:readline/promises';
import { TqError } from '../common/errors.js';

/** What to do before an action that cannot be undone. */
export type ConfirmStep = 'proceed' | 'ask' | 'refuse';

/** `--yes` proceeds; on a terminal the operator is asked; without one the command refuses. */
export function confirmStep(yes: boolean, interactive: boolean): ConfirmStep {
  if (yes) return 'proceed';
  return interactive ? 'ask' : 'refuse';
}

/** An answer that means yes: `y` or `yes`, any case; anything else is no. */
export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}

/**
 * Refuses (TQ_ERR_CLI_USAGE, exit 64) an irreversible command run without `--yes` and without a
 * terminal to ask on: a script must say `--yes` itself. Checked before the broker is touched.
 */
export function refuseUnconfirmed(command: string, yes: boolean): void {
  if (confirmStep(yes, isInteractive()) === 'refuse')
    throw new TqError(
      'TQ_ERR_CLI_USAGE',
      `${command} cannot be undone: give --yes (no terminal to ask on)`,
    );
}

/** Asks `question` on the terminal (stderr, so stdout stays the command's output); true on yes. */
export async function confirmed(question: string, yes: boolean): Promise<boolean> {
  const step = confirmStep(yes, isInteractive());
  if (step === 'proceed') return true;
  if (step === 'refuse') return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return isYes(await prompt.question(`${question} [y/N] `));
  } finally {
    prompt.close();
  }
}

function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

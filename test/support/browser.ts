import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './programs.js';

/** Debian's Chromium (`apt-get install chromium`; .ci/run and scripts/ensure-ready.mjs do). */
export const CHROMIUM = process.env.TQ_TEST_CHROMIUM || '/usr/bin/chromium';

/**
 * Headless, and quiet: no sandbox (CI runs as root, where Chromium's sandbox refuses to start),
 * no GPU, and nothing that reaches out to Google (updates, sync, QUIC, field trials), since the
 * machine has no network but the loopback and the dashboard must work offline.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Where the tests leave their screenshots (gitignored; .ci/run lists them at its end). */
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A page of the browser, with what went wrong in it (console errors, uncaught exceptions). */
export interface TestPage {
  page: Page;
  /** Console errors and uncaught exceptions (a CSP violation shows up here), in order. */
  errors: string[];
}

/** One Chromium with a profile of its own; `close()` ends it and removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  /** A new tab (its own sessionStorage, so its own token) at `viewport`. */
  newPage(viewport?: { width: number; height: number }): Promise<TestPage>;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh `--user-data-dir` in a temp dir (Playwright passes it for a
 * persistent context; it refuses the flag in `args`). Idempotent close: the second call waits
 * for the first and does nothing more.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tq-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: DESKTOP,
      // The dashboard shows times in the browser's zone: pin one so screenshots are stable.
      timezoneId: 'UTC',
      locale: 'en-GB',
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    context,
    async newPage(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (err) => errors.push(`page: ${err.message}`));
      return { page, errors };
    },
    close() {
      closing ??= context
        .close()
        .catch(() => {})
        .finally(() => rmSync(profile, { recursive: true, force: true }));
      return closing;
    },
  };
}

/** Saves a full-page PNG of `page` as test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

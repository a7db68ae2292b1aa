// Headless Chromium for the live view's end-to-end test and its screenshot (npm run screenshot):
// Debian's `chromium` package driven by playwright-core (a devDependency; the programs never load
// this file). A fresh profile directory each time, removed on close; nothing is downloaded.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrivenProcess } from '../scenario/driver.js';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** $CHROMIUM_PATH, else /usr/bin/chromium, if it is an executable file; null otherwise. */
export function chromiumPath(): string | null {
  const path = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** Why the browser tests cannot run here, in one line; null when they can. */
export function noChromiumReason(): string | null {
  return chromiumPath() === null
    ? `no Chromium at ${process.env['CHROMIUM_PATH'] || '/usr/bin/chromium'} (set $CHROMIUM_PATH, or apt-get install chromium as .ci/run does)`
    : null;
}

export interface Browser {
  /** A new tab at `url`, of the given size. */
  open(url: string, size?: { width: number; height: number }): Promise<import('playwright-core').Page>;
  close(): Promise<void>;
}

export async function launchBrowser(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'ringdht-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 860 },
    });
    return {
      async open(url, size) {
        const page = await context.newPage();
        if (size) await page.setViewportSize(size);
        await page.goto(url);
        return page;
      },
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

/** The live view's address as the manager printed it (`manager: live view at http://…/`). */
export function liveUrl(manager: DrivenProcess): string {
  for (const line of manager.lines) {
    const m = /^manager: live view at (http:\/\/\S+)$/.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`the manager printed no live view address:\n${manager.tail()}`);
}

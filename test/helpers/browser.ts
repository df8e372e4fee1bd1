/**
 * Headless Chromium for page tests: Debian's `chromium` driven by
 * playwright-core (never a downloaded browser), with a fresh profile and the
 * flags that keep it off the network (without the background-networking
 * ones it dials out at start, and this closed network refuses that).
 *
 * When /usr/bin/chromium is missing this returns { skip: reason }, except
 * under CI=true, where it throws: CI must fail when the browser is missing.
 * Top-level await in the test file, as with the emulator (helpers/emulator.ts).
 */
import fs from "node:fs";
import { type BrowserContext, chromium } from "playwright-core";
import { tempDir } from "./data.js";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_INSTALL_HINT = "Install it with: apt-get install -y chromium (.ci/run does this before npm test).";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export type BrowserForTests = { context: BrowserContext; close(): Promise<void> };

export function chromiumMissing(): { skip: string } | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  if (process.env.CI === "true") throw new Error(`CI=true and ${CHROMIUM} is missing, so the dashboard page tests cannot run. ${CHROMIUM_INSTALL_HINT}`);
  return { skip: `${CHROMIUM} is missing: skipping the dashboard page tests. ${CHROMIUM_INSTALL_HINT}` };
}

/** A browser with a fresh profile (deleted on close), 1440 px wide. */
export async function launchChromium(): Promise<BrowserForTests> {
  const profile = tempDir("chromium");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

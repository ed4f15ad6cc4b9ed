/**
 * Debian's Chromium for the browser end-to-end tests (test/e2e), driven by playwright-core: headless, with the
 * flags the dossier export uses (no sandbox in containers, no background services).
 */
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../src/dossier/export';

/** Launches headless Chromium; the caller closes it in `after`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The dossier export's flags; playwright adds its own --headless.
    args: CHROMIUM_ARGS.filter((a) => a !== '--headless'),
  });
}

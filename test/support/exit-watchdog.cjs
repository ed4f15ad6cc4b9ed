/**
 * Preloaded into every test file's process (infra/test.sh). If anything — say a server a failed test left
 * running — keeps the process alive after its tests have finished and reported, exit anyway, so one leak
 * cannot stall the whole run. Instead of node's --test-force-exit, which can drop the verdicts of a file's
 * last tests and report fewer tests than ran (nodejs/node#64833).
 */
const { after } = require('node:test');

const graceMs = Number(process.env.VIGIL_TEST_EXIT_GRACE_MS ?? 30_000);
after(() => {
  setTimeout(() => {
    process.stderr.write(
      `exit-watchdog: still running ${graceMs} ms after its tests finished (a leaked server or handle?); exiting\n`,
    );
    process.exit(process.exitCode ?? 0);
  }, graceMs).unref();
});

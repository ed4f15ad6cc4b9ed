/**
 * The stack's traffic: the demo cohort (or the cases `input` gives, e.g. a user's CSV replayed: ./csv-traffic.ts) sent through the inference gateway at a steady rate while any release is
 * running (its live stages measure this traffic), each case's outcome posted 0.5–1.5 × the median delay after its
 * answer, as a hospital's results arrive. Sent in back-to-back chunks of fresh cases (src/sim/gateway-driver.ts),
 * so traffic never pauses for a chunk's last outcomes. Whether a release is running is asked beside the traffic,
 * never in its way: while the last answer was "yes", the next chunk goes out at once and the question is asked
 * again in the background, so a slow API under load cannot stall a live window (it once cut SHADOW's 5 s window
 * to a third of its cases and left a canary step with no labelled positives).
 */
import { driveGateway, type GatewayDriverOptions, type GatewayDriverSummary } from '../sim/gateway-driver';
import type { Logger } from '../logging/logger';

export interface DemoTrafficOptions {
  gatewayUrl: string;
  model: string;
  /** Inference requests per second. */
  rate: number;
  /** Median outcome delay (ms). */
  outcomeDelayMs: number;
  ingestToken: string;
  /** True while some release is running (the driver idles otherwise). */
  live: () => Promise<boolean>;
  log: Logger;
  /** Seconds of traffic per chunk (default 5). */
  chunkSeconds?: number;
  /**
   * How long a "yes" is trusted while `live` keeps failing (the API restarting, or timing out under load): traffic
   * goes on this long after the last answer, then idles until one comes (ms, default 30 000).
   */
  liveGraceMs?: number;
  /** The next `n` cases to send, with their feature names; default: fresh demo cohort cases. */
  input?: (n: number) => Promise<NonNullable<GatewayDriverOptions['input']>>;
}

export interface DemoTraffic {
  /** Stops sending at once (requests still scheduled fail fast, nothing reaches the gateway). */
  stop(): void;
  /** Cases answered and outcomes posted so far. */
  totals(): { answered: number; failed: number; outcomes: number };
}

export function startDemoTraffic(opts: DemoTrafficOptions): DemoTraffic {
  const chunkMs = (opts.chunkSeconds ?? 5) * 1000;
  const totals = { answered: 0, failed: 0, outcomes: 0 };
  let stopped = false;
  const runId = Date.now().toString(36); // fresh case ids on every start: a restart never resends a case
  // After stop(), nothing more reaches the network.
  const fetchImpl: typeof fetch = (input, init) =>
    stopped ? Promise.reject(new Error('traffic stopped')) : fetch(input, init);
  let chunk = 0;
  let failingSince: number | null = null;

  const done = (s: GatewayDriverSummary): void => {
    totals.answered += s.ok;
    totals.failed += s.failed;
    totals.outcomes += s.outcomesPosted;
    if (stopped) return;
    if (s.failed > 0) {
      // Logged once per outage (the gateway may be restarting); the windows it misses are judged incomplete.
      if (failingSince === null)
        opts.log.warn({ failed: s.failed, error: s.firstError }, 'traffic: gateway requests failing');
      failingSince ??= Date.now();
    } else if (failingSince !== null) {
      opts.log.info({ outageMs: Date.now() - failingSince }, 'traffic: gateway answering again');
      failingSince = null;
    }
  };

  let inputError: string | null = null;
  const inputFailed = (err: unknown): undefined => {
    const msg = (err as Error).message;
    if (msg !== inputError) opts.log.warn({ err: msg }, 'traffic: cannot get the next cases; retrying');
    inputError = msg;
    return undefined;
  };

  // The last answer of `live` (and when it came); one question in flight at a time.
  const graceMs = opts.liveGraceMs ?? 30_000;
  let live = false;
  let answeredAt = 0;
  let asking: Promise<void> | null = null;
  const ask = (): Promise<void> =>
    (asking ??= opts
      .live()
      .then(
        (yes) => {
          live = yes;
          answeredAt = Date.now();
        },
        () => {
          if (Date.now() - answeredAt > graceMs) live = false;
        },
      )
      .finally(() => {
        asking = null;
      }));

  const loop = async (): Promise<void> => {
    let next = Date.now();
    while (!stopped) {
      const pending = ask();
      if (!live) {
        // Idle: wait for the answer (nothing to keep flowing), then look again in a second if still no release.
        await pending;
        if (stopped) return;
        if (!live) {
          await new Promise((r) => setTimeout(r, 1000));
          next = Date.now();
          continue;
        }
        next = Date.now();
      }
      const cases = Math.max(1, Math.round((opts.rate * chunkMs) / 1000));
      const input = opts.input ? await opts.input(cases).catch(inputFailed) : undefined;
      if (stopped) return;
      if (opts.input && !input) {
        await new Promise((r) => setTimeout(r, 1000));
        next = Date.now();
        continue;
      }
      void driveGateway({
        url: opts.gatewayUrl,
        model: opts.model,
        rate: opts.rate,
        cases,
        ingestToken: opts.ingestToken,
        outcomeDelayMs: opts.outcomeDelayMs,
        seed: `stack-${runId}-${chunk++}`,
        ...(input ? { input } : {}),
        fetchImpl,
      })
        .then(done)
        .catch((err: unknown) => opts.log.warn({ err }, 'traffic: chunk failed'));
      next += chunkMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  };
  void loop();
  opts.log.info({ rate: opts.rate, outcomeDelayMs: opts.outcomeDelayMs, chunkMs }, 'traffic: driver started');
  return {
    stop: () => {
      stopped = true;
    },
    totals: () => ({ ...totals }),
  };
}

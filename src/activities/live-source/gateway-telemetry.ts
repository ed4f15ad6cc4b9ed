/**
 * The `gateway-telemetry` live source: the inference gateway's telemetry segments in S3 (read through one
 * `TelemetryLiveSource`, which waits for every gateway's upload watermark to pass a window's end).
 */
import type { LiveSource } from '../../contracts/live-source';
import type { Scorer } from '../../models';
import type { LiveTelemetryPort, TelemetryWindowReader } from '../../telemetry/live-source';
import { closeAll, openScorers } from '../artifacts';
import type { EvidencePort } from '../../contracts/ports';
import { ScoredReferences } from './evaluation-reference';
import { telemetryDrift } from './telemetry-drift';
import { telemetryShadow } from './telemetry-shadow';
import { telemetryWindow } from './telemetry-window';
import { referenceLoader } from './monitoring-cohorts';

export function gatewayTelemetryLiveSource({
  evidence,
  telemetry,
}: {
  evidence: EvidencePort;
  /** Windows of gateway telemetry: raw (SHADOW, drift) and joined per route (canary, monitoring). */
  telemetry: LiveTelemetryPort & TelemetryWindowReader;
}): LiveSource {
  const references = new ScoredReferences(evidence);
  return {
    kind: 'gateway-telemetry',
    shadow: (input) => telemetryShadow(telemetry, evidence, input),
    window: (input) => telemetryWindow(telemetry, evidence, input, referenceLoader(evidence, references)),
    drift: (input) =>
      telemetryDrift(telemetry, evidence, input, async () => {
        const [candidate] = (await openScorers(evidence, [input.request.candidate])) as [Scorer];
        try {
          return await references.get(input.request, candidate);
        } finally {
          await closeAll([candidate]);
        }
      }),
  };
}

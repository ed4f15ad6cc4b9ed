import http from 'node:http';
import type { Scorer, ScoringInput } from '../models';

/** One model version the gateway can send a request to. */
export interface Backend {
  readonly version: string;
  readonly kind: 'in-process' | 'remote';
  score(input: ScoringInput, signal?: AbortSignal): Promise<Float64Array>;
  close(): Promise<void>;
}

/** An ONNX or JSON logistic model loaded in this process (see loadScorer). */
export function inProcessBackend(version: string, scorer: Scorer): Backend {
  return { version, kind: 'in-process', score: (input) => scorer.score(input), close: () => scorer.close() };
}

export class BackendError extends Error {
  override name = 'BackendError';
}

export interface RemoteOipOptions {
  /** Base URL of the OIP server, e.g. http://10.0.0.5:8000 */
  url: string;
  /** Model name at the remote server. */
  model: string;
  version: string;
  /** Name of the 2-D input tensor the remote model expects. */
  inputName?: string;
  /** Output tensor holding the scores; default the first output. */
  outputName?: string;
  timeoutMs?: number;
  maxSockets?: number;
}

/**
 * A model behind another OIP v2 endpoint. Sends one FP32 [N, F] tensor (feature names in
 * `parameters.feature_names`), reads one score per row. Keep-alive sockets; every call has a deadline.
 */
export class RemoteOipBackend implements Backend {
  readonly kind = 'remote' as const;
  readonly version: string;
  private readonly agent: http.Agent;
  private readonly target: URL;

  constructor(private readonly opts: RemoteOipOptions) {
    this.version = opts.version;
    this.target = new URL(`/v2/models/${encodeURIComponent(opts.model)}/infer`, opts.url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  }

  score(input: ScoringInput, signal?: AbortSignal): Promise<Float64Array> {
    const body = JSON.stringify({
      parameters: { case_id: input.caseIds[0] ?? '' },
      inputs: [
        {
          name: this.opts.inputName ?? 'input',
          shape: [input.rows, input.featureNames.length],
          datatype: 'FP32',
          parameters: { feature_names: input.featureNames },
          data: Array.from(input.features),
        },
      ],
    });
    return new Promise<Float64Array>((resolve, reject) => {
      const req = http.request(
        this.target,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: this.opts.timeoutMs ?? 2000,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            try {
              if (res.statusCode !== 200) throw new BackendError(`${this.target.href} answered ${res.statusCode}`);
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                outputs?: Array<{ name: string; data: unknown[] }>;
              };
              const out = this.opts.outputName
                ? json.outputs?.find((o) => o.name === this.opts.outputName)
                : json.outputs?.[0];
              if (
                !out ||
                out.data.length !== input.rows ||
                !out.data.every((v) => typeof v === 'number' && v >= 0 && v <= 1)
              ) {
                throw new BackendError(`${this.target.href} returned no usable scores`);
              }
              resolve(Float64Array.from(out.data as number[]));
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new BackendError(`${this.target.href} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** The loaded versions of one model, plus its input contract (feature names). */
export interface ModelBackends {
  name: string;
  features: readonly string[];
  versions: Map<string, Backend>;
  /** Per feature, the value its input sketch is taken around (LogSketch.centre; default 0). */
  sketchCentres?: Readonly<Record<string, number>>;
}

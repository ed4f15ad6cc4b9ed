import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Scorer } from '../models';
import { rowCaseIds, takeCaseIdInput } from './case-ids';
import { inferResponseText, OipRequestError, parseInferRequest, toFeatureMatrix } from './oip';

export interface OipModelServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * One model behind a bare OIP v2 endpoint: no routing, no telemetry, no control API. It is the
 * "backend called directly" of the gateway benchmark and the remote backend of tests (with an
 * optional artificial delay or failure).
 */
export async function startOipModelServer(opts: {
  model: string;
  version: string;
  scorer: Scorer;
  port?: number;
  delayMs?: number;
  fail?: boolean;
}): Promise<OipModelServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let status = 200;
        let text: string;
        try {
          if (opts.fail) throw new Error('backend configured to fail');
          if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
          const parsed = parseInferRequest(
            JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')),
          );
          const { request, caseIds } = takeCaseIdInput(parsed);
          const m = toFeatureMatrix(request, opts.scorer.features);
          const scores = await opts.scorer.score({
            featureNames: m.featureNames,
            features: m.features,
            rows: m.rows,
            caseIds: rowCaseIds(parsed.parameters.case_id, caseIds, m.rows),
          });
          text = inferResponseText({
            model: opts.model,
            version: opts.version,
            id: parsed.id,
            route: 'direct',
            routeVersion: 0,
            scores,
            threshold: undefined,
          });
        } catch (e) {
          status = e instanceof OipRequestError || e instanceof SyntaxError ? 400 : 500;
          text = JSON.stringify({ error: (e as Error).message });
        }
        res.writeHead(status, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(text))]);
        res.end(text);
      })();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Probes of SeaweedFS's ways in, for the tests that prove they are closed (test/integration/evidence-lockdown.test.ts
 * on the local stack, compose-seaweedfs.test.ts on docker-compose's configuration).
 */
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';

/** 'ok', or the HTTP status an S3 call failed with. */
export async function statusOf(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

/** The status of one plain HTTP request. */
export async function httpStatus(url: string, init: RequestInit = {}): Promise<number> {
  return (await fetch(url, init)).status;
}

/** One HTTPS request to an internal port; the status, or 'refused' when the TLS handshake or connection fails. */
export function tlsRequest(
  caFile: string,
  port: number,
  urlPath: string,
  method: string,
  client?: { cert: Buffer; key: Buffer },
  body?: string,
): Promise<number | 'refused'> {
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: urlPath, method, ca: fs.readFileSync(caFile), ...client },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? -1);
      },
    );
    req.on('error', () => resolve('refused'));
    req.end(body);
  });
}

/** One gRPC call over HTTP/2 + TLS; resolves to the grpc-status answered, or 'refused' when the connection fails. */
export function grpcCall(port: number, caFile: string, client?: { cert: string; key: string }): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: fs.readFileSync(caFile),
      rejectUnauthorized: false,
      ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
    });
    const done = (r: string): void => {
      session.destroy();
      resolve(r);
    };
    session.on('error', () => done('refused'));
    const req = session.request({
      ':method': 'POST',
      ':path': '/filer_pb.SeaweedFiler/GetFilerConfiguration',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('error', () => done('refused'));
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) done(`grpc-status ${String(h['grpc-status'])}`);
    });
    req.on('trailers', (t) => done(`grpc-status ${String(t['grpc-status'])}`));
    req.on('close', () => done('refused'));
    req.end(Buffer.from([0, 0, 0, 0, 0])); // an empty request message
    setTimeout(() => done('refused'), 5_000).unref();
  });
}

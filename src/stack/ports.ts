import net from 'node:net';

/** Listeners' ports are drawn from [10000, 32768). */
export const LISTEN_RANGE = { from: 10_000, below: 32_768 } as const;

/**
 * `count` distinct loopback ports we could bind just now, drawn at random from LISTEN_RANGE and held open together so
 * none is handed out twice. Below the kernel's ephemeral range (32768+ here, `ip_local_port_range`): a port the kernel
 * picked (`listen(0)`) can be taken by any outgoing connection's source port between close and the server's bind,
 * which failed CI runs with EADDRINUSE while other tests made connections; no outgoing connection takes one of these.
 * (Temporal also keeps its services' membership ports in a SMALLINT column, which 32768+ overflows.) What is left is
 * another process drawing the same random port in that instant.
 */
export async function freePorts(count: number): Promise<number[]> {
  const { from, below } = LISTEN_RANGE;
  const servers: net.Server[] = [];
  try {
    for (let tries = 0; servers.length < count; tries++) {
      if (tries > 1000) throw new Error(`no ${count} free loopback ports in [${from}, ${below})`);
      const port = from + Math.floor(Math.random() * (below - from));
      const server = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(true));
      });
      if (ok) servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

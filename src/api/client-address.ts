/**
 * The client's address for the sign-in limits and the audit log. Behind a reverse proxy (nginx in the topology)
 * every socket is the proxy's, so all clients would share one per-address limit: 30 guesses by anyone would lock
 * everyone out. For sockets from the configured trusted proxies (VIGIL_TRUSTED_PROXIES) the address is read from
 * X-Forwarded-For instead — the right-most entry that is not itself a trusted proxy, since entries to its left
 * were written by the client and prove nothing.
 */
import net from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** IPs and CIDR ranges (`10.0.0.5`, `172.16.0.0/12`, `::1`), as validated by config.ts. */
export function trustedProxyList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [ip, prefix] = entry.split('/') as [string, string | undefined];
    const family = net.isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(prefix), family);
  }
  return list;
}

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is 10.0.0.5. */
function plain(address: string): string {
  const a = address.trim();
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function isTrusted(address: string, trusted: net.BlockList): boolean {
  const family = net.isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The address to count: the socket's, unless the socket is a trusted proxy; then the right-most untrusted entry of
 * X-Forwarded-For (the left-most when all are trusted). A malformed entry where a trusted proxy wrote falls back to
 * the socket's address rather than to text a client could vary.
 */
export function clientAddressOf(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: net.BlockList,
): string {
  if (!socketAddress) return 'unknown';
  const socket = plain(socketAddress);
  if (!isTrusted(socket, trusted) || !forwardedFor) return socket;
  const hops = forwardedFor
    .split(',')
    .map(plain)
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (net.isIP(hop) === 0) return socket;
    if (!isTrusted(hop, trusted)) return hop;
  }
  return hops[0] ?? socket;
}

/** For UiDeps.clientAddress: the Node adapter's socket address, through `clientAddressOf`. */
export function clientAddressResolver(trustedProxies: readonly string[] = []): (c: Context) => string {
  const trusted = trustedProxyList(trustedProxies);
  return (c) => {
    let socket: string | undefined;
    try {
      socket = getConnInfo(c).remote.address;
    } catch {
      socket = undefined; // not served by the Node adapter (app.request in tests)
    }
    return trustedProxies.length === 0
      ? (socket ?? 'unknown')
      : clientAddressOf(socket, c.req.header('x-forwarded-for'), trusted);
  };
}

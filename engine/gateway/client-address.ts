import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/**
 * Which peers may tell the gateway who the client is (SLUICE_TRUST_PROXY): none, the nearest
 * `hops` (a hop count, as the number of proxies you run in front), or peers whose address is in
 * `addresses` (CIDRs, single addresses, or proxy-addr's names loopback, linklocal, uniquelocal).
 */
export type TrustProxy = { mode: 'off' } | { mode: 'hops'; hops: number } | { mode: 'addresses'; addresses: string[] };

/** The most proxies a chain may have in front of the gateway. */
const MAX_HOPS = 32;
const SYNTAX = 'off, a number of trusted proxy hops (e.g. 1), or a comma-separated list of proxy addresses and CIDRs (e.g. 10.0.0.0/8, loopback; names: loopback, linklocal, uniquelocal)';

/**
 * Reads SLUICE_TRUST_PROXY. `on`/`true` (the old switch, which took the leftmost,
 * client-chosen X-Forwarded-For entry) are refused rather than guessed: how many proxies stand
 * in front is exactly what the gateway cannot know.
 * @example parseTrustProxy('1') // { mode: 'hops', hops: 1 }
 */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim().toLowerCase();
  if (['off', 'false', 'no', '0', ''].includes(value)) return { mode: 'off' };
  if (['on', 'true', 'yes'].includes(value))
    throw new Error(`"${text}" is no longer a switch: say whom to trust, as ${SYNTAX}. Behind one proxy you run (a load balancer), use 1`);
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw new Error(`"${text}": at most ${MAX_HOPS} hops`);
    return { mode: 'hops', hops };
  }
  const addresses = text.split(',').map((a) => a.trim()).filter(Boolean);
  try {
    proxyAddr.compile(addresses);
  } catch (error) {
    throw new Error(`"${text}" is not ${SYNTAX}: ${(error as Error).message}`);
  }
  return { mode: 'addresses', addresses };
}

/** The trust as proxy-addr and Express's `trust proxy` take it: which address, at which hop (0: the socket's peer), may forward. */
type TrustFunction = (address: string, hop: number) => boolean;

export interface ClientAddress {
  /** The compiled trust (for Express's `trust proxy`); undefined when no proxy is trusted. */
  readonly trust: TrustFunction | undefined;
  /** The client's address: the socket's peer, or the nearest X-Forwarded-For entry a trusted proxy did not write itself. */
  of(req: IncomingMessage): string;
  /**
   * The client's address and the X-Forwarded-For to send upstream: the trusted chain from the
   * client to this hop's peer. Entries beyond the client (written by the client itself) are never passed on.
   */
  chain(req: IncomingMessage): { client: string; forwardedFor: string };
  /** Whether the socket's peer is a trusted proxy, which may speak for the client in headers (a client certificate it verified). */
  fromTrustedHop(req: IncomingMessage): boolean;
}

const socketAddress = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';

/**
 * The one client-address function: used for the `ip` rate-limit key, the admin lockout,
 * Express's `trust proxy`, the request log and the upstream X-Forwarded-For. The trust is compiled
 * once; with trust off a request costs one property read.
 * @example
 * const clients = createClientAddress({ mode: 'hops', hops: 1 });
 * clients.of(req) // '203.0.113.7' for X-Forwarded-For: 6.6.6.6, 203.0.113.7 from the proxy
 */
export function createClientAddress(trust: TrustProxy): ClientAddress {
  if (trust.mode === 'off' || (trust.mode === 'hops' && trust.hops === 0)) {
    return {
      trust: undefined,
      of: socketAddress,
      chain(req) {
        const client = socketAddress(req);
        return { client, forwardedFor: client };
      },
      fromTrustedHop: () => false,
    };
  }
  const hops = trust.mode === 'hops' ? trust.hops : 0;
  const compiled: TrustFunction = trust.mode === 'hops' ? (_address, hop) => hop < hops : proxyAddr.compile(trust.addresses);
  /** From the socket's peer outwards, ending with the client. An entry that is not an address (a proxy passed junk on) is not a client: the proxy that passed it is. */
  const addresses = (req: IncomingMessage): string[] => {
    const all = proxyAddr.all(req, compiled);
    if (all.length > 1 && isIP(all[all.length - 1]!) === 0) all.pop();
    return all;
  };
  return {
    trust: compiled,
    of(req) {
      if (req.headers['x-forwarded-for'] === undefined) return socketAddress(req);
      const all = addresses(req);
      return all[all.length - 1] ?? 'unknown';
    },
    chain(req) {
      if (req.headers['x-forwarded-for'] === undefined) {
        const client = socketAddress(req);
        return { client, forwardedFor: client };
      }
      const all = addresses(req);
      return { client: all[all.length - 1] ?? 'unknown', forwardedFor: all.reverse().join(', ') };
    },
    fromTrustedHop: (req) => req.socket.remoteAddress !== undefined && compiled(req.socket.remoteAddress, 0),
  };
}

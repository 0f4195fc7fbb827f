import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The address of the client behind a request: the socket's peer, unless that peer is a trusted
 * proxy, in which case `X-Forwarded-For` is followed back to the first address that is not one
 * (an untrusted peer's header is ignored, so it cannot pose as someone else).
 */
export class ClientAddresses {
  /** proxy-addr's compiled trust function (also handed to Express as `trust proxy`). */
  readonly trust: (address: string, hop: number) => boolean;

  constructor(private readonly trustedProxies: readonly string[]) {
    try {
      this.trust = proxyaddr.compile([...trustedProxies]);
    } catch (error) {
      throw new Error(
        `TRUSTED_PROXIES: ${(error as Error).message} (use addresses, CIDR ranges, loopback, linklocal or uniquelocal)`,
        {
          cause: error,
        },
      );
    }
  }

  addressOf(req: IncomingMessage): string {
    if (!req.socket.remoteAddress) return 'unknown';
    return proxyaddr(req, this.trust);
  }

  /** The host names the page was requested under: `Host`, and `X-Forwarded-Host` when a trusted proxy set it. */
  hostsOf(req: IncomingMessage): string[] {
    const hosts = req.headers.host ? [req.headers.host] : [];
    const forwarded = req.headers['x-forwarded-host'];
    if (typeof forwarded === 'string' && req.socket.remoteAddress && this.trust(req.socket.remoteAddress, 0)) {
      hosts.push(...forwarded.split(',').map((host) => host.trim()));
    }
    return hosts;
  }
}

/** Hosts a browser page may call from on any port: the user's own machine. */
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Which browser origins may call the API (CORS) and open its WebSockets: the page's own origin,
 * localhost and 127.0.0.1 on any port, and the listed ones (`*` lists every origin). A request
 * without `Origin` is not from a browser page on another origin and is let through.
 */
export class OriginPolicy {
  private readonly anyOrigin: boolean;
  private readonly listed: Set<string>;

  constructor(corsOrigins: readonly string[]) {
    this.anyOrigin = corsOrigins.includes('*');
    this.listed = new Set(
      corsOrigins
        .filter((origin) => origin !== '*')
        .map((origin) => {
          try {
            return new URL(origin).origin;
          } catch {
            throw new Error(`CORS_ORIGINS entry '${origin}' is not an origin such as https://tutor.example.com`);
          }
        }),
    );
  }

  /**
   * @param origin the request's `Origin` header
   * @param ownHosts the host names the page itself was served under (`Host`, and
   *   `X-Forwarded-Host` from a trusted proxy)
   */
  allows(origin: string | undefined, ownHosts: readonly string[]): boolean {
    if (origin === undefined) return true;
    if (this.anyOrigin) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // `null` (sandboxed frames, file://) and garbage
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (LOCAL_HOSTNAMES.has(url.hostname)) return true;
    if (ownHosts.some((host) => host.toLowerCase() === url.host)) return true;
    return this.listed.has(url.origin);
  }
}

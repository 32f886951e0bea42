/**
 * Defaults of `dnssd serve`'s limits, in a module of their own so the
 * command can show them in --help without loading the server.
 */
export const SERVE_DEFAULTS = {
  /** UDP responses per second per /24 or /56 to clients without a valid cookie. */
  rateLimit: 100,
  /** The largest UDP response to a client without a valid server cookie: the pre-EDNS limit (RFC 1035 §4.2.1). */
  udpSizeWithoutCookie: 512,
  tcpClients: 256,
  tcpIdleMs: 10_000,
} as const

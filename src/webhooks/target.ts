/**
 * Outbound safety for webhook targets. An endpoint URL is written by whoever edits the configuration, but the
 * name in it resolves through DNS at send time, so it could point at the loopback interface, the cloud
 * metadata service (169.254.169.254) or an internal network, and a name can resolve to a public address when
 * checked and to a private one when connecting (DNS rebinding). So the check is made on the address the
 * socket actually connects to: inside the DNS lookup the connection uses, and again for IP literals (which
 * Node connects to without a lookup). Refused unless the endpoint sets `allow_private_targets: true`.
 */
import dns from 'node:dns';
import net from 'node:net';

/** Ranges no webhook reaches by default: this host, link-local, private networks and special-purpose blocks. */
const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(address, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, which would reach that IPv4 host. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m?.[1] !== undefined) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Why an address is refused as a webhook target, or null when it is a public address. */
export function blockedReason(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) return blockedReason(v4);
    return BLOCKED.check(address, 'ipv6') ? `${address} is a loopback, link-local, private or reserved address` : null;
  }
  return BLOCKED.check(address, 'ipv4') ? `${address} is a loopback, link-local, private or reserved address` : null;
}

export class TargetRefused extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request: resolves as usual, then refuses the connection when any address it would
 * use is blocked. Passed to the request, so the check covers the very resolution the socket connects with.
 */
export function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err !== null) return callback(err, []);
      const list = addresses;
      if (!allowPrivate) {
        for (const a of list) {
          const reason = blockedReason(a.address);
          if (reason !== null) return callback(new TargetRefused(`${hostname} resolves to ${reason}`) as NodeJS.ErrnoException, []);
        }
      }
      if (options.all === true) return callback(null, list);
      const first = list[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  }) as net.LookupFunction;
}

/** An IP literal host is connected to without a lookup: check it directly. Null when allowed. */
export function literalRefusal(hostname: string, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return net.isIP(host) === 0 ? null : blockedReason(host);
}

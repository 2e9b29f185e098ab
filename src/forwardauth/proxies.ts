/** Whether the TCP peer is one of `forward_auth.trusted_proxies` (node:net's BlockList does the CIDR math). */
import { BlockList, isIP } from 'node:net';
import type { IpRange } from '../configuration/types.js';

export type PeerCheck = (address: string | undefined) => boolean;

export function trustedPeers(ranges: readonly IpRange[]): PeerCheck {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return (address) => {
    if (address === undefined) return false;
    // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the configuration names it a.b.c.d.
    const plain = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
    const version = isIP(plain);
    if (version === 0) return false;
    return list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Whether the TCP peer is one of `forward_auth.trusted_proxies` (node:net's BlockList does the CIDR math). */
import { BlockList, isIP } from 'node:net';
import type { IpRange } from '../configuration/types.js';

export type PeerCheck = (address: string | undefined) => boolean;

/** Distinct peer addresses remembered per configuration (proxies are few; past this, start over). */
const REMEMBERED = 1024;

export function trustedPeers(ranges: readonly IpRange[]): PeerCheck {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  // The answer per address: asked on every check, and BlockList builds a SocketAddress each time.
  const known = new Map<string, boolean>();
  return (address) => {
    if (address === undefined) return false;
    const seen = known.get(address);
    if (seen !== undefined) return seen;
    if (known.size >= REMEMBERED) known.clear();
    const answer = check(list, address);
    known.set(address, answer);
    return answer;
  };
}

function check(list: BlockList, address: string): boolean {
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the configuration names it a.b.c.d.
  const plain = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
  const version = isIP(plain);
  if (version === 0) return false;
  return list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
}

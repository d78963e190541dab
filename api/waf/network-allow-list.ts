import net from 'node:net';

// Source-network allow-lists per channel (CIDR), checked with node's BlockList.

export interface NetworkAllowList {
  allows(address: string): boolean;
}

export function createNetworkAllowList(cidrs: readonly string[]): NetworkAllowList | null {
  if (cidrs.length === 0) return null;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr, prefix] = cidr.split('/');
    const type = addr && net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (!addr || !net.isIP(addr)) throw new Error(`allowed network ${JSON.stringify(cidr)} is not an IP or CIDR`);
    const bits = prefix === undefined ? (type === 'ipv4' ? 32 : 128) : Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (type === 'ipv4' ? 32 : 128)) {
      throw new Error(`allowed network ${JSON.stringify(cidr)} has a bad prefix length`);
    }
    list.addSubnet(addr, bits, type);
  }
  return {
    allows(address: string): boolean {
      const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
      const type = net.isIPv6(plain) ? 'ipv6' : 'ipv4';
      return list.check(plain, type);
    },
  };
}

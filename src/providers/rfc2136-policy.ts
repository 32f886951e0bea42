/**
 * The grant a self-hosted primary needs for dnssd's key, and no more: A and
 * AAAA (hosts, --a-record names) and TXT (the _dnssd markers) below the zone;
 * SRV, TXT and PTR under _tcp/_udp service names; the RFC 6763 §9 PTR at
 * _services._dns-sd._udp; never the apex, NS or SOA. Plus the zone transfer
 * the provider reads with. Printed by `dnssd policy rfc2136`; the e2e tests
 * configure their BIND and Knot primaries from this text.
 */
export type PolicyServer = 'bind' | 'knot'

export interface Rfc2136PolicyInput {
  zone: string
  keyName: string
  algorithm: string
}

/** The lines inside a BIND zone statement. */
export function bindZonePolicy(p: Rfc2136PolicyInput): string {
  const z = `${p.zone}.`
  return `  update-policy {
    grant ${p.keyName} wildcard *.${z} A AAAA TXT;
    grant ${p.keyName} wildcard *._tcp.${z} SRV TXT PTR;
    grant ${p.keyName} wildcard *._udp.${z} SRV TXT PTR;
    grant ${p.keyName} name _services._dns-sd._udp.${z} PTR;
  };
  allow-transfer { key ${p.keyName}; };`
}

/** Knot's ACLs: one update ACL limited to dnssd's record types below the zone, one transfer ACL. */
export function knotAcl(p: Rfc2136PolicyInput): string {
  const id = p.keyName.replace(/[^A-Za-z0-9_-]/g, '_')
  return `acl:
  - id: ${id}_update
    key: ${p.keyName}
    action: update
    update-type: [A, AAAA, SRV, TXT, PTR]
  - id: ${id}_transfer
    key: ${p.keyName}
    action: transfer`
}

export function knotAclIds(p: Rfc2136PolicyInput): string[] {
  const id = p.keyName.replace(/[^A-Za-z0-9_-]/g, '_')
  return [`${id}_update`, `${id}_transfer`]
}

export function rfc2136Policy(p: Rfc2136PolicyInput, server: PolicyServer, keyFile?: string): string {
  if (server === 'bind') {
    return `# named.conf: the key (as tsig-keygen wrote it) and the zone's grant
include "${keyFile ?? `/etc/bind/${p.keyName}.key`}";
zone "${p.zone}" {
  type primary;
  file "/var/lib/bind/${p.zone}.db";
${bindZonePolicy(p)}
};
`
  }
  return `# knot.conf: define the key (id ${p.keyName}, algorithm ${p.algorithm}) under key:, then
${knotAcl(p)}
zone:
  - domain: ${p.zone}
    acl: [${knotAclIds(p).join(', ')}]
`
}

// Where the controller may call out on a plan's behalf, and what it may send there. A plan author
// chooses the URLs of Prometheus, webhook checks and notifications; without limits the controller
// would call anything its pod can reach (cloud metadata endpoints, the API server, other tenants'
// services) and carry credentials there. Two rules, checked before any request and before any
// Secret is read:
//   - `--allowed-hosts`: when the operator set it, a URL's host must match one of its entries.
//   - credentials never travel over plain http to a host outside the cluster unless the plan says
//     so, because anyone on the path could read them.
import { BlockList, isIP } from 'node:net';

/** The CLI flag, as messages name it. */
export const ALLOWED_HOSTS_FLAG = '--allowed-hosts';

export class InvalidAllowedHost extends Error {
  override readonly name = 'InvalidAllowedHost';
  constructor(readonly entry: string, reason: string) {
    super(`"${entry}" in ${ALLOWED_HOSTS_FLAG} ${reason}`);
  }
}

/** A URL's hostname as hosts are compared: lowercase, IPv6 without brackets, no trailing dot
 * (`prom.monitoring.svc.` is the same host as `prom.monitoring.svc`). */
export function normalizeHost(hostname: string): string {
  const lower = hostname.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?)*$/;

/**
 * The hosts `--allowed-hosts` admits: exact host names, `*.suffix` wildcards (any name below the
 * suffix, not the suffix itself) and IPv4/IPv6 CIDRs (`10.0.0.0/8`, `fd00::/8`), or single IP
 * addresses. Names are matched as written in the URL and are never resolved, so a CIDR admits
 * only URLs that name an IP address.
 */
export class AllowedHosts {
  private constructor(
    private readonly names: ReadonlySet<string>,
    private readonly suffixes: readonly string[],
    private readonly addresses: BlockList,
    readonly entries: readonly string[],
  ) {}

  /** Parses the flag's comma-separated list. Throws InvalidAllowedHost naming the bad entry. */
  static parse(text: string): AllowedHosts {
    const entries = text.split(',').map((e) => e.trim());
    if (entries.every((e) => e === '')) throw new InvalidAllowedHost(text, `lists no hosts; leave ${ALLOWED_HOSTS_FLAG} out to allow every host`);
    const names = new Set<string>();
    const suffixes: string[] = [];
    const addresses = new BlockList();
    for (const entry of entries) {
      if (entry === '') throw new InvalidAllowedHost(text, 'has an empty entry (two commas in a row, or one at an end)');
      const lower = entry.toLowerCase();
      if (lower.includes('://')) throw new InvalidAllowedHost(entry, 'is a URL; write only its host, without scheme, port or path');
      if (lower.includes('/')) {
        addSubnet(addresses, entry);
      } else if (isIP(normalizeHost(lower)) !== 0) {
        const ip = normalizeHost(lower);
        addresses.addAddress(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
      } else if (lower.startsWith('*.')) {
        const suffix = normalizeHost(lower.slice(2));
        if (!HOST_NAME.test(suffix)) throw new InvalidAllowedHost(entry, 'is not a wildcard of the form *.example.com');
        suffixes.push(`.${suffix}`);
      } else {
        const name = normalizeHost(lower);
        if (!HOST_NAME.test(name)) throw new InvalidAllowedHost(entry, 'is not a host name, a *.suffix wildcard, an IP address or a CIDR (write hosts without scheme, port or path)');
        names.add(name);
      }
    }
    return new AllowedHosts(names, suffixes, addresses, entries);
  }

  /** Whether a URL's hostname (`new URL(u).hostname`) is admitted. */
  allows(hostname: string): boolean {
    const host = normalizeHost(hostname);
    const family = isIP(host);
    if (family !== 0) return this.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    return this.names.has(host) || this.suffixes.some((s) => host.endsWith(s));
  }

  toString(): string {
    return this.entries.join(',');
  }
}

function addSubnet(list: BlockList, entry: string): void {
  const [network = '', prefixText = '', ...rest] = entry.split('/');
  const ip = normalizeHost(network);
  const family = isIP(ip);
  const max = family === 6 ? 128 : 32;
  const prefix = Number(prefixText);
  if (rest.length > 0 || family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > max) {
    throw new InvalidAllowedHost(entry, `is not a CIDR such as 10.0.0.0/8 or fd00::/8 (prefix 0-${family === 6 ? 128 : 32})`);
  }
  list.addSubnet(ip, prefix, family === 6 ? 'ipv6' : 'ipv4');
}

/** What the operator configured for every outbound call of this process. */
export interface OutboundPolicy {
  /** Absent: every host is allowed. */
  allowedHosts?: AllowedHosts;
}

/** No --allowed-hosts: every host may be called (the controller warns about it at start). */
export const ALLOW_ALL_HOSTS: OutboundPolicy = Object.freeze({});

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4'); // also matches IPv4-mapped ::ffff:127.x.y.z
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Whether `hostname` names something inside the cluster (or this machine): a Service name in the
 * cluster's DNS (`name`, `name.namespace`, `….svc`, `….svc.cluster.local`) or loopback. Traffic
 * to these stays on the cluster network. `name.namespace` cannot be told from a two-label public
 * name such as `example.com` by its spelling; --allowed-hosts is what keeps hostile hosts out.
 */
export function isInClusterHost(hostname: string): boolean {
  const host = normalizeHost(hostname);
  if (isLoopback(host)) return true;
  if (isIP(host) !== 0) return false;
  if (host.endsWith('.svc') || host.endsWith('.svc.cluster.local')) return true;
  return host.split('.').length <= 2;
}

/** Why the controller refuses to call `url`, or undefined when it may. Checked before any Secret
 * is read and before any request is sent. */
export function refuseDestination(
  url: URL,
  how: {
    policy: OutboundPolicy;
    /** What the call carries that must not leak: "a bearer token", "basic auth", "a URL from a Secret". */
    credentials?: string;
    /** The plan field that allows credentials over plain http, when there is one and it is set. */
    credentialsOverHttp?: { allowed: boolean; field: string };
  },
): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} URLs are not called; use http or https`;
  // fetch refuses these anyway, with an error that would quote the URL, password and all.
  if (url.username !== '' || url.password !== '') return 'a URL with a user name or password in it (user:pass@) is not called: send credentials from a Secret or in a header';
  const host = normalizeHost(url.hostname);
  if (how.policy.allowedHosts !== undefined && !how.policy.allowedHosts.allows(host)) {
    return `host "${host}" is not in the controller's ${ALLOWED_HOSTS_FLAG}; the operator must add it to call it`;
  }
  if (how.credentials !== undefined && url.protocol === 'http:' && !isInClusterHost(host) && how.credentialsOverHttp?.allowed !== true) {
    const optIn = how.credentialsOverHttp === undefined ? 'use https' : `use https, or set ${how.credentialsOverHttp.field}: true`;
    return `${how.credentials} is not sent over plain http to "${host}", which is outside the cluster: ${optIn}`;
  }
  return undefined;
}

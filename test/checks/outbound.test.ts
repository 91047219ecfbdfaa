// Where the controller may call out: --allowed-hosts, the in-cluster test, and the refusals.
import { AllowedHosts, InvalidAllowedHost, isInClusterHost, refuseDestination } from '../../src/checks/outbound';

describe('AllowedHosts', () => {
  const hosts = AllowedHosts.parse('prom.monitoring.svc, *.corp.example, Hooks.Slack.com, 10.0.0.0/8, fd00::/8, 192.168.1.7, ::1');

  it.each([
    ['an exact name', 'prom.monitoring.svc', true],
    ['an exact name, any case, trailing dot', 'PROM.monitoring.svc.', true],
    ['a name below a wildcard', 'grafana.corp.example', true],
    ['a name two levels below a wildcard', 'a.b.corp.example', true],
    ['the wildcard\'s suffix itself', 'corp.example', false],
    ['a name that only ends with the suffix\'s text', 'evilcorp.example', false],
    ['an entry written in capitals', 'hooks.slack.com', true],
    ['an IPv4 address in a CIDR', '10.20.30.40', true],
    ['an IPv4 address outside it', '11.0.0.1', false],
    ['an IPv6 address in a CIDR (URL brackets)', '[fd00::1]', true],
    ['an IPv6 address outside it', '[fe80::1]', false],
    ['a single IPv4 address', '192.168.1.7', true],
    ['its neighbour', '192.168.1.8', false],
    ['a single IPv6 address', '[::1]', true],
    ['an IPv4-mapped IPv6 address in an IPv4 CIDR', '[::ffff:a00:1]', true],
    ['the metadata endpoint', '169.254.169.254', false],
    ['another name', 'evil.example.com', false],
    ['a name that spells an allowed IP\'s prefix', '10.evil.example', false],
  ])('%s: %s -> %s', (_what, host, allowed) => {
    expect(hosts.allows(host)).toBe(allowed);
  });

  it.each([
    ['', 'lists no hosts'],
    [' , ', 'lists no hosts'],
    ['a,,b', 'empty entry'],
    ['a,', 'empty entry'],
    ['10.0.0.0/33', 'is not a CIDR'],
    ['10.0.0.0/x', 'is not a CIDR'],
    ['fd00::/129', 'is not a CIDR'],
    ['example.com/8', 'is not a CIDR'],
    ['http://prom:9090', 'is a URL; write only its host'],
    ['prom:9090', 'is not a host name'],
    ['*.', 'is not a wildcard'],
    ['a*.example', 'is not a host name'],
    ['*example.com', 'is not a host name'],
  ])('refuses %j (%s)', (text, reason) => {
    expect(() => AllowedHosts.parse(text)).toThrow(InvalidAllowedHost);
    expect(() => AllowedHosts.parse(text)).toThrow(reason);
  });

  it('prints back as the flag was given', () => {
    expect(AllowedHosts.parse('a.svc, *.b').toString()).toBe('a.svc,*.b');
  });
});

describe('isInClusterHost', () => {
  it.each([
    ['prometheus', true],
    ['prometheus.monitoring', true],
    ['prometheus.monitoring.svc', true],
    ['prometheus.monitoring.svc.cluster.local', true],
    ['prometheus.monitoring.svc.cluster.local.', true],
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['[::1]', true],
    ['[::ffff:127.0.0.1]', true],
    ['prometheus.example.com', false],
    ['hooks.slack.com', false],
    ['10.0.0.5', false],
    ['[fd00::5]', false],
    ['svc.evil.example', false],
  ])('%s -> %s', (host, inCluster) => {
    expect(isInClusterHost(host)).toBe(inCluster);
  });
});

describe('refuseDestination', () => {
  const open = {};
  const limited = { allowedHosts: AllowedHosts.parse('prom.example.com,127.0.0.1') };
  const token = 'the bearer token (bearerTokenFrom)';
  const overHttp = (allowed: boolean) => ({ allowed, field: 'analysis.prometheus.allowCredentialsOverHttp' });

  it.each([
    ['any host without --allowed-hosts', 'https://anything.example/x', { policy: open }],
    ['an allowed host', 'https://prom.example.com/x', { policy: limited }],
    ['credentials over https anywhere', 'https://prom.example.com/', { policy: open, credentials: token, credentialsOverHttp: overHttp(false) }],
    ['credentials over http in the cluster', 'http://prometheus.monitoring:9090/', { policy: open, credentials: token, credentialsOverHttp: overHttp(false) }],
    ['credentials over http to loopback', 'http://127.0.0.1:9090/', { policy: limited, credentials: token, credentialsOverHttp: overHttp(false) }],
    ['credentials over http outside, when the plan allows it', 'http://prom.example.com/', { policy: limited, credentials: token, credentialsOverHttp: overHttp(true) }],
    ['plain http outside without credentials', 'http://prom.example.com/', { policy: limited }],
  ])('allows %s', (_what, url, how) => {
    expect(refuseDestination(new URL(url), how)).toBeUndefined();
  });

  it.each([
    ['a host outside --allowed-hosts, naming the host and the flag', 'https://evil.example/x', { policy: limited }, 'host "evil.example" is not in the controller\'s --allowed-hosts; the operator must add it to call it'],
    ['the metadata endpoint', 'http://169.254.169.254/latest/meta-data', { policy: limited }, 'host "169.254.169.254" is not in the controller\'s --allowed-hosts'],
    [
      'credentials over http outside the cluster, naming the plan field',
      'http://prom.example.com:9090/',
      { policy: open, credentials: token, credentialsOverHttp: overHttp(false) },
      'the bearer token (bearerTokenFrom) is not sent over plain http to "prom.example.com", which is outside the cluster: use https, or set analysis.prometheus.allowCredentialsOverHttp: true',
    ],
    [
      'a URL from a Secret over http outside the cluster, with no plan opt-in',
      'http://hooks.example.com/T/B/X',
      { policy: open, credentials: 'a URL from a Secret' },
      'a URL from a Secret is not sent over plain http to "hooks.example.com", which is outside the cluster: use https',
    ],
    ['userinfo', 'https://u:p@prom.example.com/', { policy: open }, 'a URL with a user name or password in it (user:pass@) is not called'],
    ['another scheme', 'file:///etc/passwd', { policy: open }, 'file: URLs are not called; use http or https'],
  ])('refuses %s', (_what, url, how, message) => {
    expect(refuseDestination(new URL(url), how)).toContain(message);
  });
});

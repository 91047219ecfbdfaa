// Discovery documents (the legacy, unaggregated forms). kubectl 1.32 asks for aggregated
// discovery (apidiscovery.k8s.io/v2) first; a server that answers plain application/json makes
// it fall back to these, which is what kube-apiservers before v1.26 do.
import { ResourceType } from './resources';

export class TypeRegistry {
  private readonly byPlural = new Map<string, ResourceType>();

  add(type: ResourceType): void {
    this.byPlural.set(`${type.group}/${type.plural}`, type);
  }

  remove(group: string, plural: string): void {
    this.byPlural.delete(`${group}/${plural}`);
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    const type = this.byPlural.get(`${group}/${plural}`);
    return type && type.versions.includes(version) ? type : undefined;
  }

  all(): ResourceType[] {
    return [...this.byPlural.values()];
  }

  /** Groups (other than core) in a stable order: built-ins first as registered, then CRDs. */
  groups(): Array<{ name: string; versions: string[] }> {
    const groups = new Map<string, string[]>();
    for (const type of this.byPlural.values()) {
      if (!type.group) continue;
      const versions = groups.get(type.group) ?? [];
      for (const v of type.versions) if (!versions.includes(v)) versions.push(v);
      groups.set(type.group, versions);
    }
    return [...groups.entries()].map(([name, versions]) => ({ name, versions: sortVersions(versions) }));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.includes(version));
  }
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (v1 > v1beta2 > v1alpha1). */
export function sortVersions(versions: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stability = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const [sa, ma, na] = rank(a);
    const [sb, mb, nb] = rank(b);
    return sb - sa || mb - ma || nb - na;
  });
}

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-localkube',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDocument(group: { name: string; versions: string[] }): Record<string, unknown> {
  const versions = group.versions.map((v) => ({ groupVersion: `${group.name}/${v}`, version: v }));
  return { name: group.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: TypeRegistry): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map(groupDocument) };
}

export function apiGroup(registry: TypeRegistry, name: string): Record<string, unknown> | undefined {
  const group = registry.groups().find((g) => g.name === name);
  return group ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(group) } : undefined;
}

export function apiResourceList(registry: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0 && group !== '') return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const t of types) {
    const entry: Record<string, unknown> = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames.length) entry.shortNames = t.shortNames;
    if (t.categories.length) entry.categories = t.categories;
    resources.push(entry);
    if (t.statusSubresource) {
      resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    for (const sub of t.subresources ?? []) {
      // A subresource of another kind names its group and version (serviceaccounts/token is an authentication.k8s.io/v1 TokenRequest).
      resources.push({ name: `${t.plural}/${sub.name}`, singularName: '', namespaced: t.namespaced, group: sub.group, version: sub.version, kind: sub.kind, verbs: sub.verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

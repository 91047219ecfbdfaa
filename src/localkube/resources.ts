// What the server serves: one ResourceType per plural, for the built-in kinds trafficshift
// touches and for every registered CRD. Discovery, routing, validation and table printing all
// read from here.
import { JSONSchemaProps } from './schema';
import { humanDuration } from './table';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** A Table column of a built-in kind, computed by a function instead of a JSONPath. */
export interface BuiltinColumn {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (obj: Record<string, unknown>) => unknown;
}

export interface ResourceType {
  group: string;
  /** Served versions; the first is the preferred (storage) version. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  statusSubresource: boolean;
  /** Custom resources: schema and printer columns per version. */
  custom?: {
    schemas: Map<string, JSONSchemaProps | undefined>;
    columns: Map<string, PrinterColumn[]>;
  };
  /** Built-ins: table columns after Name (and before Age). */
  columns?: BuiltinColumn[];
  /** Built-ins whose printer has no leading Name and trailing Age (Events): `columns` is the whole row. */
  columnsComplete?: boolean;
  /** Whether metadata.generation is maintained (bumps on spec change). */
  tracksGeneration: boolean;
  /** Extra field selector labels the real server supports for this kind. */
  fieldLabels: readonly string[];
  /** Create-only virtual resources (reviews): never stored. */
  virtual?: boolean;
  /** Subresources other than status, each of its own kind (serviceaccounts/token: TokenRequest). */
  subresources?: Subresource[];
}

export interface Subresource {
  name: string;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function resourceKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function get(obj: Record<string, unknown>, path: string): unknown {
  let current: unknown = obj;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Age-like text for a timestamp, as kubectl's event printer shows "Last Seen" (and the binding printers their Age). */
function sinceCell(value: unknown): string {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? '<unknown>' : humanDuration(Date.now() - t);
}

function joinOrNone(values: unknown[]): string {
  const strings = values.filter((v) => v !== undefined && v !== null && v !== '').map(String);
  return strings.length ? strings.join(',') : '<none>';
}

/** rbac.SubjectsStrings: users, groups and service accounts (namespace/name) of a binding. */
function subjectsOf(o: Record<string, unknown>, kind: string): string {
  const subjects = (get(o, 'subjects') as Array<Record<string, unknown>> | undefined) ?? [];
  return subjects
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${String(s.namespace ?? '')}/${String(s.name ?? '')}` : String(s.name ?? '')))
    .join(', ');
}

/** The printer of RoleBindings and ClusterRoleBindings: Age comes before the wide columns. */
function bindingColumns(): BuiltinColumn[] {
  return [
    { name: 'Name', type: 'string', format: 'name', cell: (o) => get(o, 'metadata.name') },
    { name: 'Role', type: 'string', cell: (o) => `${String(get(o, 'roleRef.kind') ?? '')}/${String(get(o, 'roleRef.name') ?? '')}` },
    { name: 'Age', type: 'string', cell: (o) => sinceCell(get(o, 'metadata.creationTimestamp')) },
    { name: 'Users', type: 'string', priority: 1, cell: (o) => subjectsOf(o, 'User') },
    { name: 'Groups', type: 'string', priority: 1, cell: (o) => subjectsOf(o, 'Group') },
    { name: 'ServiceAccounts', type: 'string', priority: 1, cell: (o) => subjectsOf(o, 'ServiceAccount') },
  ];
}

const RBAC_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(partial: Omit<ResourceType, 'listKind' | 'categories' | 'verbs' | 'statusSubresource' | 'tracksGeneration' | 'fieldLabels' | 'shortNames'> & Partial<ResourceType>): ResourceType {
  return {
    listKind: `${partial.kind}List`,
    categories: [],
    verbs: ALL_VERBS,
    statusSubresource: false,
    tracksGeneration: false,
    fieldLabels: [],
    shortNames: [],
    ...partial,
  };
}

export function builtinResources(): ResourceType[] {
  return [
    builtin({
      group: '', versions: ['v1'], plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
      shortNames: ['ns'], statusSubresource: true, fieldLabels: ['status.phase'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      columns: [{ name: 'Status', type: 'string', cell: (o) => get(o, 'status.phase') }],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'services', singular: 'service', kind: 'Service', namespaced: true,
      shortNames: ['svc'], categories: ['all'], statusSubresource: true,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      columns: [
        { name: 'Type', type: 'string', cell: (o) => get(o, 'spec.type') },
        { name: 'Cluster-IP', type: 'string', cell: (o) => get(o, 'spec.clusterIP') },
        { name: 'External-IP', type: 'string', cell: (o) => joinOrNone((get(o, 'spec.externalIPs') as unknown[]) ?? []) },
        {
          name: 'Port(s)', type: 'string',
          cell: (o) => joinOrNone(((get(o, 'spec.ports') as Array<Record<string, unknown>>) ?? []).map((p) => `${String(p.port)}/${String(p.protocol ?? 'TCP')}`)),
        },
        { name: 'Selector', type: 'string', priority: 1, cell: (o) => joinOrNone(Object.entries((get(o, 'spec.selector') as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`)) },
      ],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true,
      shortNames: ['po'], categories: ['all'], statusSubresource: true,
      fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
      columns: [
        {
          name: 'Ready', type: 'string',
          cell: (o) => {
            const statuses = (get(o, 'status.containerStatuses') as Array<Record<string, unknown>> | undefined) ?? [];
            const containers = (get(o, 'spec.containers') as unknown[] | undefined) ?? [];
            return `${statuses.filter((s) => s.ready === true).length}/${containers.length}`;
          },
        },
        { name: 'Status', type: 'string', cell: (o) => get(o, 'status.phase') },
        { name: 'Restarts', type: 'string', cell: (o) => String(((get(o, 'status.containerStatuses') as Array<Record<string, unknown>> | undefined) ?? []).reduce((n, s) => n + Number(s.restartCount ?? 0), 0)) },
        { name: 'IP', type: 'string', priority: 1, cell: (o) => get(o, 'status.podIP') ?? '<none>' },
        { name: 'Node', type: 'string', priority: 1, cell: (o) => get(o, 'spec.nodeName') ?? '<none>' },
      ],
    }),
    builtin({
      group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true,
      columns: [
        { name: 'AddressType', type: 'string', cell: (o) => o.addressType },
        { name: 'Ports', type: 'string', cell: (o) => joinOrNone(((o.ports as Array<Record<string, unknown>> | null | undefined) ?? []).map((p) => String(p.port ?? ''))) },
        { name: 'Endpoints', type: 'string', cell: (o) => joinOrNone(((o.endpoints as Array<Record<string, unknown>> | null | undefined) ?? []).flatMap((e) => (e.addresses as string[] | undefined) ?? [])) },
      ],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true,
      shortNames: ['cm'],
      columns: [{ name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length }],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, fieldLabels: ['type'],
      columns: [
        { name: 'Type', type: 'string', cell: (o) => o.type },
        { name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as object) ?? {}).length },
      ],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
      fieldLabels: [
        'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
        'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
        'reportingComponent', 'source', 'type',
      ],
      columnsComplete: true,
      columns: [
        { name: 'Last Seen', type: 'string', cell: (o) => sinceCell(o.eventTime ?? o.lastTimestamp ?? get(o, 'series.lastObservedTime') ?? get(o, 'metadata.creationTimestamp')) },
        { name: 'Type', type: 'string', cell: (o) => o.type },
        { name: 'Reason', type: 'string', cell: (o) => o.reason },
        { name: 'Object', type: 'string', cell: (o) => `${String(get(o, 'involvedObject.kind') ?? '').toLowerCase()}/${String(get(o, 'involvedObject.name') ?? '')}` },
        { name: 'Subobject', type: 'string', priority: 1, cell: (o) => get(o, 'involvedObject.fieldPath') ?? '' },
        { name: 'Source', type: 'string', priority: 1, cell: (o) => get(o, 'source.component') ?? o.reportingComponent ?? '' },
        { name: 'Message', type: 'string', cell: (o) => o.message },
        { name: 'First Seen', type: 'string', priority: 1, cell: (o) => sinceCell(o.firstTimestamp ?? o.eventTime) },
        { name: 'Count', type: 'string', priority: 1, cell: (o) => String(o.count ?? get(o, 'series.count') ?? 1) },
        { name: 'Name', type: 'string', priority: 1, cell: (o) => get(o, 'metadata.name') },
      ],
    }),
    builtin({
      group: '', versions: ['v1'], plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true,
      shortNames: ['sa'],
      // The real printer declares a string column and fills it with the count.
      columns: [{ name: 'Secrets', type: 'string', cell: (o) => ((o.secrets as unknown[] | undefined) ?? []).length }],
      subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
    }),
    builtin({
      group: 'networking.k8s.io', versions: ['v1'], plural: 'ingresses', singular: 'ingress', kind: 'Ingress', namespaced: true,
      shortNames: ['ing'], statusSubresource: true, tracksGeneration: true,
      columns: [
        { name: 'Class', type: 'string', cell: (o) => get(o, 'spec.ingressClassName') ?? '<none>' },
        { name: 'Hosts', type: 'string', cell: (o) => joinOrNone(((get(o, 'spec.rules') as Array<Record<string, unknown>>) ?? []).map((r) => r.host ?? '*')) },
        { name: 'Address', type: 'string', cell: (o) => joinOrNone(((get(o, 'status.loadBalancer.ingress') as Array<Record<string, unknown>>) ?? []).map((i) => i.ip ?? i.hostname)) },
        { name: 'Ports', type: 'string', cell: (o) => (get(o, 'spec.tls') ? '80, 443' : '80') },
      ],
    }),
    builtin({
      group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true,
      columns: [{ name: 'Holder', type: 'string', cell: (o) => get(o, 'spec.holderIdentity') ?? '' }],
    }),
    builtin({
      group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', singular: 'customresourcedefinition',
      kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'],
      statusSubresource: true, tracksGeneration: true,
      columns: [{ name: 'Created At', type: 'date', cell: (o) => get(o, 'metadata.creationTimestamp') }],
    }),
    builtin({
      group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterrolebindings', singular: 'clusterrolebinding',
      kind: 'ClusterRoleBinding', namespaced: false, verbs: RBAC_VERBS, columnsComplete: true, columns: bindingColumns(),
    }),
    builtin({
      group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole',
      namespaced: false, verbs: RBAC_VERBS,
      columns: [{ name: 'Created At', type: 'date', cell: (o) => get(o, 'metadata.creationTimestamp') }],
    }),
    builtin({
      group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding',
      namespaced: true, verbs: RBAC_VERBS, columnsComplete: true, columns: bindingColumns(),
    }),
    builtin({
      group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'roles', singular: 'role', kind: 'Role', namespaced: true,
      verbs: RBAC_VERBS,
      columns: [{ name: 'Created At', type: 'date', cell: (o) => get(o, 'metadata.creationTimestamp') }],
    }),
    builtin({
      group: 'authentication.k8s.io', versions: ['v1'], plural: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview',
      namespaced: false, verbs: ['create'], virtual: true,
    }),
    builtin({
      group: 'authentication.k8s.io', versions: ['v1'], plural: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview',
      namespaced: false, verbs: ['create'], virtual: true,
    }),
    builtin({
      group: 'authorization.k8s.io', versions: ['v1'], plural: 'subjectaccessreviews', singular: 'subjectaccessreview',
      kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'], virtual: true,
    }),
    builtin({
      group: 'authorization.k8s.io', versions: ['v1'], plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview',
      kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'], virtual: true,
    }),
    builtin({
      group: 'authorization.k8s.io', versions: ['v1'], plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview',
      kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'], virtual: true,
    }),
  ];
}

// One line for each way a steering command can fail outside the program: the cluster cannot be
// reached, it refused the credentials or the request, the plan or the CRD is not there. Worded as
// kubectl words them (`Error from server (NotFound): ...`), so people recognise them.
import { KubeError } from '../kube';
import { PLURAL, GROUP } from '../plan/schema';
import { PlanNotFound } from '../steering/requests';
import { NotAPlan } from '../steering/view';

export interface FailureContext {
  server: string;
  user: string;
}

const QUALIFIED = `${PLURAL}.${GROUP}`;

/** What the API server itself said: the Status message of its answer, without our prefix. */
export function serverMessage(error: KubeError): string {
  const body: unknown = (error.cause as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
    } catch {
      // not a Status object; fall back to our own message
    }
  }
  return error.message.replace(/^[A-Z]+ \S+: /, '').replace(/^\d{3} [A-Za-z]+: /, '');
}

export interface RequestInfo {
  verb: string;
  /** `migrationplans.trafficshift.io`, `ingresses.networking.k8s.io`, `services`. */
  resource: string;
  namespace?: string;
  name?: string;
}

/** The request a KubeError's message names (`PATCH /apis/g/v/namespaces/ns/plural/name: ...`),
 * as the verb and resource RBAC checks. */
export function requestOf(error: KubeError): RequestInfo | undefined {
  const match = /^(GET|POST|PUT|PATCH|DELETE) (\/\S+): /.exec(error.message);
  if (!match) return undefined;
  const [, method, path] = match as unknown as [string, string, string];
  const parts = path.split('?')[0]?.split('/').filter((p) => p !== '') ?? [];
  // /api/v1/... or /apis/<group>/<version>/...
  const group = parts[0] === 'api' ? '' : (parts[1] ?? '');
  let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1] ?? '');
    rest = rest.slice(2);
  }
  const plural = rest[0];
  if (plural === undefined) return undefined;
  const name = rest[1] === undefined ? undefined : decodeURIComponent(rest[1]);
  const verbs: Record<string, string> = { GET: name === undefined ? 'list' : 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  return {
    verb: verbs[method] ?? method.toLowerCase(),
    resource: group === '' ? plural : `${plural}.${group}`,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

function forbidden(error: KubeError, context: FailureContext): string {
  const said = serverMessage(error);
  const request = requestOf(error);
  if (request === undefined || said.includes(`cannot ${request.verb}`)) return `Error from server (Forbidden): ${said}`;
  const where = request.namespace === undefined ? '' : ` in the namespace "${request.namespace}"`;
  return `Error from server (Forbidden): ${said} (kubeconfig user "${context.user}" may not ${request.verb} ${request.resource}${where})`;
}

const CRD_MISSING = 'the server could not find the requested resource';

function crdMissing(context: FailureContext): string {
  return `error: the server ${context.server} doesn't have a resource type "${PLURAL}": is the trafficshift CRD installed? (kubectl apply -f manifests/crd.yaml)`;
}

function kubeFailure(error: KubeError, context: FailureContext): string {
  switch (error.status) {
    case 0: {
      if (error.reason === 'Unreachable') {
        const code = /unreachable \(([^)]+)\)/.exec(error.message)?.[1];
        return `error: cannot reach the Kubernetes API server at ${context.server}${code ? ` (${code})` : ''}: is the cluster up, and is this the right kubeconfig and context?`;
      }
      if (error.reason === 'Timeout') return `error: the Kubernetes API server at ${context.server} did not answer in time (${error.message.replace(/^[A-Z]+ \S+: /, '')})`;
      return `error: ${error.message}`;
    }
    case 401:
      return `error: the Kubernetes API server at ${context.server} did not accept the credentials of kubeconfig user "${context.user}" (401 Unauthorized)`;
    case 403:
      return forbidden(error, context);
    case 404:
      if (serverMessage(error) === CRD_MISSING) return crdMissing(context);
      return `Error from server (NotFound): ${serverMessage(error)}`;
    default:
      return `Error from server (${error.reason}): ${serverMessage(error)}`;
  }
}

/** The line for a failure a user can act on, or undefined for a bug (main prints those). */
export function describeFailure(error: unknown, context: FailureContext): string | undefined {
  if (error instanceof PlanNotFound) {
    const cause = error.cause instanceof KubeError ? error.cause : undefined;
    if (cause && serverMessage(cause) === CRD_MISSING) return crdMissing(context);
    return `Error from server (NotFound): ${QUALIFIED} "${error.plan.name}" not found in namespace "${error.plan.namespace}"`;
  }
  if (error instanceof KubeError) return kubeFailure(error, context);
  if (error instanceof NotAPlan) return `error: ${error.message}`;
  return undefined;
}

/** A one-line text for any error: newlines folded, for messages inside a sentence. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

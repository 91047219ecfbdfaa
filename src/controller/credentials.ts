// The one place the controller reads Secrets: the credentials a plan names (bearerTokenFrom,
// basicAuthFrom, a notification's urlFrom), by name, in the plan's own namespace.
//
// The controller may `get` every Secret its RBAC reaches, but whoever may write a plan must not
// thereby read any Secret beside it. So only Secrets someone labelled as trafficshift credentials
// are used, and a Secret without the label fails exactly like a missing one: the message (which
// the plan's status shows) never tells a plan author whether a Secret of that name exists.
import { Kube, toKubeError } from '../kube';

export const CREDENTIAL_LABEL = 'trafficshift.io/credential';

/** Reads one key of a credential Secret; the namespace is always the plan's own. */
export interface CredentialReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}

/** A Secret that is missing or lacks the label; one message for both. */
export class NotACredential extends Error {
  override readonly name = 'NotACredential';
  constructor(readonly secretName: string) {
    super(`secret "${secretName}" is not a trafficshift credential (it needs the label ${CREDENTIAL_LABEL}: "true") or does not exist`);
  }
}

export class CredentialReadFailed extends Error {
  override readonly name = 'CredentialReadFailed';
}

interface SecretView {
  metadata?: { labels?: Record<string, string> };
  data?: Record<string, string>;
}

/** The Secret reader checks and notifications use in a cluster. */
export function kubeCredentialReader(kube: Kube): CredentialReader {
  return {
    async read(namespace, name, key) {
      let secret: SecretView;
      try {
        secret = (await kube.get({ group: '', version: 'v1', plural: 'secrets', namespace, name })) as SecretView;
      } catch (error) {
        const e = toKubeError(error);
        if (e.status === 404) throw new NotACredential(name);
        // A Kubernetes NotFound message would name the Secret as missing; other failures do not
        // depend on whether it exists, so their cause is worth showing.
        throw new CredentialReadFailed(`cannot read secret "${name}" (${e.status === 0 ? e.reason : `${e.status} ${e.reason}`}): ${e.message}`, { cause: e });
      }
      if (secret.metadata?.labels?.[CREDENTIAL_LABEL] !== 'true') throw new NotACredential(name);
      const value = secret.data?.[key];
      if (value === undefined) throw new CredentialReadFailed(`secret "${name}" has no key "${key}"`);
      return Buffer.from(value, 'base64').toString('utf8');
    },
  };
}

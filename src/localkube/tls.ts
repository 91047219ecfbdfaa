// The PKI of a TLS-serving LocalKube: a self-signed CA made for this server alone and a serving
// certificate it signs, as kubeadm or kind set up for a real kube-apiserver. Clients trust the CA
// (certificate-authority-data in the kubeconfig), never "insecure-skip-tls-verify", so the same
// client code verifies the server here as it must against a real cluster.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

export interface ServingCertificates {
  /** The CA that signed `certPem`: what clients trust. */
  caPem: string;
  certPem: string;
  keyPem: string;
}

const generateRsa = promisify(generateKeyPair);

/** The names kube-apiserver's own serving certificate carries, plus the loopback addresses. */
export const DEFAULT_SERVING_HOSTS = [
  'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
  '127.0.0.1', '::1',
];

async function rsaKeyPair(): Promise<forge.pki.rsa.KeyPair> {
  // Node's native generator: node-forge's pure-JavaScript one takes seconds, and the native one
  // runs off the event loop, so two keys are made in parallel.
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

/** A positive serial of 128 random bits (RFC 5280 wants positive and at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  // Valid from a little before now: a client whose clock is behind still accepts it.
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 24 * 60 * 60 * 1000);
}

/**
 * A fresh CA and a serving certificate for `hosts` (DNS names and IP addresses, all put in the
 * subjectAltName: Go's TLS client ignores the CN).
 */
export async function generateServingCertificates(hosts: string[] = DEFAULT_SERVING_HOSTS, now = new Date()): Promise<ServingCertificates> {
  const [caKeys, servingKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);

  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca, now, 3650);
  // A PrintableString: Go's x509 parser (kubectl) refuses one holding '@', as client-go's own
  // "host@timestamp" names would be.
  const caName = [{ name: 'commonName', value: `localkube-ca-${Math.floor(now.getTime() / 1000)}` }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const cert = forge.pki.createCertificate();
  cert.publicKey = servingKeys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, 365);
  cert.setSubject([{ name: 'commonName', value: 'kube-apiserver' }]);
  cert.setIssuer(caName);
  const unique = [...new Set(hosts)];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
    {
      name: 'subjectAltName',
      // forge's type 7 (iPAddress) takes the textual address and encodes it itself.
      altNames: unique.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(servingKeys.privateKey),
  };
}

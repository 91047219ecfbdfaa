// CustomResourceDefinitions: validation of the CRD object itself (structural schemas, names,
// one storage version) and the ResourceType that serving one creates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { StatusError } from './errors';
import { isJsonObject, JsonObject } from './patch';
import { ResourceType, ALL_VERBS, PrinterColumn } from './resources';
import { JSONSchemaProps, structuralErrors } from './schema';

const CRD_GROUP = 'apiextensions.k8s.io';

const REASONS: Array<[string, string]> = [
  ['Required value', 'FieldValueRequired'],
  ['Forbidden', 'FieldValueForbidden'],
  ['Unsupported value', 'FieldValueNotSupported'],
  ['Invalid value', 'FieldValueInvalid'],
];

/** A 422 built from rendered field errors (`path: Reason: detail`). */
export function invalidFromMessages(kind: string, group: string, name: string, messages: string[]): StatusError {
  const summary = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kind}.${group} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: messages.map((m) => {
      const i = m.indexOf(': ');
      const field = i >= 0 ? m.slice(0, i) : '';
      const message = i >= 0 ? m.slice(i + 2) : m;
      const reason = REASONS.find(([text]) => message.startsWith(text))?.[1] ?? 'FieldValueInvalid';
      return { reason, message, field };
    }),
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Why the CRD would be refused by apiextensions-apiserver, as rendered field errors. */
export function crdErrors(crd: JsonObject): string[] {
  const out: string[] = [];
  const spec = isJsonObject(crd.spec) ? crd.spec : {};
  const names = isJsonObject(spec.names) ? spec.names : {};
  const group = str(spec.group);
  const plural = str(names.plural);
  const name = isJsonObject(crd.metadata) ? str(crd.metadata.name) : undefined;
  if (!group) out.push('spec.group: Required value');
  if (!plural) out.push('spec.names.plural: Required value');
  if (!str(names.kind)) out.push('spec.names.kind: Required value');
  if (plural && plural !== plural.toLowerCase()) out.push(`spec.names.plural: Invalid value: ${JSON.stringify(plural)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
  if (group && plural && name !== `${plural}.${group}`) {
    out.push(`metadata.name: Invalid value: ${JSON.stringify(name ?? '')}: must be spec.names.plural+"."+spec.group`);
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    out.push(`spec.scope: Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`);
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) out.push('spec.versions: Invalid value: null: must have exactly one version marked as storage version');
  else if (versions.filter((v) => isJsonObject(v) && v.storage === true).length !== 1) {
    out.push(`spec.versions: Invalid value: ${JSON.stringify(versions.map((v) => (isJsonObject(v) ? { name: v.name, served: v.served, storage: v.storage } : v)))}: must have exactly one version marked as storage version`);
  }
  versions.forEach((v, i) => {
    if (!isJsonObject(v)) return;
    if (!str(v.name)) out.push(`spec.versions[${i}].name: Required value`);
    const schema = isJsonObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (!isJsonObject(schema)) {
      out.push(`spec.versions[${i}].schema.openAPIV3Schema: Required value: schemas are required`);
      return;
    }
    out.push(...structuralErrors(schema, `spec.versions[${i}].schema.openAPIV3Schema`));
    const sub = isJsonObject(v.subresources) ? v.subresources : undefined;
    if (sub && sub.scale !== undefined) {
      // Scale is accepted by a real server; we do not serve it.
    }
  });
  return out;
}

export function validateCrd(crd: JsonObject): void {
  const errs = crdErrors(crd);
  if (errs.length > 0) {
    const name = isJsonObject(crd.metadata) ? String(crd.metadata.name ?? '') : '';
    throw invalidFromMessages('CustomResourceDefinition', CRD_GROUP, name, errs);
  }
}

/** The ResourceType a valid CRD serves. Versions with `served: false` are not served. */
export function resourceTypeFromCrd(crd: JsonObject): ResourceType {
  const spec = crd.spec as JsonObject;
  const names = spec.names as JsonObject;
  const versions = (spec.versions as JsonObject[]).filter((v) => v.served !== false);
  const storage = versions.find((v) => v.storage === true);
  const ordered = storage ? [storage, ...versions.filter((v) => v !== storage)] : versions;
  const schemas = new Map<string, JSONSchemaProps | undefined>();
  const columns = new Map<string, PrinterColumn[]>();
  let statusSubresource = false;
  for (const v of ordered) {
    const name = String(v.name);
    const schema = isJsonObject(v.schema) && isJsonObject(v.schema.openAPIV3Schema) ? (v.schema.openAPIV3Schema as JSONSchemaProps) : undefined;
    schemas.set(name, schema);
    columns.set(name, Array.isArray(v.additionalPrinterColumns) ? (v.additionalPrinterColumns as unknown as PrinterColumn[]) : []);
    if (isJsonObject(v.subresources) && v.subresources.status !== undefined) statusSubresource = true;
  }
  const kind = String(names.kind);
  return {
    group: String(spec.group),
    versions: ordered.map((v) => String(v.name)),
    plural: String(names.plural),
    singular: str(names.singular) ?? kind.toLowerCase(),
    kind,
    listKind: str(names.listKind) ?? `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
    categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
    verbs: ALL_VERBS,
    statusSubresource,
    custom: { schemas, columns },
    tracksGeneration: true,
    fieldLabels: [],
  };
}

const parsedFiles = new Map<string, { mtimeMs: number; crds: JsonObject[] }>();

/**
 * Every CustomResourceDefinition document in a YAML file (multi-document files allowed).
 * Parsed once per file version: the route CRDs are large and every test server loads them.
 */
export function readCrdFile(file: string): JsonObject[] {
  const mtimeMs = fs.statSync(file).mtimeMs;
  let cached = parsedFiles.get(file);
  if (!cached || cached.mtimeMs !== mtimeMs) {
    const docs = yaml.loadAll(fs.readFileSync(file, 'utf8'));
    cached = { mtimeMs, crds: docs.filter((d): d is JsonObject => isJsonObject(d) && d.kind === 'CustomResourceDefinition') };
    parsedFiles.set(file, cached);
  }
  return structuredClone(cached.crds);
}

/** The package root: the nearest folder above `start` with a package.json (src/ under jest, dist/ when built). */
function packageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}: trafficshift's files are not where it was installed`);
    dir = parent;
  }
}

/**
 * The third-party route CRDs (Gateway API, Istio, SMI), vendored unchanged in the package's
 * `third_party/crds/`. Never a folder outside the package: a clone or an install stands alone.
 */
export const THIRD_PARTY_CRDS = {
  httpRoute: 'gateway.networking.k8s.io_httproutes.yaml',
  virtualService: 'networking.istio.io_virtualservices.yaml',
  trafficSplit: 'split.smi-spec.io_trafficsplits.yaml',
} as const;

export function thirdPartyCrdFile(name: keyof typeof THIRD_PARTY_CRDS, start = __dirname): string {
  return path.join(packageRoot(start), 'third_party', 'crds', THIRD_PARTY_CRDS[name]);
}

/** The project's own generated CRD (manifests/crd.yaml). */
export function projectCrdFile(start = __dirname): string {
  return path.join(packageRoot(start), 'manifests', 'crd.yaml');
}

/** What LocalKube serves unless told otherwise: every vendored route CRD and the project's own. */
export function defaultCrdFiles(): string[] {
  const names = Object.keys(THIRD_PARTY_CRDS) as Array<keyof typeof THIRD_PARTY_CRDS>;
  return [...names.map((n) => thirdPartyCrdFile(n)), projectCrdFile()];
}

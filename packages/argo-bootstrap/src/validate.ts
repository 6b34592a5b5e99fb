import { parseAllDocuments } from "yaml";
import { ARGOCD_NAMESPACE, SYNC_WAVE_ANNOTATION } from "./constants.js";
import { ArgoBootstrapError } from "./errors.js";
import { isDestinationPermitted, isSourcePermitted } from "./internal/app-project.js";
import { isPinnedVersion, isRecord } from "./internal/util.js";
import { APPLICATION_HEALTH_KEY, isDns1123Label, isDns1123Subdomain } from "./manifests.js";

/** One problem found in a manifest. */
export interface ValidationFinding {
  severity: "error" | "warning";
  /** A stable code, for example `SCHEMA_UNKNOWN_FIELD` or `UNPINNED_CHART_VERSION`. */
  code: string;
  /** JSON pointer inside the object (`/spec/source/targetRevision`). */
  path: string;
  message: string;
  /** `Kind namespace/name` of the object. */
  object: string;
  /** Position of the object in the input (0-based, counting non-empty documents across files). */
  index: number;
  /** The file the object came from, when files were given. */
  file?: string;
}

/** A file to validate: its path (for findings) and YAML text. */
export interface ManifestFile {
  path: string;
  content: string;
}

/** What {@link validateManifests} accepts: YAML text, parsed objects, or files. */
export type ManifestInput = string | readonly unknown[] | readonly ManifestFile[];

/** A schema set compiled from CRD documents; see {@link createManifestValidator}. */
export interface ManifestValidator {
  /** `group/version/Kind` keys of the kinds it knows. */
  readonly kinds: readonly string[];
  /** Schema findings plus policy findings for the input. */
  validate(input: ManifestInput, options?: ValidationPolicyOptions): ValidationFinding[];
}

/** Policy switches for {@link validateManifests}. */
export interface ValidationPolicyOptions {
  /** AppProjects that exist outside the input (`default` always exists). */
  knownProjects?: readonly string[];
  /** Check that non-default projects exist (default true). */
  checkProjects?: boolean;
  /** Argo CD's namespace (default `argocd`). */
  argocdNamespace?: string;
  /** Warn when a Git source's targetRevision is a branch or HEAD rather than a tag or commit. */
  pinGitRevisions?: boolean;
  /** The Argo CD chart values; when waves are used without the Application health check, a warning is given. */
  argoCdValues?: Record<string, unknown>;
}

/** Options for {@link validateManifests}. */
export interface ValidateManifestsOptions extends ValidationPolicyOptions {
  /** CRD documents (YAML text or parsed objects) for the schema check. Without them (or `validator`) only policy is checked. */
  crds?: string | readonly unknown[];
  /** A validator from {@link createManifestValidator}, reused across calls. */
  validator?: ManifestValidator;
}

type Schema = Record<string, unknown>;
type Finding = Omit<ValidationFinding, "object" | "index" | "file">;

const METADATA_FIELDS = new Set([
  "name",
  "generateName",
  "namespace",
  "labels",
  "annotations",
  "finalizers",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "ownerReferences",
  "managedFields",
  "selfLink",
]);

/**
 * Compiles CRD documents (YAML text or parsed objects, for example the Argo CD CRDs) into a
 * {@link ManifestValidator}. The check follows Kubernetes structural schemas, with one deliberate
 * difference: fields the API server would silently prune (unknown fields) are errors, so typos are caught.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when no CustomResourceDefinition is found, INVALID_MANIFEST on bad YAML
 */
export function createManifestValidator(options: { crds: string | readonly unknown[] }): ManifestValidator {
  const docs = typeof options.crds === "string" ? parseYaml(options.crds).map((d) => d.value) : options.crds;
  const schemas = new Map<string, Schema>();
  for (const doc of docs) {
    if (!isRecord(doc) || doc.kind !== "CustomResourceDefinition" || !isRecord(doc.spec)) continue;
    const spec = doc.spec;
    const names = isRecord(spec.names) ? spec.names : {};
    for (const version of Array.isArray(spec.versions) ? spec.versions : []) {
      if (!isRecord(version) || !isRecord(version.schema) || !isRecord(version.schema.openAPIV3Schema))
        continue;
      schemas.set(
        `${String(spec.group)}/${String(version.name)}/${String(names.kind)}`,
        version.schema.openAPIV3Schema,
      );
    }
  }
  if (schemas.size === 0) {
    throw new ArgoBootstrapError(
      "INVALID_OPTIONS",
      "no CustomResourceDefinition with an openAPIV3Schema was found in crds",
    );
  }
  const validator: ManifestValidator = {
    kinds: [...schemas.keys()],
    validate(input, policy = {}) {
      return run(input, policy, schemas);
    },
  };
  return validator;
}

/**
 * Validates manifests: the schema of every object whose kind the CRDs define (when `crds` or
 * `validator` is given), metadata (names, labels, annotations, sync-wave), and policy: chart versions
 * pinned (no latest, `*` or ranges), destination namespace set, exactly one of destination
 * server/name, the project exists and permits the source repo and destination, Applications live in
 * Argo CD's namespace, no duplicate names.
 *
 * @returns findings, errors first; an empty list means valid
 * @throws ArgoBootstrapError INVALID_MANIFEST on unparsable YAML, INVALID_OPTIONS on bad CRDs
 */
export function validateManifests(
  input: ManifestInput,
  options: ValidateManifestsOptions = {},
): ValidationFinding[] {
  const validator =
    options.validator ??
    (options.crds === undefined ? undefined : createManifestValidator({ crds: options.crds }));
  if (validator !== undefined) return validator.validate(input, options);
  return run(input, options, new Map());
}

/**
 * Throws when findings contain errors.
 *
 * @throws ArgoBootstrapError POLICY_VIOLATION with the findings in `details.findings`
 */
export function assertValid(findings: readonly ValidationFinding[]): void {
  const errors = findings.filter((f) => f.severity === "error");
  if (errors.length === 0) return;
  throw new ArgoBootstrapError(
    "POLICY_VIOLATION",
    `${errors.length} manifest error(s):\n${formatFindings(errors)}`,
    { details: { findings: errors } },
  );
}

/** One line per finding: `error file Kind ns/name /path: message [CODE]`. */
export function formatFindings(findings: readonly ValidationFinding[]): string {
  return findings
    .map(
      (f) =>
        `${f.severity} ${f.file === undefined ? "" : `${f.file} `}${f.object} ${f.path || "/"}: ${f.message} [${f.code}]`,
    )
    .join("\n");
}

interface Entry {
  value: unknown;
  file?: string;
}

function parseYaml(text: string, file?: string): Entry[] {
  const out: Entry[] = [];
  for (const [index, doc] of parseAllDocuments(text, { version: "1.1" }).entries()) {
    if (doc.errors.length > 0) {
      throw new ArgoBootstrapError(
        "INVALID_MANIFEST",
        `${file === undefined ? "" : `${file}: `}YAML document ${index + 1}: ${doc.errors[0]!.message}`,
        { details: { document: index, ...(file === undefined ? {} : { file }) } },
      );
    }
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(file === undefined ? { value } : { value, file });
  }
  return out;
}

function entriesOf(input: ManifestInput): Entry[] {
  if (typeof input === "string") return parseYaml(input);
  const isFiles =
    input.length > 0 &&
    input.every(
      (i) =>
        isRecord(i) && typeof i.path === "string" && typeof i.content === "string" && !("apiVersion" in i),
    );
  if (isFiles) return (input as readonly ManifestFile[]).flatMap((f) => parseYaml(f.content, f.path));
  return input.map((value) => ({ value }));
}

function run(
  input: ManifestInput,
  policy: ValidationPolicyOptions,
  schemas: Map<string, Schema>,
): ValidationFinding[] {
  const entries = entriesOf(input);
  const argocdNamespace = policy.argocdNamespace ?? ARGOCD_NAMESPACE;
  const findings: ValidationFinding[] = [];
  const projects = new Map<string, Record<string, unknown>>();
  for (const { value } of entries) {
    if (
      isRecord(value) &&
      value.kind === "AppProject" &&
      isRecord(value.metadata) &&
      typeof value.metadata.name === "string"
    ) {
      projects.set(value.metadata.name, value);
    }
  }
  const seen = new Map<string, number>();
  let usesWaves = false;
  for (const [index, entry] of entries.entries()) {
    const object = entry.value;
    const add = (list: Finding[]): void => {
      for (const f of list) {
        findings.push({
          ...f,
          object: describe(object, argocdNamespace),
          index,
          ...(entry.file === undefined ? {} : { file: entry.file }),
        });
      }
    };
    if (!isRecord(object)) {
      add([{ severity: "error", code: "NOT_AN_OBJECT", path: "", message: "a manifest must be a mapping" }]);
      continue;
    }
    const local: Finding[] = [];
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      local.push({
        severity: "error",
        code: "SCHEMA_REQUIRED",
        path: "",
        message: "apiVersion and kind are required",
      });
      add(local);
      continue;
    }
    const [group, version] = object.apiVersion.includes("/")
      ? object.apiVersion.split("/", 2)
      : ["", object.apiVersion];
    const schema = schemas.get(`${group}/${version}/${object.kind}`);
    const isArgo = group === "argoproj.io";
    if (schema !== undefined) {
      checkSchema(object, schema, "", local, true);
    } else if (isArgo && schemas.size > 0) {
      local.push({
        severity: "error",
        code: "UNKNOWN_KIND",
        path: "/kind",
        message: `${object.apiVersion} ${object.kind} is not defined by the CRDs given`,
      });
    }
    if (object.kind === "Kustomization" && group === "kustomize.config.k8s.io") {
      checkKustomization(object, local);
    } else {
      checkMetadata(object.metadata, local, object.kind !== "Namespace" && isArgo);
    }
    const meta = isRecord(object.metadata) ? object.metadata : {};
    if (isRecord(meta.annotations) && SYNC_WAVE_ANNOTATION in meta.annotations) usesWaves = true;
    if (typeof meta.name === "string" && object.kind !== "Kustomization") {
      const namespace = typeof meta.namespace === "string" ? meta.namespace : isArgo ? argocdNamespace : "";
      const key = `${object.apiVersion}/${object.kind}/${namespace}/${meta.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        local.push({
          severity: "error",
          code: "DUPLICATE_NAME",
          path: "/metadata/name",
          message: `${object.kind} ${meta.name} is defined more than once (first at object ${first})`,
        });
      } else seen.set(key, index);
    }
    if (isArgo && (object.kind === "Application" || object.kind === "AppProject")) {
      const namespace = typeof meta.namespace === "string" ? meta.namespace : undefined;
      if (namespace !== undefined && namespace !== argocdNamespace) {
        local.push({
          severity: "error",
          code: "WRONG_NAMESPACE",
          path: "/metadata/namespace",
          message: `${object.kind} objects must live in Argo CD's namespace "${argocdNamespace}" (found "${namespace}")`,
        });
      }
    }
    if (isArgo && object.kind === "Application") checkApplicationPolicy(object, local, policy, projects);
    add(local);
  }
  if (usesWaves && policy.argoCdValues !== undefined) {
    const cm =
      isRecord(policy.argoCdValues.configs) && isRecord(policy.argoCdValues.configs.cm)
        ? policy.argoCdValues.configs.cm
        : {};
    if (!(APPLICATION_HEALTH_KEY in cm)) {
      findings.push({
        severity: "warning",
        code: "WAVES_WITHOUT_HEALTH_CHECK",
        path: "",
        message: `sync waves are used but the Argo CD values lack configs.cm["${APPLICATION_HEALTH_KEY}"]: waves will not wait for child apps (use withApplicationHealthCheck)`,
        object: "(argo-cd values)",
        index: -1,
      });
    }
  }
  return findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
}

function describe(object: unknown, argocdNamespace: string): string {
  if (!isRecord(object)) return "(not an object)";
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const isArgo = typeof object.apiVersion === "string" && object.apiVersion.startsWith("argoproj.io/");
  const namespace =
    typeof meta.namespace === "string" ? meta.namespace : isArgo ? argocdNamespace : undefined;
  return `${String(object.kind ?? "?")} ${namespace === undefined ? "" : `${namespace}/`}${String(meta.name ?? "(unnamed)")}`;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: unknown): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

/**
 * Structural-schema findings for one object against one CRD openAPIV3Schema (metadata is skipped).
 *
 * @internal
 */
export function schemaFindings(
  object: unknown,
  schema: Record<string, unknown>,
): { code: string; path: string; message: string }[] {
  const out: Finding[] = [];
  checkSchema(object, schema, "", out, true);
  return out.map(({ code, path, message }) => ({ code, path, message }));
}

function checkSchema(value: unknown, schema: Schema, path: string, out: Finding[], isRoot = false): void {
  if (value === null) {
    if (schema.nullable !== true)
      out.push({ severity: "error", code: "SCHEMA_TYPE", path, message: "must not be null" });
    return;
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    if (!(typeof value === "string" || (typeof value === "number" && Number.isInteger(value)))) {
      out.push({
        severity: "error",
        code: "SCHEMA_TYPE",
        path,
        message: `must be an integer or a string (got ${typeName(value)})`,
      });
    }
    return;
  }
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    out.push({
      severity: "error",
      code: "SCHEMA_TYPE",
      path,
      message: `must be ${String(schema.type)} (got ${typeName(value)})`,
    });
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    out.push({
      severity: "error",
      code: "SCHEMA_ENUM",
      path,
      message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    });
  }
  if (typeof value === "string") {
    if (
      schema.format === "date-time" &&
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)
    ) {
      out.push({ severity: "error", code: "SCHEMA_FORMAT", path, message: "must be an RFC 3339 date-time" });
    }
    checkLength(value.length, schema.minLength, schema.maxLength, "characters", path, out);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) {
      out.push({ severity: "error", code: "SCHEMA_PATTERN", path, message: `must match ${schema.pattern}` });
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      out.push({ severity: "error", code: "SCHEMA_RANGE", path, message: `must be >= ${schema.minimum}` });
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      out.push({ severity: "error", code: "SCHEMA_RANGE", path, message: `must be <= ${schema.maximum}` });
    }
  }
  for (const branch of Array.isArray(schema.allOf) ? schema.allOf : []) {
    if (isRecord(branch)) checkSchema(value, branch, path, out);
  }
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const branches = Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]).filter(isRecord) : [];
    if (branches.length === 0) continue;
    const passing = branches.filter((b) => {
      const scratch: Finding[] = [];
      checkSchema(value, b, path, scratch);
      return scratch.length === 0;
    }).length;
    if (keyword === "anyOf" ? passing === 0 : passing !== 1) {
      out.push({
        severity: "error",
        code: "SCHEMA_TYPE",
        path,
        message: `must match ${keyword === "anyOf" ? "at least one" : "exactly one"} of the allowed forms`,
      });
    }
  }
  if (Array.isArray(value)) {
    checkLength(value.length, schema.minItems, schema.maxItems, "items", path, out);
    if (isRecord(schema.items)) {
      for (const [i, item] of value.entries()) checkSchema(item, schema.items, `${path}/${i}`, out);
    }
    return;
  }
  if (!isRecord(value)) return;
  for (const required of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof required === "string" && value[required] === undefined) {
      out.push({
        severity: "error",
        code: "SCHEMA_REQUIRED",
        path: `${path}/${required}`,
        message: `${required} is required`,
      });
    }
  }
  const properties = isRecord(schema.properties) ? schema.properties : undefined;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const additional = schema.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const childPath = `${path}/${escapePointer(key)}`;
    if (isRoot && key === "metadata") continue;
    const propertySchema = properties?.[key];
    if (isRecord(propertySchema)) {
      checkSchema(child, propertySchema, childPath, out);
    } else if (isRecord(additional)) {
      checkSchema(child, additional, childPath, out);
    } else if (!(preserve || additional === true)) {
      const hint = properties === undefined ? "" : closest(key, Object.keys(properties));
      out.push({
        severity: "error",
        code: "SCHEMA_UNKNOWN_FIELD",
        path: childPath,
        message: `unknown field "${key}"${hint === undefined || hint === "" ? "" : ` (did you mean "${hint}"?)`}`,
      });
    }
  }
}

function checkLength(
  length: number,
  min: unknown,
  max: unknown,
  unit: "characters" | "items",
  path: string,
  out: Finding[],
): void {
  const verb = unit === "items" ? "have" : "be";
  if (typeof max === "number" && length > max) {
    out.push({
      severity: "error",
      code: "SCHEMA_LENGTH",
      path,
      message: `must ${verb} at most ${max} ${unit}`,
    });
  }
  if (typeof min === "number" && length < min) {
    out.push({
      severity: "error",
      code: "SCHEMA_LENGTH",
      path,
      message: `must ${verb} at least ${min} ${unit}`,
    });
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function checkMetadata(metadata: unknown, out: Finding[], strictName: boolean): void {
  if (!isRecord(metadata)) {
    out.push({
      severity: "error",
      code: "SCHEMA_REQUIRED",
      path: "/metadata",
      message: "metadata is required",
    });
    return;
  }
  for (const key of Object.keys(metadata)) {
    if (!METADATA_FIELDS.has(key)) {
      const hint = closest(key, [...METADATA_FIELDS]);
      out.push({
        severity: "error",
        code: "SCHEMA_UNKNOWN_FIELD",
        path: `/metadata/${key}`,
        message: `unknown field "${key}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      });
    }
  }
  if (typeof metadata.name !== "string" || metadata.name === "") {
    if (typeof metadata.generateName !== "string")
      out.push({
        severity: "error",
        code: "SCHEMA_REQUIRED",
        path: "/metadata/name",
        message: "metadata.name is required",
      });
  } else if (strictName && !isDns1123Subdomain(metadata.name)) {
    out.push({
      severity: "error",
      code: "INVALID_NAME",
      path: "/metadata/name",
      message: `"${metadata.name}" is not a valid name (lowercase letters, digits, '-', '.', at most 253 characters)`,
    });
  }
  if (
    metadata.namespace !== undefined &&
    (typeof metadata.namespace !== "string" || !isDns1123Label(metadata.namespace))
  ) {
    out.push({
      severity: "error",
      code: "INVALID_NAME",
      path: "/metadata/namespace",
      message: `"${String(metadata.namespace)}" is not a valid namespace name`,
    });
  }
  for (const field of ["labels", "annotations"] as const) {
    const map = metadata[field];
    if (map === undefined) continue;
    if (!isRecord(map)) {
      out.push({
        severity: "error",
        code: "SCHEMA_TYPE",
        path: `/metadata/${field}`,
        message: `${field} must be a map of strings`,
      });
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== "string") {
        out.push({
          severity: "error",
          code: "SCHEMA_TYPE",
          path: `/metadata/${field}/${escapePointer(k)}`,
          message: `must be a string (got ${typeName(v)}; quote it in YAML)`,
        });
      }
    }
  }
  const wave = isRecord(metadata.annotations) ? metadata.annotations[SYNC_WAVE_ANNOTATION] : undefined;
  if (typeof wave === "string" && !/^[-+]?\d+$/.test(wave.trim())) {
    out.push({
      severity: "error",
      code: "INVALID_SYNC_WAVE",
      path: `/metadata/annotations/${escapePointer(SYNC_WAVE_ANNOTATION)}`,
      message: `sync-wave must be an integer string (got "${wave}")`,
    });
  }
  if (
    metadata.finalizers !== undefined &&
    (!Array.isArray(metadata.finalizers) || metadata.finalizers.some((f) => typeof f !== "string"))
  ) {
    out.push({
      severity: "error",
      code: "SCHEMA_TYPE",
      path: "/metadata/finalizers",
      message: "finalizers must be a list of strings",
    });
  }
}

function checkKustomization(object: Record<string, unknown>, out: Finding[]): void {
  const resources = object.resources;
  if (
    resources !== undefined &&
    (!Array.isArray(resources) || resources.some((r) => typeof r !== "string"))
  ) {
    out.push({
      severity: "error",
      code: "SCHEMA_TYPE",
      path: "/resources",
      message: "resources must be a list of paths",
    });
  }
  if (Array.isArray(resources)) {
    const seen = new Set<string>();
    for (const [i, r] of resources.entries()) {
      if (seen.has(String(r)))
        out.push({
          severity: "error",
          code: "DUPLICATE_NAME",
          path: `/resources/${i}`,
          message: `${String(r)} is listed twice`,
        });
      seen.add(String(r));
    }
  }
}

function checkApplicationPolicy(
  app: Record<string, unknown>,
  out: Finding[],
  policy: ValidationPolicyOptions,
  projects: Map<string, Record<string, unknown>>,
): void {
  const spec = isRecord(app.spec) ? app.spec : {};
  const sources: [string, Record<string, unknown>][] = [];
  if (isRecord(spec.source)) sources.push(["/spec/source", spec.source]);
  if (Array.isArray(spec.sources)) {
    for (const [i, s] of spec.sources.entries()) if (isRecord(s)) sources.push([`/spec/sources/${i}`, s]);
  }
  if (sources.length === 0) {
    out.push({
      severity: "error",
      code: "MISSING_SOURCE",
      path: "/spec/source",
      message: "an Application needs spec.source or spec.sources",
    });
  }
  for (const [path, source] of sources) {
    const revision = source.targetRevision;
    if (typeof source.chart === "string") {
      if (typeof revision !== "string" || !isPinnedVersion(revision)) {
        out.push({
          severity: "error",
          code: "UNPINNED_CHART_VERSION",
          path: `${path}/targetRevision`,
          message: `chart ${source.chart} must be pinned to one exact version (got ${revision === undefined ? "nothing, which means the newest" : JSON.stringify(revision)}; no latest, *, or ranges)`,
        });
      }
      if (typeof source.repoURL === "string" && source.repoURL.startsWith("oci://")) {
        out.push({
          severity: "error",
          code: "OCI_PREFIX",
          path: `${path}/repoURL`,
          message: "for an OCI chart Argo CD wants the registry path without oci://",
        });
      }
    } else if (
      policy.pinGitRevisions === true &&
      (revision === undefined ||
        revision === "HEAD" ||
        !/^(v?\d+\.\d+\.\d+.*|[0-9a-f]{40})$/.test(String(revision)))
    ) {
      out.push({
        severity: "warning",
        code: "UNPINNED_GIT_REVISION",
        path: `${path}/targetRevision`,
        message: `targetRevision ${JSON.stringify(revision ?? "HEAD")} follows a branch; use a tag or commit to pin it`,
      });
    }
  }
  const destination = isRecord(spec.destination) ? spec.destination : undefined;
  if (destination !== undefined) {
    if (typeof destination.namespace !== "string" || destination.namespace === "") {
      out.push({
        severity: "error",
        code: "MISSING_DESTINATION_NAMESPACE",
        path: "/spec/destination/namespace",
        message: "destination.namespace must be set",
      });
    }
    const hasServer = typeof destination.server === "string" && destination.server !== "";
    const hasName = typeof destination.name === "string" && destination.name !== "";
    if (hasServer === hasName) {
      out.push({
        severity: "error",
        code: "INVALID_DESTINATION",
        path: "/spec/destination",
        message: hasServer
          ? "set destination.server or destination.name, not both"
          : "destination.server or destination.name must be set",
      });
    }
  }
  const project = typeof spec.project === "string" && spec.project !== "" ? spec.project : "default";
  if (project === "default" || policy.checkProjects === false) return;
  const found = projects.get(project);
  if (found === undefined) {
    if (!(policy.knownProjects ?? []).includes(project)) {
      out.push({
        severity: "error",
        code: "UNKNOWN_PROJECT",
        path: "/spec/project",
        message: `AppProject "${project}" does not exist (not in these manifests or the known projects)`,
      });
    }
    return;
  }
  const projectSpec = isRecord(found.spec) ? found.spec : {};
  for (const [path, source] of sources) {
    const repoURL = String(source.repoURL ?? "");
    if (!isSourcePermitted(projectSpec, repoURL)) {
      out.push({
        severity: "error",
        code: "SOURCE_NOT_PERMITTED",
        path: `${path}/repoURL`,
        message: `AppProject "${project}" does not permit source repository ${repoURL}`,
      });
    }
  }
  if (destination !== undefined && typeof destination.namespace === "string") {
    const server = typeof destination.server === "string" ? destination.server : undefined;
    const name = typeof destination.name === "string" ? destination.name : undefined;
    if (!isDestinationPermitted(projectSpec, { server, name, namespace: destination.namespace })) {
      out.push({
        severity: "error",
        code: "DESTINATION_NOT_PERMITTED",
        path: "/spec/destination",
        message: `AppProject "${project}" does not permit destination namespace ${destination.namespace} on ${server ?? String(destination.name)}`,
      });
    }
  }
}

import { createRequire } from "node:module";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
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
      checkSchema(object, schema, local);
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

let sharedAjv: Ajv | undefined;
/** One Ajv for every schema, loaded on first use (importing the library stays light). */
function ajv(): Ajv {
  if (sharedAjv === undefined) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)("ajv") as typeof import("ajv");
    sharedAjv = new AjvClass({
      allErrors: true,
      verbose: true,
      strict: false,
      logger: false,
      // the formats a Kubernetes structural schema names; only date-time is checked by the API server here
      formats: {
        "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
        int32: true,
        int64: true,
        float: true,
        double: true,
        byte: true,
        "int-or-string": true,
      },
    });
  }
  return sharedAjv;
}

const compiled = new WeakMap<Schema, ValidateFunction>();
const compiledByText = new Map<string, ValidateFunction>();

/**
 * The compiled check for one part of a CRD's openAPIV3Schema, compiled once per process: the same CRD parsed
 * again (another validator, the emulator registering it again) reuses it.
 */
function compiledCheck(schema: Schema): ValidateFunction {
  let check = compiled.get(schema);
  if (check === undefined) {
    const text = JSON.stringify(schema);
    check = compiledByText.get(text);
    if (check === undefined) {
      check = ajv().compile(toJsonSchema(schema));
      compiledByText.set(text, check);
    }
    compiled.set(schema, check);
  }
  return check;
}

/**
 * A Kubernetes structural schema as JSON Schema: unknown fields forbidden where the API server would prune
 * them (no `x-kubernetes-preserve-unknown-fields`), int-or-string and nullable as types, and OpenAPI 3.0's
 * boolean exclusiveMinimum/Maximum as numbers.
 */
function toJsonSchema(schema: Schema): Schema {
  const out: Schema = {};
  const sub = (v: unknown): unknown => (isRecord(v) ? toJsonSchema(v) : v);
  for (const [key, value] of Object.entries(schema)) {
    if (key === "description" || key === "nullable" || key === "default" || key.startsWith("x-kubernetes-"))
      continue;
    if (key === "properties" && isRecord(value))
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sub(v)]));
    else if (key === "items" || key === "additionalProperties" || key === "not") out[key] = sub(value);
    else if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value))
      out[key] = value.map(sub);
    else out[key] = value;
  }
  for (const [flag, limit] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (out[flag] === true) {
      out[flag] = out[limit];
      delete out[limit];
    } else if (out[flag] === false) delete out[flag];
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.anyOf;
    out.type = ["integer", "string"];
  } else if (typeof out.type === "string" && schema.nullable === true) out.type = [out.type, "null"];
  const isObject = out.type === "object" || isRecord(out.properties);
  if (
    isObject &&
    out.additionalProperties === undefined &&
    schema["x-kubernetes-preserve-unknown-fields"] !== true
  )
    out.additionalProperties = false;
  return out;
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
  checkSchema(object, schema, out);
  return out.map(({ code, path, message }) => ({ code, path, message }));
}

/**
 * Checks an object against a CRD's root schema. Each top-level field is compiled on first use (an
 * Application's status schema is three times the size of its spec's, and manifests rarely carry one);
 * metadata is left to {@link checkMetadata}.
 */
function checkSchema(value: unknown, schema: Schema, out: Finding[]): void {
  if (!isRecord(value)) {
    out.push({
      severity: "error",
      code: "SCHEMA_TYPE",
      path: "",
      message: `must be object (got ${typeName(value)})`,
    });
    return;
  }
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const required of Array.isArray(schema.required) ? schema.required : [])
    if (typeof required === "string" && value[required] === undefined)
      out.push({
        severity: "error",
        code: "SCHEMA_REQUIRED",
        path: `/${escapePointer(required)}`,
        message: `${required} is required`,
      });
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || key === "metadata") continue;
    const path = `/${escapePointer(key)}`;
    const part = properties[key];
    if (!isRecord(part)) {
      if (schema["x-kubernetes-preserve-unknown-fields"] === true) continue;
      const hint = closest(key, Object.keys(properties));
      out.push({
        severity: "error",
        code: "SCHEMA_UNKNOWN_FIELD",
        path,
        message: `unknown field "${key}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      });
      continue;
    }
    const check = compiledCheck(part);
    if (check(child)) continue;
    for (const error of check.errors ?? []) {
      // a failed anyOf/oneOf reports each branch's errors too: the combinator's own error says it
      if (/\/(anyOf|oneOf)\/\d+\//.test(error.schemaPath)) continue;
      const finding = findingOf(error);
      if (finding !== undefined) out.push({ severity: "error", ...finding, path: `${path}${finding.path}` });
    }
  }
}

function findingOf(error: ErrorObject): Omit<Finding, "severity"> | undefined {
  const path = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const verb = Array.isArray(error.data) || isRecord(error.data) ? "have" : "be";
  const unit = Array.isArray(error.data) ? "items" : isRecord(error.data) ? "properties" : "characters";
  switch (error.keyword) {
    case "type": {
      if (error.data === null) return { code: "SCHEMA_TYPE", path, message: "must not be null" };
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(",");
      const expected =
        types.length === 2 && types.includes("integer") && types.includes("string")
          ? "an integer or a string"
          : types.filter((t) => t !== "null").join(" or ");
      return { code: "SCHEMA_TYPE", path, message: `must be ${expected} (got ${typeName(error.data)})` };
    }
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const parent = isRecord(error.parentSchema) ? error.parentSchema.properties : undefined;
      const hint = isRecord(parent) ? closest(key, Object.keys(parent)) : undefined;
      return {
        code: "SCHEMA_UNKNOWN_FIELD",
        path: `${path}/${escapePointer(key)}`,
        message: `unknown field "${key}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      };
    }
    case "required": {
      const key = String(params.missingProperty);
      return {
        code: "SCHEMA_REQUIRED",
        path: `${path}/${escapePointer(key)}`,
        message: `${key} is required`,
      };
    }
    case "enum":
      return {
        code: "SCHEMA_ENUM",
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((e) => JSON.stringify(e)).join(", ")}`,
      };
    case "format":
      return {
        code: "SCHEMA_FORMAT",
        path,
        message:
          params.format === "date-time"
            ? "must be an RFC 3339 date-time"
            : `must be a ${String(params.format)}`,
      };
    case "pattern":
      return { code: "SCHEMA_PATTERN", path, message: `must match ${String(params.pattern)}` };
    case "minLength":
    case "minItems":
    case "minProperties":
      return {
        code: "SCHEMA_LENGTH",
        path,
        message: `must ${verb} at least ${String(params.limit)} ${unit}`,
      };
    case "maxLength":
    case "maxItems":
    case "maxProperties":
      return { code: "SCHEMA_LENGTH", path, message: `must ${verb} at most ${String(params.limit)} ${unit}` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return {
        code: "SCHEMA_RANGE",
        path,
        message: `must be ${String(params.comparison)} ${String(params.limit)}`,
      };
    case "multipleOf":
      return { code: "SCHEMA_RANGE", path, message: `must be a multiple of ${String(params.multipleOf)}` };
    case "uniqueItems":
      return {
        code: "SCHEMA_UNIQUE",
        path,
        message: `must not repeat items (items ${String(params.j)} and ${String(params.i)} are equal)`,
      };
    case "anyOf":
      return { code: "SCHEMA_TYPE", path, message: "must match at least one of the allowed forms" };
    case "oneOf":
      return { code: "SCHEMA_TYPE", path, message: "must match exactly one of the allowed forms" };
    case "not":
      return { code: "SCHEMA_TYPE", path, message: "must not match the form the schema forbids" };
    default:
      return { code: "SCHEMA_INVALID", path, message: error.message ?? `fails ${error.keyword}` };
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

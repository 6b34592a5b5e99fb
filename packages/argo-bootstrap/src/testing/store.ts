import { randomUUID } from "node:crypto";
import { isRecord } from "../internal/util.js";

/** A stored Kubernetes object. */
export type StoredObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

/** One served resource type. */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural, lower case (`deployments`). */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Table columns beyond NAME and AGE (from CRD additionalPrinterColumns or built in). */
  columns?: { name: string; jsonPath: string; type: string; priority?: number }[];
  /** True for types whose status is only written through the status subresource. */
  statusSubresource?: boolean;
  /** True while the type comes from a CRD. */
  fromCrd?: boolean;
  /** Discovery categories (`all` for `kubectl get all`). */
  categories?: string[];
  /** The CRD's structural schema, when it has one that constrains fields. */
  schema?: Record<string, unknown>;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";
export type WatchListener = (type: WatchEventType, object: StoredObject, resourceType: ResourceType) => void;

const VERBS: string[] = ["create", "delete", "get", "list", "patch", "update", "watch"];

export { VERBS };

const BUILT_IN: ResourceType[] = [
  {
    group: "",
    version: "v1",
    resource: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    columns: [{ name: "Status", jsonPath: ".status.phase", type: "string" }],
  },
  {
    group: "",
    version: "v1",
    resource: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    columns: [{ name: "Type", jsonPath: ".type", type: "string" }],
  },
  {
    group: "",
    version: "v1",
    resource: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
  },
  {
    group: "",
    version: "v1",
    resource: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
  },
  {
    group: "",
    version: "v1",
    resource: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
  },
  {
    group: "",
    version: "v1",
    resource: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
  },
  {
    group: "apps",
    version: "v1",
    resource: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
    statusSubresource: true,
    columns: [
      { name: "Ready", jsonPath: "@ready", type: "string" },
      { name: "Up-to-date", jsonPath: ".status.updatedReplicas", type: "integer" },
      { name: "Available", jsonPath: ".status.availableReplicas", type: "integer" },
    ],
  },
  {
    group: "apps",
    version: "v1",
    resource: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    namespaced: true,
    shortNames: ["sts"],
    statusSubresource: true,
    columns: [{ name: "Ready", jsonPath: "@ready", type: "string" }],
  },
  {
    group: "apiextensions.k8s.io",
    version: "v1",
    resource: "customresourcedefinitions",
    singular: "customresourcedefinition",
    kind: "CustomResourceDefinition",
    namespaced: false,
    shortNames: ["crd", "crds"],
    statusSubresource: true,
  },
];

for (const type of BUILT_IN) {
  if (["Service", "Pod", "Deployment", "StatefulSet"].includes(type.kind)) type.categories = ["all"];
}

/** The emulator's object store: typed resources, resource versions, generations, watch events. */
export class ObjectStore {
  readonly #objects = new Map<string, StoredObject>();
  readonly #types: ResourceType[] = [...BUILT_IN];
  readonly #listeners = new Set<WatchListener>();
  #resourceVersion = 100;

  constructor() {
    for (const name of ["default", "kube-system", "kube-public"]) {
      this.create(
        this.typeFor("v1", "Namespace")!,
        { apiVersion: "v1", kind: "Namespace", metadata: { name } },
        "kube-apiserver",
      );
    }
  }

  /** Serves more built-in types (the cluster-nodes part adds Node, PodDisruptionBudget, DaemonSet). */
  addTypes(types: readonly ResourceType[]): void {
    for (const type of types)
      if (!this.#types.some((t) => t.group === type.group && t.kind === type.kind)) this.#types.push(type);
  }

  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  types(): ResourceType[] {
    return [...this.#types];
  }

  typeFor(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = splitApiVersion(apiVersion);
    return this.#types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  typeForResource(group: string, version: string, resource: string): ResourceType | undefined {
    return this.#types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  onChange(listener: WatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const found = this.#objects.get(key(type, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  list(type: ResourceType, namespace?: string): StoredObject[] {
    const out: StoredObject[] = [];
    for (const object of this.#objects.values()) {
      if (object.apiVersion !== apiVersionOf(type) || object.kind !== type.kind) continue;
      if (namespace !== undefined && type.namespaced && object.metadata.namespace !== namespace) continue;
      out.push(structuredClone(object));
    }
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ""}/${b.metadata.name}`,
      ),
    );
  }

  /** Creates an object; throws a StoreError 409 when it exists, 404 when its namespace does not. */
  create(type: ResourceType, input: Record<string, unknown>, manager: string): StoredObject {
    const object = normalize(type, input);
    this.#checkNamespace(type, object);
    const k = key(type, object.metadata.namespace, object.metadata.name);
    if (this.#objects.has(k)) {
      throw new StoreError(
        409,
        "AlreadyExists",
        `${type.resource}${type.group === "" ? "" : `.${type.group}`} "${object.metadata.name}" already exists`,
      );
    }
    const meta = object.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    meta.generation = 1;
    meta.resourceVersion = this.#nextVersion();
    meta.managedFields = [managedField(manager, object.apiVersion, "Update")];
    delete meta.deletionTimestamp;
    applyDefaults(type, object);
    this.#objects.set(k, object);
    if (type.kind === "CustomResourceDefinition") this.#registerCrd(object);
    this.#emit("ADDED", object, type);
    return structuredClone(object);
  }

  /**
   * Writes `next` over the stored object when it differs: bumps resourceVersion, and generation when
   * anything other than metadata and status changed.
   */
  replace(
    type: ResourceType,
    next: StoredObject,
    options: { manager: string; operation?: "Apply" | "Update"; statusOnly?: boolean },
  ): StoredObject {
    const k = key(type, next.metadata.namespace, next.metadata.name);
    const current = this.#objects.get(k);
    if (current === undefined) {
      throw new StoreError(
        404,
        "NotFound",
        `${type.resource}${type.group === "" ? "" : `.${type.group}`} "${next.metadata.name}" not found`,
      );
    }
    const candidate = normalize(type, structuredClone(next));
    for (const field of ["uid", "creationTimestamp", "generation", "resourceVersion"] as const) {
      candidate.metadata[field] = current.metadata[field];
    }
    candidate.metadata.managedFields = current.metadata.managedFields;
    if (options.statusOnly === true) {
      const merged: StoredObject = { ...structuredClone(current), status: candidate.status };
      return this.#commit(type, k, current, merged, options);
    }
    if (type.statusSubresource === true || candidate.status === undefined) {
      if (current.status === undefined) delete candidate.status;
      else candidate.status = structuredClone(current.status);
    }
    applyDefaults(type, candidate);
    return this.#commit(type, k, current, candidate, options);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const k = key(type, namespace, name);
    const current = this.#objects.get(k);
    if (current === undefined) {
      throw new StoreError(
        404,
        "NotFound",
        `${type.resource}${type.group === "" ? "" : `.${type.group}`} "${name}" not found`,
      );
    }
    this.#objects.delete(k);
    current.metadata.resourceVersion = this.#nextVersion();
    this.#emit("DELETED", current, type);
    if (type.kind === "Namespace") {
      for (const [otherKey, other] of [...this.#objects.entries()]) {
        if (other.metadata.namespace === name) {
          this.#objects.delete(otherKey);
          const otherType = this.typeFor(other.apiVersion, other.kind);
          if (otherType !== undefined) this.#emit("DELETED", other, otherType);
        }
      }
    }
    if (type.kind === "CustomResourceDefinition") this.#unregisterCrd(current);
    return structuredClone(current);
  }

  #commit(
    type: ResourceType,
    k: string,
    current: StoredObject,
    next: StoredObject,
    options: { manager: string; operation?: "Apply" | "Update" },
  ): StoredObject {
    const strip = (o: StoredObject): unknown => {
      const { metadata, status, ...rest } = o;
      void status;
      const { managedFields, resourceVersion, generation, ...meta } = metadata;
      void managedFields;
      void resourceVersion;
      void generation;
      return { ...rest, metadata: meta };
    };
    const specChanged = !sameJson(specPart(current), specPart(next));
    const anyChanged =
      specChanged || !sameJson(strip(current), strip(next)) || !sameJson(current.status, next.status);
    const managers = Array.isArray(current.metadata.managedFields)
      ? (current.metadata.managedFields as Record<string, unknown>[])
      : [];
    const operation = options.operation ?? "Update";
    const hasManager = managers.some((m) => m.manager === options.manager && m.operation === operation);
    if (!anyChanged && hasManager) return structuredClone(current);
    // kubernetes apiextensions-apiserver pkg/registry/customresource/strategy.go PrepareForUpdate: a custom
    // resource without the status subresource (Argo CD's Application) gets a new generation on status writes too
    const statusBumps =
      type.fromCrd === true && type.statusSubresource !== true && !sameJson(current.status, next.status);
    if (specChanged || statusBumps) next.metadata.generation = Number(current.metadata.generation ?? 0) + 1;
    next.metadata.managedFields = [
      ...managers.filter((m) => !(m.manager === options.manager && m.operation === operation)),
      managedField(options.manager, next.apiVersion, operation),
    ];
    next.metadata.resourceVersion = this.#nextVersion();
    this.#objects.set(k, next);
    if (type.kind === "CustomResourceDefinition") this.#registerCrd(next);
    this.#emit("MODIFIED", next, type);
    return structuredClone(next);
  }

  /** Registers the kinds a CRD object serves (called after create/replace of a CRD). */
  registerCrd(crd: StoredObject): void {
    this.#registerCrd(crd);
  }

  #registerCrd(crd: StoredObject): void {
    const spec = isRecord(crd.spec) ? crd.spec : {};
    const names = isRecord(spec.names) ? spec.names : {};
    const group = String(spec.group ?? "");
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isRecord) : [];
    for (const version of versions) {
      if (version.served === false) continue;
      const existing = this.#types.findIndex(
        (t) => t.group === group && t.version === version.name && t.resource === names.plural,
      );
      const columns = Array.isArray(version.additionalPrinterColumns)
        ? version.additionalPrinterColumns.filter(isRecord).map((c) => ({
            name: String(c.name),
            jsonPath: String(c.jsonPath),
            type: String(c.type ?? "string"),
            ...(typeof c.priority === "number" ? { priority: c.priority } : {}),
          }))
        : [];
      const type: ResourceType = {
        group,
        version: String(version.name),
        resource: String(names.plural),
        singular: String(names.singular ?? String(names.kind).toLowerCase()),
        kind: String(names.kind),
        namespaced: spec.scope !== "Cluster",
        shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
        categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
        columns,
        statusSubresource: isRecord(version.subresources) && isRecord(version.subresources.status),
        fromCrd: true,
      };
      const schema = isRecord(version.schema) ? version.schema.openAPIV3Schema : undefined;
      if (isRecord(schema) && schema["x-kubernetes-preserve-unknown-fields"] !== true) type.schema = schema;
      if (existing >= 0) this.#types[existing] = type;
      else this.#types.push(type);
    }
  }

  #unregisterCrd(crd: StoredObject): void {
    const spec = isRecord(crd.spec) ? crd.spec : {};
    const names = isRecord(spec.names) ? spec.names : {};
    for (let i = this.#types.length - 1; i >= 0; i--) {
      const t = this.#types[i]!;
      if (t.fromCrd === true && t.group === spec.group && t.resource === names.plural)
        this.#types.splice(i, 1);
    }
  }

  #checkNamespace(type: ResourceType, object: StoredObject): void {
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    const namespace = object.metadata.namespace;
    if (namespace === undefined || namespace === "")
      throw new StoreError(400, "BadRequest", "the namespace of the object is missing");
    if (!this.#objects.has(key(BUILT_IN[0]!, undefined, namespace))) {
      throw new StoreError(404, "NotFound", `namespaces "${namespace}" not found`);
    }
  }

  #nextVersion(): string {
    this.#resourceVersion += 1;
    return String(this.#resourceVersion);
  }

  #emit(type: WatchEventType, object: StoredObject, resourceType: ResourceType): void {
    for (const listener of this.#listeners) listener(type, structuredClone(object), resourceType);
  }
}

/** An API error with an HTTP status and a Kubernetes Status reason. */
export class StoreError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function splitApiVersion(apiVersion: string): [string, string] {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

function key(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.resource}/${type.namespaced ? (namespace ?? "") : ""}/${name}`;
}

function normalize(type: ResourceType, input: Record<string, unknown>): StoredObject {
  const object = structuredClone(input) as StoredObject;
  object.apiVersion = apiVersionOf(type);
  object.kind = type.kind;
  if (!isRecord(object.metadata) || typeof object.metadata.name !== "string" || object.metadata.name === "") {
    throw new StoreError(422, "Invalid", `${type.kind}: metadata.name: Required value: name is required`);
  }
  if (!type.namespaced) delete object.metadata.namespace;
  return object;
}

function specPart(object: StoredObject): unknown {
  const { metadata, status, apiVersion, kind, ...rest } = object;
  void metadata;
  void status;
  void apiVersion;
  void kind;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => value[k] !== undefined)
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function managedField(
  manager: string,
  apiVersion: string,
  operation: "Apply" | "Update",
): Record<string, unknown> {
  return {
    manager,
    operation,
    apiVersion,
    time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    fieldsType: "FieldsV1",
    fieldsV1: {},
  };
}

function applyDefaults(type: ResourceType, object: StoredObject): void {
  const spec = isRecord(object.spec) ? object.spec : undefined;
  if (type.kind === "Deployment" && spec !== undefined) {
    spec.replicas ??= 1;
    spec.progressDeadlineSeconds ??= 600;
    spec.revisionHistoryLimit ??= 10;
    spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
  }
  if (type.kind === "DaemonSet" && spec !== undefined) {
    spec.revisionHistoryLimit ??= 10;
    spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
  }
  if (type.kind === "StatefulSet" && spec !== undefined) {
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= "OrderedReady";
    spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
    if (isRecord(spec.updateStrategy) && spec.updateStrategy.type === "RollingUpdate") {
      spec.updateStrategy.rollingUpdate ??= { partition: 0 };
    }
  }
  if (type.kind === "Namespace") {
    object.spec ??= { finalizers: ["kubernetes"] };
    object.status ??= { phase: "Active" };
    const meta = object.metadata;
    meta.labels = {
      ...(isRecord(meta.labels) ? (meta.labels as Record<string, string>) : {}),
      "kubernetes.io/metadata.name": meta.name,
    };
  }
  if (type.kind === "Secret") object.type ??= "Opaque";
  if (type.kind === "CustomResourceDefinition") {
    object.status = {
      conditions: [
        { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found" },
        {
          type: "Established",
          status: "True",
          reason: "InitialNamesAccepted",
          message: "the initial names have been accepted",
        },
      ],
      acceptedNames: isRecord(spec) ? spec.names : {},
      storedVersions:
        isRecord(spec) && Array.isArray(spec.versions)
          ? spec.versions.filter(isRecord).map((v) => v.name)
          : [],
    };
  }
}

/** Server-side apply, simplified: maps merge recursively, lists and scalars from the applied config win. */
export function mergeApplied(current: unknown, applied: unknown): unknown {
  if (isRecord(current) && isRecord(applied)) {
    const out: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(current[k], v);
    }
    return out;
  }
  return structuredClone(applied);
}

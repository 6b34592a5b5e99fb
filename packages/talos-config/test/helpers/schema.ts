import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { type ConfigDocument, documentKind, versionFeatures } from "../../src/index.js";

// Worktree root = packages/talos-config/../..; the shared directory sits next to it.
const here = fileURLToPath(new URL(".", import.meta.url));
const fromEnv = process.env.HOMELAB_SHARED_DIR;
export const sharedDir: string =
  fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : resolve(here, "../../../../../shared");

type SchemaLine = "v1.13" | "v1.15";
const FILES: Record<SchemaLine, string> = {
  "v1.13": "config.schema.v1.13.9.json",
  "v1.15": "config.schema.json",
};

interface LoadedSchema {
  ajv: Ajv2020;
  id: string;
  byKind: Map<string, string>;
  validators: Map<string, ValidateFunction>;
}

const cache = new Map<SchemaLine, LoadedSchema>();
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function load(line: SchemaLine): LoadedSchema {
  const hit = cache.get(line);
  if (hit) return hit;
  const schema = JSON.parse(readFileSync(join(sharedDir, "talos", FILES[line]), "utf8")) as {
    $id: string;
    oneOf: { $ref: string }[];
    $defs: Record<string, { properties?: { kind?: { enum?: string[] } } }>;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema);
  const byKind = new Map<string, string>();
  for (const { $ref } of schema.oneOf) {
    const name = $ref.split("/").pop()!;
    const kind = schema.$defs[name]?.properties?.kind?.enum?.[0] ?? "v1alpha1";
    byKind.set(kind, name);
  }
  const loaded = { ajv, id: schema.$id, byKind, validators: new Map() };
  cache.set(line, loaded);
  return loaded;
}

/** The kinds an official schema lists. */
export function schemaKinds(line: SchemaLine): string[] {
  return [...load(line).byKind.keys()];
}

/** Removes `$patch: delete` directives (keys whose value is only a directive), as applying the patch would. */
export function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$patch") continue;
      if (
        v !== null &&
        typeof v === "object" &&
        !Array.isArray(v) &&
        (v as Record<string, unknown>).$patch === "delete"
      )
        continue;
      out[k] = stripDirectives(v);
    }
    return out;
  }
  return value;
}

/** Validation errors of one document against the official schema of a line ([] when valid). */
export function schemaErrors(doc: ConfigDocument, line: SchemaLine): string[] {
  const loaded = load(line);
  let kind = documentKind(doc);
  // The schema spells this kind "UnattendedInstall"; Talos registers (and only accepts) "UnattendedInstallConfig".
  if (kind === "UnattendedInstallConfig" && loaded.byKind.has("UnattendedInstall")) {
    kind = "UnattendedInstall";
    doc = { ...doc, kind };
  }
  const def = loaded.byKind.get(kind);
  if (!def) return [`kind ${kind} is not in the ${line} schema`];
  let validate = loaded.validators.get(def);
  if (!validate) {
    validate = loaded.ajv.compile({ $ref: `${loaded.id}#/$defs/${def}` });
    loaded.validators.set(def, validate);
  }
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) =>
      `${kind}${e.instancePath} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
  );
}

/**
 * There is no official 1.11 or 1.12 schema in ../shared, so those lines are checked against the 1.13.9
 * one after removing the v1alpha1 fields those lines still list and 1.13 dropped: 1.11 keeps
 * `machine.network`, `machine.time` (returned for a separate field check), `machine.features.rbac`,
 * `stableHostname`, `apidCheckExtKeyUsage` and `cluster.apiServer.disablePodSecurityPolicy`; 1.12 keeps
 * `machine.network` with `kubespan` only (its generator writes an empty `machine.network: {}`).
 */
function withoutOlderLineFields(
  doc: ConfigDocument,
  line: "v1.11" | "v1.12",
  legacyOnly: Record<string, unknown>[],
): ConfigDocument {
  const machine = { ...((doc.machine as Record<string, unknown> | undefined) ?? {}) };
  const out: ConfigDocument = { ...doc };
  if (line === "v1.11") {
    const removed: Record<string, unknown> = {};
    for (const key of ["network", "time", "registries"]) {
      if (key in machine) {
        removed[key] = machine[key];
        delete machine[key];
      }
    }
    if (Object.keys(removed).length > 0) legacyOnly.push(removed);
    if (machine.features !== undefined) {
      const {
        rbac: _r,
        stableHostname: _s,
        apidCheckExtKeyUsage: _a,
        ...rest
      } = machine.features as Record<string, unknown>;
      machine.features = rest;
    }
    const cluster = doc.cluster as Record<string, unknown> | undefined;
    if (cluster?.apiServer !== undefined) {
      const { disablePodSecurityPolicy: _d, ...apiServer } = cluster.apiServer as Record<string, unknown>;
      out.cluster = { ...cluster, apiServer };
    }
  } else if (machine.network !== undefined) {
    const { kubespan: _k, ...rest } = machine.network as Record<string, unknown>;
    if (Object.keys(rest).length === 0) delete machine.network;
  }
  if (doc.machine !== undefined) out.machine = machine;
  return out;
}

/**
 * Validates builder output for a target: against the schema of its line, after removing patch
 * directives. Patch documents that delete a whole document are skipped. For 1.11 the sections the
 * official schemas no longer describe (`machine.network`, `machine.time`) are returned separately; see
 * `withoutOlderLineFields` for what else 1.11 and 1.12 may carry. KubeAPIServerConfig / KubeletConfig patches
 * without `image` are accepted as patches (the generated document has it; full configs are checked strictly).
 */
export function validateForTarget(
  docs: readonly ConfigDocument[],
  target: string,
): { errors: string[]; legacyOnly: Record<string, unknown>[] } {
  const features = versionFeatures(target);
  const errors: string[] = [];
  const legacyOnly: Record<string, unknown>[] = [];
  for (const raw of docs) {
    if (raw.$patch === "delete") continue;
    let doc = stripDirectives(raw) as ConfigDocument;
    if (documentKind(doc) === "v1alpha1" && (features.line === "v1.11" || features.line === "v1.12")) {
      doc = withoutOlderLineFields(doc, features.line, legacyOnly);
    }
    // Patch-only documents: the generated document they merge into carries the required image.
    const patchOnly =
      ["KubeAPIServerConfig", "KubeletConfig"].includes(documentKind(doc)) && doc.image === undefined;
    errors.push(
      ...schemaErrors(doc, features.schema).filter(
        (e) => !(patchOnly && e.endsWith(`must have required property 'image' {"missingProperty":"image"}`)),
      ),
    );
  }
  return { errors, legacyOnly };
}

/**
 * Field names of the legacy `machine.network` / `machine.time` sections (Talos ≤1.11), from the facts
 * (../shared/facts/talos.md §3.2); the official schemas we have no longer describe them.
 */
const LEGACY_FIELDS: Record<string, readonly string[]> = {
  network: [
    "hostname",
    "interfaces",
    "nameservers",
    "searchDomains",
    "extraHostEntries",
    "kubespan",
    "disableSearchDomain",
  ],
  time: ["disabled", "servers", "bootTimeout"],
  registries: ["mirrors", "config"],
  interface: [
    "interface",
    "deviceSelector",
    "addresses",
    "cidr",
    "routes",
    "bond",
    "bridge",
    "bridgePort",
    "vlans",
    "mtu",
    "dhcp",
    "ignore",
    "dummy",
    "dhcpOptions",
    "wireguard",
    "vip",
  ],
  deviceSelector: ["busPath", "hardwareAddr", "permanentAddr", "pciID", "driver", "physical"],
  route: ["network", "gateway", "source", "metric", "mtu"],
  vlan: ["vlanId", "addresses", "routes", "dhcp", "mtu", "vip", "dhcpOptions"],
  dhcpOptions: ["routeMetric", "ipv4", "ipv6", "duidv6"],
  vip: ["ip", "equinixMetal", "hcloud"],
};

/** Unknown keys in legacy `machine.network` / `machine.time` sections ([] when all are known). */
export function legacyFieldErrors(sections: Record<string, unknown>[]): string[] {
  const errors: string[] = [];
  const check = (value: unknown, kind: string, path: string): void => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (!LEGACY_FIELDS[kind]!.includes(key)) errors.push(`${path}.${key} is not a known ${kind} field`);
      const list = Array.isArray(child) ? child : [child];
      const nested: Record<string, string> = {
        interfaces: "interface",
        routes: "route",
        vlans: "vlan",
        deviceSelector: "deviceSelector",
        dhcpOptions: "dhcpOptions",
        vip: "vip",
      };
      const next = nested[key];
      if (!next) continue;
      for (const [i, item] of list.entries()) {
        check(item, next, Array.isArray(child) ? `${path}.${key}[${i}]` : `${path}.${key}`);
      }
    }
  };
  for (const section of sections) {
    for (const [name, value] of Object.entries(section)) check(value, name, `machine.${name}`);
  }
  return errors;
}

type JsonObject = { [key: string]: unknown };

function loadSchema(file: string): JsonObject {
  return JSON.parse(readFileSync(join(sharedDir, "talos", file), "utf8")) as JsonObject;
}

function defs(schema: JsonObject): Record<string, JsonObject> {
  return schema.$defs as Record<string, JsonObject>;
}

function addProperties(schema: JsonObject, def: string, properties: Record<string, JsonObject>): void {
  const target = defs(schema)[def];
  if (target === undefined) throw new Error(`schema has no $defs/${def}`);
  target.properties = { ...(target.properties as JsonObject), ...properties };
}

/**
 * The official schema for a release line, as a per-kind validator.
 *
 * - v1.13 uses `config.schema.v1.13.9.json`; v1.14 and v1.15 use `config.schema.json` (same kinds).
 * - ../shared holds no v1.11 or v1.12 schema. Those lines are checked against the v1.13.9 schema plus
 *   exactly the v1alpha1 properties their generators still emit and that 1.13 hides: `machine.network`
 *   (both), `machine.features.{rbac,stableHostname,apidCheckExtKeyUsage}` and
 *   `cluster.apiServer.disablePodSecurityPolicy` (1.11 only).
 * - Upstream schema bug: the UnattendedInstallConfig definition lists its kind as `UnattendedInstall`,
 *   while Talos registers (and its generator emits) `UnattendedInstallConfig`; the definition is also
 *   indexed under the registered kind.
 */
export function schemaForLine(line: "v1.11" | "v1.12" | "v1.13" | "v1.14" | "v1.15"): {
  validate(doc: ConfigDocument): string[];
} {
  const minor = Number(line.slice(3));
  const schema = loadSchema(minor <= 13 ? "config.schema.v1.13.9.json" : "config.schema.json");
  if (minor <= 12) addProperties(schema, "v1alpha1.MachineConfig", { network: { type: "object" } });
  if (minor <= 11) {
    addProperties(schema, "v1alpha1.FeaturesConfig", {
      rbac: { type: "boolean" },
      stableHostname: { type: "boolean" },
      apidCheckExtKeyUsage: { type: "boolean" },
    });
    addProperties(schema, "v1alpha1.APIServerConfig", { disablePodSecurityPolicy: { type: "boolean" } });
  }
  const byKind = new Map<string, string>([["v1alpha1", "v1alpha1.Config"]]);
  for (const [name, def] of Object.entries(defs(schema))) {
    const kindEnum = ((def.properties as JsonObject | undefined)?.kind as JsonObject | undefined)?.enum;
    if (Array.isArray(kindEnum) && typeof kindEnum[0] === "string") byKind.set(kindEnum[0], name);
  }
  if (byKind.has("UnattendedInstall")) {
    byKind.set("UnattendedInstallConfig", byKind.get("UnattendedInstall") as string);
    const def = defs(schema)[byKind.get("UnattendedInstall") as string] as JsonObject;
    ((def.properties as JsonObject).kind as JsonObject).enum = [
      "UnattendedInstall",
      "UnattendedInstallConfig",
    ];
  }
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema, "talos");
  const validators = new Map<string, ReturnType<Ajv2020["compile"]>>();
  return {
    validate(doc) {
      const kind = typeof doc.kind === "string" ? doc.kind : "v1alpha1";
      const def = byKind.get(kind);
      if (def === undefined) return [`${kind}: kind not in the ${line} schema`];
      let validator = validators.get(def);
      if (validator === undefined) {
        validator = ajv.compile({ $ref: `talos#/$defs/${def}` });
        validators.set(def, validator);
      }
      if (validator(doc)) return [];
      return (validator.errors ?? []).map(
        (e: ErrorObject) => `${kind}${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
      );
    },
  };
}

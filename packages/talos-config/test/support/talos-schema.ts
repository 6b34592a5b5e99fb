import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ConfigDocument } from "../../src/index.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** `<repo root>/../shared`, or `HOMELAB_SHARED_DIR`. */
export function sharedDir(): string {
  const fromEnv = process.env.HOMELAB_SHARED_DIR;
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  return resolve(repoRoot, "../shared");
}

type JsonObject = { [key: string]: unknown };

function loadSchema(file: string): JsonObject {
  return JSON.parse(readFileSync(join(sharedDir(), "talos", file), "utf8")) as JsonObject;
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

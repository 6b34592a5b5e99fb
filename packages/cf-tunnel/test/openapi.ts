import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { RequestLogEntry } from "../src/testing/index.js";

const here = dirname(fileURLToPath(import.meta.url));

/** `<repo root>/../shared`, overridable by HOMELAB_SHARED_DIR. */
export function sharedDir(): string {
  return process.env.HOMELAB_SHARED_DIR ?? resolve(here, "../../..", "..", "shared");
}

type Json = Record<string, unknown>;
type Operation = { requestBody?: Json; responses: Record<string, Json> };

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function walk(node: unknown, visit: (obj: Json) => void): void {
  if (Array.isArray(node)) for (const n of node) walk(n, visit);
  else if (node && typeof node === "object") {
    visit(node as Json);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

/**
 * Validates emulator exchanges against the OpenAPI subset. Two documented adjustments, made in memory:
 * - request bodies: properties marked readOnly (ids, timestamps) are not required (OpenAPI semantics);
 * - tunnel ingress rules: `hostname` is optional, because the mandatory last catch-all rule has none
 *   (cloudflared's own rule; Terraform v5 marks it optional; see facts §2.1).
 * Operations the subset lacks (zones list, tunnel edit, connections, single GETs) are checked against the
 * generic envelope and, for bodies, against schemas composed from the subset's components.
 *
 * Fields newer than the snapshot (the Access applications' `destinations` and `self_hosted_domains`,
 * the tunnels' `config_src`) are checked, in requests and in responses, against schemas that the
 * TypeScript checker derives from the `cloudflare` SDK's own types (./sdk-types.ts): no newer official
 * OpenAPI document can be obtained here (see ../shared/cloudflare/README.md).
 */
export function createValidator(): { validate(entry: RequestLogEntry): string[] } {
  const doc = JSON.parse(
    readFileSync(join(sharedDir(), "cloudflare", "openapi.subset.json"), "utf8"),
  ) as Json & {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Json> };
  };
  const schemas = doc.components.schemas;
  const ingressRule = schemas.tunnel_ingressRule as { required?: string[] };
  ingressRule.required = (ingressRule.required ?? []).filter((r) => r !== "hostname");

  const readOnly = new Set<string>();
  walk(doc, (obj) => {
    const props = obj.properties as Record<string, Json> | undefined;
    if (!props || typeof props !== "object") return;
    for (const [name, schema] of Object.entries(props)) {
      let s = schema;
      if (typeof s.$ref === "string") s = schemas[s.$ref.split("/").pop() as string] ?? s;
      if (s.readOnly === true) readOnly.add(name);
    }
  });
  const requestDoc = clone(doc);
  walk(requestDoc, (obj) => {
    if (Array.isArray(obj.required))
      obj.required = (obj.required as string[]).filter((r) => !readOnly.has(r));
  });

  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const make = (document: Json, id: string) => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    ajv.addSchema({ components: document.components }, id);
    return ajv;
  };
  const responseAjv = make(doc, "api");
  const requestAjv = make(requestDoc, "api");
  const cache = new Map<string, ValidateFunction>();
  const compile = (ajv: Ajv, key: string, schema: Json): ValidateFunction => {
    let v = cache.get(key);
    if (!v) {
      const rewritten = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/'),
      ) as Json;
      v = ajv.compile(rewritten);
      cache.set(key, v);
    }
    return v;
  };
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

  const templates = Object.entries(doc.paths).map(([template, ops]) => ({
    template,
    ops,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));

  const extra: Record<string, { request?: Json; success: Json }> = {
    "zones.list": { success: ref("common_api-response-collection") },
    "tunnels.edit": {
      request: {
        type: "object",
        additionalProperties: false,
        properties: { name: ref("tunnel_tunnel_name"), tunnel_secret: ref("tunnel_tunnel_secret") },
      },
      success: ref("tunnel_tunnel-response-single"),
    },
    "tunnels.connections.get": { success: ref("common_api-response-collection") },
    "tunnels.connections.delete": { success: ref("common_api-response-single") },
    "dns.get": { success: ref("dns-records_dns_response_single") },
    "access.apps.get": { success: ref("access_apps_components-schemas-single_response") },
    "access.policies.get": { success: ref("access_reusable-policies_components-schemas-single_response") },
  };

  const sdk = sdkFieldSchemas();
  const sdkAjv = new Ajv({ strict: false, allErrors: true });
  const sdkValidators = Object.fromEntries(
    Object.entries(sdk).map(([name, schema]) => [name, sdkAjv.compile(schema)]),
  ) as Record<keyof typeof SDK_FIELDS, ValidateFunction>;
  /** Checks the newer fields of one Access application or tunnel object, in a request or a response. */
  const checkSdkFields = (
    kind: "app" | "tunnel",
    direction: "request" | "response",
    value: unknown,
    what: string,
  ): string[] => {
    if (typeof value !== "object" || value === null) return [];
    const fields = kind === "app" ? ["destinations", "self_hosted_domains"] : ["config_src"];
    const out: string[] = [];
    for (const field of fields) {
      const v = (value as Record<string, unknown>)[field];
      if (v === undefined) continue;
      const validate = sdkValidators[`${kind}.${field}.${direction}` as keyof typeof SDK_FIELDS];
      if (!validate(v)) {
        out.push(`${what}.${field} (SDK type): ${sdkAjv.errorsText(validate.errors, { separator: "; " })}`);
      }
    }
    return out;
  };
  const sdkFieldErrors = (entry: RequestLogEntry, where: string): string[] => {
    const kind = /\/access\/apps(\/[^/]+)?$/.test(entry.path)
      ? "app"
      : /\/cfd_tunnel(\/[^/]+)?$/.test(entry.path)
        ? "tunnel"
        : undefined;
    if (kind === undefined) return [];
    const errors = checkSdkFields(kind, "request", entry.requestBody, `${where}: request body`);
    const result = (entry.responseBody as { result?: unknown } | undefined)?.result;
    const items = Array.isArray(result) ? result : [result];
    items.forEach((item, i) => {
      errors.push(
        ...checkSdkFields(kind, "response", item, `${where}: result${Array.isArray(result) ? `[${i}]` : ""}`),
      );
    });
    return errors;
  };

  return {
    validate(logged) {
      // The schema's envelope wants codes >= 1000, yet the API's own 429 answers code 971
      // (shared/reviews/cloudflare-tofu.md A7): the one known exception, checked as if it were 1000.
      const entry =
        logged.status === 429 ? { ...logged, responseBody: rateLimitAsSchema(logged.responseBody) } : logged;
      const errors: string[] = [];
      const where = `#${entry.seq} ${entry.method} ${entry.path} -> ${entry.status}`;
      const check = (ajv: Ajv, key: string, schema: Json, value: unknown, what: string) => {
        const v = compile(ajv, key, schema);
        if (!v(value)) {
          errors.push(`${where}: ${what}: ${ajv.errorsText(v.errors, { separator: "; " }).slice(0, 800)}`);
        }
      };
      const failed = entry.status >= 400;
      errors.push(...sdkFieldErrors(entry, where));
      const failure = ref("common_api-response-common-failure");
      // Zone-scoped Access applications take the account paths' schemas (the subset holds only those).
      const path = entry.path.replace(/^\/zones\/([^/]+)\/access\/apps/, "/accounts/$1/access/apps");
      const tpl = templates.find((t) => t.pattern.test(path) && t.ops[entry.method.toLowerCase()]);
      const op = tpl?.ops[entry.method.toLowerCase()];
      if (op && tpl) {
        const reqSchema = (op.requestBody?.content as Record<string, { schema: Json }> | undefined)?.[
          "application/json"
        ]?.schema;
        if (entry.requestBody !== undefined) {
          if (!reqSchema) errors.push(`${where}: a body was sent but the operation takes none`);
          else
            check(
              requestAjv,
              `req ${entry.method} ${tpl.template}`,
              reqSchema,
              entry.requestBody,
              "request body",
            );
        }
        const status = String(entry.status);
        const response = op.responses[status] ?? op.responses[`${status[0]}XX`] ?? op.responses.default;
        const resSchema = (response?.content as Record<string, { schema: Json }> | undefined)?.[
          "application/json"
        ]?.schema;
        if (failed) {
          check(responseAjv, "failure", failure, entry.responseBody, "failure envelope");
        } else if (!resSchema) {
          errors.push(`${where}: status ${status} is not documented for this operation`);
        } else {
          check(
            responseAjv,
            `res ${status} ${entry.method} ${tpl.template}`,
            resSchema,
            entry.responseBody,
            "response",
          );
        }
        return errors;
      }
      const known = extra[entry.operation];
      if (!known) {
        errors.push(`${where}: operation ${entry.operation} is neither in the subset nor composed`);
        return errors;
      }
      if (entry.requestBody !== undefined) {
        if (!known.request) errors.push(`${where}: a body was sent but the operation takes none`);
        else check(requestAjv, `req ${entry.operation}`, known.request, entry.requestBody, "request body");
      }
      if (failed) check(responseAjv, "failure", failure, entry.responseBody, "failure envelope");
      else check(responseAjv, `res ${entry.operation}`, known.success, entry.responseBody, "response");
      return errors;
    },
  };
}

/** The fields the snapshot lacks, as the SDK types them: requests with the params, responses with the results. */
export const SDK_FIELDS = {
  "app.destinations.request": 'NonNullable<ApplicationCreateParams.SelfHostedApplication["destinations"]>',
  "app.self_hosted_domains.request":
    'NonNullable<ApplicationCreateParams.SelfHostedApplication["self_hosted_domains"]>',
  "app.destinations.response": 'NonNullable<ApplicationGetResponse.SelfHostedApplication["destinations"]>',
  "app.self_hosted_domains.response":
    'NonNullable<ApplicationGetResponse.SelfHostedApplication["self_hosted_domains"]>',
  "tunnel.config_src.request": 'NonNullable<CloudflaredCreateParams["config_src"]>',
  "tunnel.config_src.response": 'NonNullable<CloudflareTunnel["config_src"]>',
} as const;

/** Where the types of SDK_FIELDS live in the SDK. */
export const SDK_IMPORTS: Record<string, string[]> = {
  "cloudflare/resources/zero-trust/access/applications/applications": [
    "ApplicationCreateParams",
    "ApplicationGetResponse",
  ],
  "cloudflare/resources/zero-trust/tunnels/cloudflared/cloudflared": ["CloudflaredCreateParams"],
  "cloudflare/resources/shared": ["CloudflareTunnel"],
};

/**
 * The schemas of SDK_FIELDS, derived by the TypeScript checker from the SDK's declarations and kept
 * in fixtures/sdk-field-schemas.json (the checker takes seconds over the SDK; sdk-types.test.ts
 * derives them again and fails when the file is stale: `UPDATE_SDK_SCHEMAS=1` rewrites it).
 */
export const SDK_SCHEMAS_FILE: string = join(here, "fixtures", "sdk-field-schemas.json");

function sdkFieldSchemas(): Record<string, Json> {
  return JSON.parse(readFileSync(SDK_SCHEMAS_FILE, "utf8")) as Record<string, Json>;
}

function rateLimitAsSchema(body: unknown): unknown {
  if (typeof body !== "object" || body === null || !Array.isArray((body as { errors?: unknown }).errors)) {
    return body;
  }
  const errors = (body as { errors: { code?: unknown }[] }).errors.map((e) =>
    e.code === 971 ? { ...e, code: 1000 } : e,
  );
  return { ...body, errors };
}

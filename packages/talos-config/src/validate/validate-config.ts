import { TalosConfigError } from "../errors.js";
import { SCHEMA_SHAPES } from "../gen/schema-shapes.js";
import { type ConfigDocument, documentKey, documentLabel, isV1Alpha1Document } from "../model/document.js";
import { isPlainObject } from "../patch/values.js";
import { type TalosLine, type TalosVersion, versionFeatures } from "../version.js";
import { checkShape, type SchemaShapes, type Shape } from "./shape.js";

/** Options for {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** The Talos version the documents are for. */
  target: string | TalosVersion;
  /**
   * The documents are patches rather than a complete config: required fields may be missing and
   * `$patch: delete` directives are allowed (and not checked).
   */
  partial?: boolean;
}

/** One reason Talos would refuse a document: `document` is its label (`LinkConfig/eno1`, `v1alpha1`). */
export interface ConfigIssue {
  readonly document: string;
  readonly path: string;
  readonly message: string;
}

const obj = (properties: Record<string, Shape>): Shape => ({
  type: "object",
  properties,
  additionalProperties: false,
});
const str: Shape = { type: "string" };
const bool: Shape = { type: "boolean" };
const int: Shape = { type: "integer" };
const strings: Shape = { type: "array", items: str };

// Hidden v1alpha1 sections Talos still decodes on the older lines, which the 1.13.9 schema leaves out
// (field names: ../shared/facts/talos.md §3.2; kubespan and registries:
// pkg/machinery/config/types/v1alpha1/v1alpha1_types.go NetworkKubeSpan, RegistriesConfig at v1.11.6).
const LEGACY_KUBESPAN = obj({
  enabled: bool,
  advertiseKubernetesNetworks: bool,
  allowDownPeerBypass: bool,
  harvestExtraEndpoints: bool,
  mtu: int,
  filters: obj({ endpoints: strings }),
});
const LEGACY_ROUTE = obj({ network: str, gateway: str, source: str, metric: int, mtu: int });
const LEGACY_DHCP_OPTIONS = obj({ routeMetric: int, ipv4: bool, ipv6: bool, duidv6: str });
const LEGACY_VIP = { type: "object" } satisfies Shape;
const LEGACY_DEVICE = obj({
  interface: str,
  deviceSelector: obj({
    busPath: str,
    hardwareAddr: str,
    permanentAddr: str,
    pciID: str,
    driver: str,
    physical: bool,
  }),
  addresses: strings,
  cidr: str,
  routes: { type: "array", items: LEGACY_ROUTE },
  bond: { type: "object" },
  bridge: { type: "object" },
  bridgePort: { type: "object" },
  vlans: {
    type: "array",
    items: obj({
      vlanId: int,
      addresses: strings,
      routes: { type: "array", items: LEGACY_ROUTE },
      dhcp: bool,
      mtu: int,
      vip: LEGACY_VIP,
      dhcpOptions: LEGACY_DHCP_OPTIONS,
    }),
  },
  mtu: int,
  dhcp: bool,
  ignore: bool,
  dummy: bool,
  dhcpOptions: LEGACY_DHCP_OPTIONS,
  wireguard: { type: "object" },
  vip: LEGACY_VIP,
});

function withProperties(shapes: SchemaShapes, def: string, properties: Record<string, Shape>): SchemaShapes {
  const base = shapes.defs[def];
  if (base === undefined) return shapes;
  return {
    kinds: shapes.kinds,
    defs: { ...shapes.defs, [def]: { ...base, properties: { ...base.properties, ...properties } } },
  };
}

function shapesFor(line: TalosLine): SchemaShapes {
  const minor = Number(line.slice(3));
  let shapes = SCHEMA_SHAPES[minor <= 13 ? "v1.13" : "v1.15"];
  if (minor === 12) {
    shapes = withProperties(shapes, "v1alpha1.MachineConfig", {
      network: obj({ kubespan: LEGACY_KUBESPAN }),
    });
  }
  if (minor <= 11) {
    shapes = withProperties(shapes, "v1alpha1.MachineConfig", {
      network: obj({
        hostname: str,
        interfaces: { type: "array", items: LEGACY_DEVICE },
        nameservers: strings,
        searchDomains: strings,
        extraHostEntries: { type: "array", items: obj({ ip: str, aliases: strings }) },
        kubespan: LEGACY_KUBESPAN,
        disableSearchDomain: bool,
      }),
      time: obj({ disabled: bool, servers: strings, bootTimeout: str }),
      registries: obj({
        mirrors: {
          type: "object",
          patternProperties: { ".*": obj({ endpoints: strings, overridePath: bool, skipFallback: bool }) },
        },
        config: { type: "object" },
      }),
    });
    shapes = withProperties(shapes, "v1alpha1.FeaturesConfig", {
      rbac: bool,
      stableHostname: bool,
      apidCheckExtKeyUsage: bool,
    });
    shapes = withProperties(shapes, "v1alpha1.APIServerConfig", { disablePodSecurityPolicy: bool });
  }
  return shapes;
}

const SHAPES = new Map<TalosLine, SchemaShapes>();

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "$patch") continue;
    if (isPlainObject(item) && item.$patch === "delete") continue;
    out[key] = stripDirectives(item);
  }
  return out;
}

/**
 * Every reason Talos (`talosctl validate --mode metal --strict`) would refuse these documents on the
 * target line, without throwing. See {@link validateConfig}.
 *
 * @internal
 */
export function configIssues(docs: readonly ConfigDocument[], options: ValidateConfigOptions): ConfigIssue[] {
  const features = versionFeatures(options.target);
  let shapes = SHAPES.get(features.line);
  if (shapes === undefined) {
    shapes = shapesFor(features.line);
    SHAPES.set(features.line, shapes);
  }
  const partial = options.partial === true;
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const raw of docs) {
    if (!isPlainObject(raw)) {
      issues.push({ document: "?", path: "", message: "a document must be a mapping" });
      continue;
    }
    const label = documentLabel(raw);
    const add = (path: string, message: string): void => {
      issues.push({ document: label, path, message });
    };
    if (raw.$patch === "delete") {
      if (!partial) add("$patch", "a complete config cannot hold a delete directive");
      continue;
    }
    const key = documentKey(raw);
    const id = `${key.kind}\u0000${key.name}`;
    // A patch may hold the same document twice (merged in order); a config may not.
    if (!partial && seen.has(id)) add("", "is a duplicate document (same kind and name)");
    seen.add(id);
    let doc = raw;
    if (partial) doc = stripDirectives(raw) as ConfigDocument;
    else if (JSON.stringify(raw).includes('"$patch"'))
      add("", "a complete config cannot hold $patch directives");
    let def: string | undefined;
    if (isV1Alpha1Document(doc)) {
      if (doc.version !== undefined && doc.version !== "v1alpha1") add("version", "must be v1alpha1");
      if (!partial && doc.version === undefined) add("version", "is required");
      def = shapes.kinds.v1alpha1;
    } else {
      if (doc.apiVersion !== "v1alpha1") add("apiVersion", "must be v1alpha1");
      if (!features.registeredKinds.includes(key.kind)) {
        add("kind", `Talos ${features.line} has no document kind ${JSON.stringify(key.kind)}`);
        continue;
      }
      // The schema spells the UnattendedInstallConfig definition's kind "UnattendedInstall".
      def =
        shapes.kinds[key.kind] ??
        (key.kind === "UnattendedInstallConfig" ? shapes.kinds.UnattendedInstall : undefined);
    }
    if (def === undefined || shapes.defs[def] === undefined) continue;
    const found: { path: string; message: string }[] = [];
    checkShape(
      doc,
      shapes.defs[def] as Shape,
      shapes,
      "",
      { partial, skip: (path) => path === "kind" || path === "apiVersion" },
      found,
    );
    for (const f of found) add(f.path, f.message);
  }
  return issues;
}

/**
 * Checks documents the way Talos loads them (`talosctl validate --mode metal --strict`): every kind is
 * one the target line registers (by its registered name: `UnattendedInstallConfig`, not the schema's
 * `UnattendedInstall`), every field is one the official schema of the line lists (Talos decodes with
 * known fields only), values have the schema's types and enums, and (unless
 * `partial`) no document appears twice, required fields are present and no `$patch` directive is left. 1.11 and 1.12 are checked
 * against the 1.13.9 schema plus the v1alpha1 sections those lines still list (`machine.network`,
 * `machine.time`, three feature flags); 1.14 against the 1.15 one (the same kinds).
 *
 * @throws TalosConfigError `INVALID_CONFIG` listing every issue (`details.issues`: document, path,
 * message), `UNSUPPORTED_VERSION`.
 */
export function validateConfig(docs: readonly ConfigDocument[], options: ValidateConfigOptions): void {
  const issues = configIssues(docs, options);
  if (issues.length === 0) return;
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.document}${i.path === "" ? "" : `:${i.path}`} ${i.message}`)
    .join("; ");
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  throw new TalosConfigError(
    "INVALID_CONFIG",
    `Talos ${versionFeatures(options.target).line} would refuse this config: ${shown}${more}`,
    { details: { issues } },
  );
}

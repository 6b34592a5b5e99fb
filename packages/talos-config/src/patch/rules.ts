/**
 * How Talos merges a field, beyond the default (mappings merged per key, lists concatenated,
 * scalars overwritten unless the patch value is a zero value). The table mirrors the `merge:"replace"`
 * tags and the custom mergers of Talos' config types.
 */
export type MergeRule =
  | { readonly type: "default" }
  /** The patch value replaces the field when it is not empty. */
  | { readonly type: "replace" }
  /** Key-wise replace of an argument map (`extraArgs`): each patched key replaces, list values included. */
  | { readonly type: "args" }
  /** A list merged element-wise by identity (`keys` are tried in order; the first the patch element has decides). */
  | { readonly type: "byKey"; readonly keys: readonly string[] };

const DEFAULT: MergeRule = { type: "default" };
const REPLACE: MergeRule = { type: "replace" };
const ARGS: MergeRule = { type: "args" };

/** Paths use `.` between keys and `*` for "any list element". */
const RULES: Readonly<Record<string, Readonly<Record<string, MergeRule>>>> = {
  v1alpha1: {
    "machine.network.interfaces": { type: "byKey", keys: ["interface", "deviceSelector"] },
    "machine.network.interfaces.*.vlans": { type: "byKey", keys: ["vlanId"] },
    "cluster.network.podSubnets": REPLACE,
    "cluster.network.serviceSubnets": REPLACE,
    "cluster.apiServer.auditPolicy": REPLACE,
    "cluster.apiServer.admissionControl": { type: "byKey", keys: ["name"] },
  },
  ExtensionServiceConfig: {
    configFiles: { type: "byKey", keys: ["mountPath"] },
  },
  KubeNetworkConfig: {
    podSubnets: REPLACE,
    serviceSubnets: REPLACE,
  },
  KubeAuditPolicyConfig: { configuration: REPLACE },
  KubeAuthenticationConfig: { configuration: REPLACE },
  KubeCredentialProviderConfig: { configuration: REPLACE },
  KubeStaticPodConfig: { pod: REPLACE },
  CRIBaseRuntimeSpecConfig: { overrides: REPLACE },
  BGPInstanceConfig: {
    advertise: REPLACE,
    importRoutes: REPLACE,
    neighbors: REPLACE,
  },
  NetworkRuleConfig: {
    ingress: REPLACE,
    "portSelector.ports": REPLACE,
  },
};

/**
 * The merge rule for a field of a document of `kind` at `path` (list indexes written as `*`).
 * Any mapping named `extraArgs` is an argument map (Talos' `Args` type); flannel's `extraArgs` is a
 * list and stays a plain list.
 */
export function mergeRuleFor(kind: string, path: readonly string[]): MergeRule {
  const byKind = RULES[kind];
  if (byKind !== undefined) {
    const rule = byKind[path.join(".")];
    if (rule !== undefined) return rule;
    if (kind === "BGPInstanceConfig") {
      const leaf = path[path.length - 1];
      if (leaf === "advertise" || leaf === "importRoutes" || leaf === "neighbors") return REPLACE;
    }
  }
  if (path[path.length - 1] === "extraArgs") return ARGS;
  return DEFAULT;
}

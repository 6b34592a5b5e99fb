/** Defaults of Talos' config generator (facts from pkg/machinery/config/generate and constants). */

export const KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet";
export const API_SERVER_IMAGE = "registry.k8s.io/kube-apiserver";
export const CONTROLLER_MANAGER_IMAGE = "registry.k8s.io/kube-controller-manager";
export const SCHEDULER_IMAGE = "registry.k8s.io/kube-scheduler";
export const PROXY_IMAGE = "registry.k8s.io/kube-proxy";

export const DEFAULT_IPV4_POD_CIDR = "10.244.0.0/16";
export const DEFAULT_IPV4_SERVICE_CIDR = "10.96.0.0/12";
export const DEFAULT_IPV6_POD_CIDR = "fc00:db8:10::/56";
export const DEFAULT_IPV6_SERVICE_CIDR = "fc00:db8:20::/112";
export const DEFAULT_DNS_DOMAIN = "cluster.local";
export const DEFAULT_DISCOVERY_ENDPOINT = "https://discovery.talos.dev/";
export const DEFAULT_KUBEPRISM_PORT = 7445;
export const FLANNEL_BACKEND = "vxlan";
export const FLANNEL_BACKEND_PORT = 4789;
/** 7 days, as Go prints the duration. */
export const FILESYSTEM_TRIM_INTERVAL = "168h0m0s";

export const LABEL_CONTROL_PLANE = "node-role.kubernetes.io/control-plane";
export const LABEL_EXCLUDE_FROM_EXTERNAL_LB = "node.kubernetes.io/exclude-from-external-load-balancers";

/** The PodSecurity admission plugin configuration Talos ships by default. */
export function podSecurityConfiguration(): Record<string, unknown> {
  return {
    apiVersion: "pod-security.admission.config.k8s.io/v1alpha1",
    defaults: {
      audit: "restricted",
      "audit-version": "latest",
      enforce: "baseline",
      "enforce-version": "latest",
      warn: "restricted",
      "warn-version": "latest",
    },
    exemptions: {
      namespaces: ["kube-system"],
      runtimeClasses: [],
      usernames: [],
    },
    kind: "PodSecurityConfiguration",
  };
}

/** The API server audit policy Talos ships by default. */
export function auditPolicy(): Record<string, unknown> {
  return { apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level: "Metadata" }] };
}

/** The API server authentication configuration Talos ships by default (1.14+). */
export function authenticationConfiguration(): Record<string, unknown> {
  return {
    anonymous: {
      conditions: [{ path: "/livez" }, { path: "/readyz" }, { path: "/healthz" }],
      enabled: true,
    },
    jwt: [],
  };
}

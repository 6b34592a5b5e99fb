/** Fields every multi-document kind carries. */
type Header<K extends string> = { apiVersion: "v1alpha1"; kind: K };

/** KubeletConfig (≥1.14). `image` is required in a complete config (the generator sets it). */
export type KubeletConfigDocument = Header<"KubeletConfig"> & {
  image?: string;
  config?: Record<string, unknown>;
  extraArgs?: Record<string, string | string[]>;
  clusterDNS?: string[];
  defaultRuntimeSeccompProfileEnabled?: boolean;
};

/** KubeNodeConfig (≥1.14). Control planes refuse workloads through the taint `node-role.kubernetes.io/control-plane: NoSchedule`. */
export type KubeNodeConfigDocument = Header<"KubeNodeConfig"> & {
  nodeIP?: { validSubnets?: string[] };
  registerWithFQDN?: boolean;
  skipNodeRegistration?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** key → `value:Effect` (or `:Effect`); a patch may use `{ $patch: "delete" }` to remove a key. */
  taints?: Record<string, string | { $patch: "delete" }>;
};

/** KubeClusterConfig (≥1.14). `endpoint` must start with `https://`. */
export type KubeClusterConfigDocument = Header<"KubeClusterConfig"> & {
  clusterName?: string;
  endpoint?: string;
};

/** KubeNetworkConfig (≥1.14). Subnet lists replace on merge. */
export type KubeNetworkConfigDocument = Header<"KubeNetworkConfig"> & {
  podSubnets?: string[];
  serviceSubnets?: string[];
  dnsDomain?: string;
  nodeCIDRMaskSizeIPv4?: number;
  nodeCIDRMaskSizeIPv6?: number;
};

/** KubeFlannelCNIConfig (≥1.14): its presence enables flannel. */
export type KubeFlannelCNIConfigDocument = Header<"KubeFlannelCNIConfig"> & {
  backendType?: string;
  backendPort?: number;
  backendMTU?: number;
  extraArgs?: string[];
  kubeNetworkPoliciesEnabled?: boolean;
};

/** KubeInlineManifestConfig (≥1.14). */
export type KubeInlineManifestConfigDocument = Header<"KubeInlineManifestConfig"> & {
  name: string;
  manifest: string;
};

/** KubeExternalManifestConfig (≥1.14). */
export type KubeExternalManifestConfigDocument = Header<"KubeExternalManifestConfig"> & {
  name: string;
  url: string;
  headers?: Record<string, string>;
};

/** KubeAPIServerConfig (≥1.14), limited to the fields this package builds; `image` is required in a complete config. */
export type KubeAPIServerConfigDocument = Header<"KubeAPIServerConfig"> & {
  image?: string;
  certExtraSANs?: string[];
  extraArgs?: Record<string, string | string[]>;
  apiPort?: number;
};

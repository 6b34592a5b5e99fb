import { parseAllDocuments } from "yaml";
import { HomelabError } from "../../errors.js";

// Where a machine config names the images of the Kubernetes components, and how to change one
// without touching anything else: the Kube*Config documents where the config has them (Talos 1.14+),
// the v1alpha1 fields otherwise (talos pkg/machinery/config/generate/stdpatches: With*Image and the
// GuessVersionContract* helpers decide by the presence of the document, not by the Talos version).

/** Images of the Kubernetes components a machine config names (v1alpha1 fields or the 1.14+ Kube*Config documents). */
export interface ComponentImages {
  kubelet?: string;
  "kube-apiserver"?: string;
  "kube-controller-manager"?: string;
  "kube-scheduler"?: string;
  "kube-proxy"?: string;
}

/** Where each component's image lives: the 1.14+ document kind, and the v1alpha1 path. */
export const COMPONENT_FIELDS = {
  kubelet: { kind: "KubeletConfig", v1alpha1: ["machine", "kubelet", "image"] },
  "kube-apiserver": { kind: "KubeAPIServerConfig", v1alpha1: ["cluster", "apiServer", "image"] },
  "kube-controller-manager": {
    kind: "KubeControllerManagerConfig",
    v1alpha1: ["cluster", "controllerManager", "image"],
  },
  "kube-scheduler": { kind: "KubeSchedulerConfig", v1alpha1: ["cluster", "scheduler", "image"] },
  "kube-proxy": { kind: "KubeProxyConfig", v1alpha1: ["cluster", "proxy", "image"] },
} as const;

/** The component images a machine config (YAML, possibly several documents) names. */
export function componentImages(configText: string): ComponentImages {
  const docs = parseAllDocuments(configText).map((d) => d.toJS() as Record<string, unknown> | null);
  const images: ComponentImages = {};
  for (const [component, where] of Object.entries(COMPONENT_FIELDS) as [
    keyof ComponentImages,
    (typeof COMPONENT_FIELDS)[keyof ComponentImages],
  ][]) {
    const doc = docs.find((d) => d?.kind === where.kind);
    if (typeof doc?.image === "string") {
      images[component] = doc.image;
      continue;
    }
    const v1alpha1 = docs.find((d) => d !== null && d.kind === undefined && d.version === "v1alpha1");
    let value: unknown = v1alpha1;
    for (const key of where.v1alpha1)
      value =
        typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === "string") images[component] = value;
  }
  return images;
}

/** The Kubernetes version an image reference names (`…/kubelet:v1.35.0-fat` → `v1.35.0`). */
export function imageVersion(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const name = image.split("@")[0] ?? image;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(colon + 1).replace(/-(fat|slim)$/, "") : undefined;
}

/** The default repository of each component (talos pkg/machinery/constants). */
export const DEFAULT_REPOSITORIES: Record<keyof ComponentImages, string> = {
  kubelet: "ghcr.io/siderolabs/kubelet",
  "kube-apiserver": "registry.k8s.io/kube-apiserver",
  "kube-controller-manager": "registry.k8s.io/kube-controller-manager",
  "kube-scheduler": "registry.k8s.io/kube-scheduler",
  "kube-proxy": "registry.k8s.io/kube-proxy",
};

/**
 * The image of `component` for Kubernetes `version` (`1.35.1`): the repository the config names now
 * (a mirror stays a mirror), else the default one; a kubelet keeps its `-fat`/`-slim` suffix.
 */
export function componentImage(
  component: keyof ComponentImages,
  version: string,
  current: string | undefined,
): string {
  const name = current?.split("@")[0];
  const colon = name === undefined ? -1 : name.lastIndexOf(":");
  const repository =
    name === undefined
      ? DEFAULT_REPOSITORIES[component]
      : colon > name.lastIndexOf("/")
        ? name.slice(0, colon)
        : name;
  const suffix = component === "kubelet" ? (/-(fat|slim)$/.exec(current ?? "")?.[0] ?? "") : "";
  return `${repository}:v${version.replace(/^v/, "")}${suffix}`;
}

/**
 * The machine config with `component`'s image set to `image` (every other byte of every document
 * kept): in its Kube*Config document when there is one, else in the v1alpha1 document.
 */
export function withComponentImage(
  configText: string,
  component: keyof ComponentImages,
  image: string,
): string {
  const docs = parseAllDocuments(configText);
  const where = COMPONENT_FIELDS[component];
  const own = docs.find((d) => d.get("kind") === where.kind);
  if (own !== undefined) own.set("image", image);
  else {
    const v1alpha1 = docs.find((d) => d.get("kind") === undefined && d.get("version") === "v1alpha1");
    if (v1alpha1 === undefined)
      throw new HomelabError(
        "STATE_INVALID",
        `the machine config has neither a ${where.kind} nor a v1alpha1 document`,
      );
    v1alpha1.setIn([...where.v1alpha1], image);
  }
  return docs.map((d) => d.toString()).join("---\n");
}

/** talos pkg/machinery/constants: CoreDNSImage and DefaultCoreDNSVersion (what a config without `cluster.coreDNS.image` runs). */
export const DEFAULT_COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.7";

/**
 * The images of the bootstrap manifests Talos renders from a control plane's machine config and
 * applies to kube-system (talos pkg/machinery/config/types/v1alpha1/v1alpha1_provider.go CoreDNS;
 * the manifests controller leaves out what `cluster.proxy.disabled`/`cluster.coreDNS.disabled` turn off):
 * the kube-proxy DaemonSet's image and the coredns Deployment's.
 */
export function bootstrapManifestImages(configText: string): { "kube-proxy"?: string; coredns?: string } {
  const docs = parseAllDocuments(configText).map((d) => d.toJS() as Record<string, unknown> | null);
  const v1alpha1 = docs.find((d) => d !== null && d.kind === undefined && d.version === "v1alpha1");
  const cluster = (v1alpha1?.cluster ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const proxy = componentImages(configText)["kube-proxy"];
  const coreDNS = cluster.coreDNS ?? {};
  return {
    ...(cluster.proxy?.disabled === true || proxy === undefined ? {} : { "kube-proxy": proxy }),
    ...(coreDNS.disabled === true
      ? {}
      : { coredns: typeof coreDNS.image === "string" ? coreDNS.image : DEFAULT_COREDNS_IMAGE }),
  };
}

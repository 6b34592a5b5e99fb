import type { KubeEmulator } from "../adapters/argo-bootstrap.js";
import type { TalosEmulator } from "../adapters/talos-client.js";
import type { HomelabConfig } from "../config/load.js";
import {
  bootstrapManifestImages,
  type ComponentImages,
  componentImages,
  imageVersion,
} from "../plan/kubernetes-images.js";

// The kubelets of the simulated lab: every Talos node that runs with a config in a bootstrapped
// cluster registers a Kubernetes Node in the Kubernetes emulator, Ready while the Talos node runs
// (NotReady while it reboots, is upgraded or is down), reporting the kubelet version of its
// machine config; control planes run the static pods of their config (kube-apiserver,
// kube-controller-manager, kube-scheduler), and the API server's version follows theirs. Once the
// cluster is bootstrapped, kube-system holds what Talos's bootstrap manifests create there: the
// kube-proxy DaemonSet (unless disabled) and the coredns Deployment, with the images of the first
// control plane's config; after that only `upgrade kubernetes` (as talosctl upgrade-k8s) changes them.

/** The kube-system workloads of Talos's bootstrap manifests (talos internal/app/machined/pkg/controllers/k8s/internal/k8stemplates). */
function bootstrapManifests(images: { "kube-proxy"?: string; coredns?: string }): Record<string, unknown>[] {
  const workload = (kind: string, name: string, app: string, image: string, tolerations: unknown[]) => ({
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: "kube-system", labels: { "k8s-app": app } },
    spec: {
      ...(kind === "Deployment" ? { replicas: 2 } : {}),
      selector: { matchLabels: { "k8s-app": app } },
      template: {
        metadata: { labels: { "k8s-app": app } },
        spec: { tolerations, containers: [{ name, image }] },
      },
    },
  });
  return [
    ...(images["kube-proxy"] === undefined
      ? []
      : [
          workload("DaemonSet", "kube-proxy", "kube-proxy", images["kube-proxy"], [
            { effect: "NoSchedule", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ]),
        ]),
    ...(images.coredns === undefined
      ? []
      : [
          workload("Deployment", "coredns", "kube-dns", images.coredns, [
            { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
          ]),
        ]),
  ];
}

/**
 * The function that brings the Kubernetes emulator's Nodes in step with the Talos emulator's nodes;
 * the lab calls it on its tick (often while the nodes are being called, seldom when idle).
 */
export function kubeNodeSync(options: {
  talos: TalosEmulator;
  kube: KubeEmulator;
  config: HomelabConfig;
}): () => void {
  const { talos, kube, config } = options;
  const defaultVersion = `v${config.cluster.kubernetesVersion.replace(/^v/, "")}`;
  const parsed = new Map<string, { text: string; images: ComponentImages }>();
  const imagesOf = (name: string, text: string): ComponentImages => {
    const seen = parsed.get(name);
    if (seen?.text === text) return seen.images;
    const images = componentImages(text);
    parsed.set(name, { text, images });
    return images;
  };
  const registered = new Map<string, string>();
  let manifestsApplied = false;
  const sync = () => {
    if (!talos.isBootstrapped()) return;
    let apiServer: string | undefined;
    for (const node of talos.nodes) {
      const text = node.appliedConfig();
      const role = node.role();
      const running = node.state() === "running";
      if (text === undefined || role === undefined) {
        // wiped or reset: the Node stays, NotReady, until someone deletes it
        if (registered.has(node.name) && registered.get(node.name) !== "gone") {
          kube.nodes.setReady(node.name, false);
          registered.set(node.name, "gone");
        }
        continue;
      }
      const images = imagesOf(node.name, text);
      const controlPlane = role === "controlplane";
      const staticPods = controlPlane
        ? (["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const).map((component) => ({
            name: component,
            image: images[component] ?? `registry.k8s.io/${component}:${defaultVersion}`,
          }))
        : [];
      if (controlPlane && running && apiServer === undefined)
        apiServer = imageVersion(staticPods[0]?.image) ?? defaultVersion;
      const registration = {
        kubeletVersion: imageVersion(images.kubelet) ?? defaultVersion,
        osImage: `Talos (${node.talosVersion()})`,
        staticPods,
        ready: running,
      };
      const fingerprint = JSON.stringify(registration);
      if (registered.get(node.name) === fingerprint) continue;
      if (!registered.has(node.name)) {
        // the kubelet registers once it first runs
        if (!running) continue;
        kube.nodes.register({
          name: node.name,
          internalIP: node.address,
          controlPlane,
          ...(controlPlane && !config.cluster.allowSchedulingOnControlPlanes
            ? { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" as const }] }
            : {}),
          ...registration,
        });
      } else kube.nodes.update(node.name, registration);
      registered.set(node.name, fingerprint);
    }
    if (apiServer !== undefined) kube.setKubernetesVersion(apiServer);
    if (!manifestsApplied && apiServer !== undefined) {
      const first = talos.nodes.find((n) => n.role() === "controlplane" && n.appliedConfig() !== undefined);
      const text = first?.appliedConfig();
      if (text !== undefined) {
        for (const object of bootstrapManifests(bootstrapManifestImages(text)))
          kube.apply(object, { fieldManager: "talos" });
        manifestsApplied = true;
      }
    }
  };
  return () => {
    try {
      sync();
    } catch {
      // a half-written config is read again on the next tick
    }
  };
}

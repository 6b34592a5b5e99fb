import { defineCommand } from "../../cli/command.js";
import { UPGRADE_KUBERNETES_OPTIONS } from "./options.js";

/** `homelab upgrade kubernetes [--to X.Y.Z]` */
export const command = defineCommand({
  name: "kubernetes",
  summary:
    "Upgrade Kubernetes as talosctl upgrade-k8s does: control plane components node by node, kubelets, bootstrap manifests",
  description: [
    "Sets cluster.kubernetesVersion in homelab.yaml (with --to; comments and layout kept), then, as",
    "`talosctl upgrade-k8s` does: kube-apiserver, kube-controller-manager and kube-scheduler one control",
    "plane at a time (each waits for its new static pod to be Ready), kube-proxy, then each node's kubelet",
    "(waits until the Node reports the new version), with a cluster health gate between nodes; last, the",
    "images of the bootstrap manifests in kube-system (the kube-proxy DaemonSet, the coredns Deployment)",
    "as the first control plane's config now names them, then a health gate. The images",
    "are patched into each node's machine config: the Kube*Config documents where the config has them",
    "(Talos 1.14+), the v1alpha1 cluster.*.image and machine.kubelet.image fields otherwise. Refuses a",
    "jump that skips a minor version and a version the Talos line in use does not support.",
  ].join("\n"),
  options: UPGRADE_KUBERNETES_OPTIONS,
  examples: [
    "homelab upgrade kubernetes --to 1.35.1",
    "homelab upgrade kubernetes --to 1.36.0 --yes --json",
    "homelab upgrade kubernetes --to 1.35.1 --simulate",
  ],
  async run(inv) {
    const { runUpgradeKubernetes } = await import("../../day2/upgrade-kubernetes.js");
    return runUpgradeKubernetes(inv);
  },
});

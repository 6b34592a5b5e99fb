import { describe, it } from "vitest";
import {
  componentImage,
  componentImages,
  withComponentImage,
} from "../src/internal/plan/kubernetes-images.js";

const legacy = [
  "version: v1alpha1 # the machine config",
  "machine:",
  "  kubelet:",
  "    image: ghcr.io/siderolabs/kubelet:v1.35.0",
  "cluster:",
  "  apiServer:",
  "    image: registry.k8s.io/kube-apiserver:v1.35.0 # pinned",
  "",
].join("\n");

const multiDoc = [
  "version: v1alpha1",
  "machine:",
  "  type: controlplane",
  "---",
  "apiVersion: v1alpha1",
  "kind: KubeAPIServerConfig",
  "image: mirror.example/kube-apiserver:v1.35.0",
  "---",
  "apiVersion: v1alpha1",
  "kind: KubeletConfig",
  "image: ghcr.io/siderolabs/kubelet:v1.35.0-fat",
  "",
].join("\n");

describe("withComponentImage", () => {
  it("sets the v1alpha1 field when the config has no Kube*Config document, keeping comments", ({
    expect,
  }) => {
    const next = withComponentImage(legacy, "kube-apiserver", "registry.k8s.io/kube-apiserver:v1.36.0");
    expect(next).toContain("image: registry.k8s.io/kube-apiserver:v1.36.0 # pinned");
    expect(next).toContain("version: v1alpha1 # the machine config");
    expect(componentImages(next)["kube-apiserver"]).toBe("registry.k8s.io/kube-apiserver:v1.36.0");
  });

  it("sets the image of the Kube*Config document when the config has one (Talos 1.14+)", ({ expect }) => {
    const next = withComponentImage(multiDoc, "kube-apiserver", "mirror.example/kube-apiserver:v1.36.0");
    expect(next).toContain("kind: KubeAPIServerConfig\nimage: mirror.example/kube-apiserver:v1.36.0");
    expect(next).not.toContain("apiServer");
  });

  it("adds the v1alpha1 field for a component the config does not name yet", ({ expect }) => {
    const next = withComponentImage(legacy, "kube-scheduler", "registry.k8s.io/kube-scheduler:v1.36.0");
    expect(componentImages(next)["kube-scheduler"]).toBe("registry.k8s.io/kube-scheduler:v1.36.0");
  });
});

describe("componentImage", () => {
  it("keeps the repository in use and the kubelet's -fat suffix", ({ expect }) => {
    expect(componentImage("kube-apiserver", "1.36.0", "mirror.example/kube-apiserver:v1.35.0")).toBe(
      "mirror.example/kube-apiserver:v1.36.0",
    );
    expect(componentImage("kubelet", "1.36.0", "ghcr.io/siderolabs/kubelet:v1.35.0-fat")).toBe(
      "ghcr.io/siderolabs/kubelet:v1.36.0-fat",
    );
    expect(componentImage("kube-scheduler", "1.36.0", undefined)).toBe(
      "registry.k8s.io/kube-scheduler:v1.36.0",
    );
  });
});

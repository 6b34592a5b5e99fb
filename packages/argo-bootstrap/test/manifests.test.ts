import { describe, it } from "vitest";
import {
  APPLICATION_HEALTH_KEY,
  APPLICATION_HEALTH_LUA,
  addApp,
  bootstrapYamlText,
  buildAppProject,
  buildGitApplication,
  buildHelmApplication,
  buildKustomization,
  buildRootApplication,
  createManifestValidator,
  parseManifests,
  toYaml,
  usesSyncWaves,
  withApplicationHealthCheck,
} from "../src/index.js";
import { argoCrdsText } from "./helpers.js";

const helmApp = () =>
  buildHelmApplication({
    name: "cert-manager",
    repoURL: "https://charts.jetstack.io",
    chart: "cert-manager",
    version: "v1.18.2",
    destinationNamespace: "cert-manager",
    syncWave: -1,
    serverSideApply: true,
    values: { crds: { enabled: true } },
  });

describe("buildHelmApplication", () => {
  it("writes a pinned chart source, a string sync wave and the default sync policy", ({ expect }) => {
    expect(toYaml([helmApp()])).toMatchInlineSnapshot(`
      "apiVersion: argoproj.io/v1alpha1
      kind: Application
      metadata:
        name: cert-manager
        namespace: argocd
        annotations:
          argocd.argoproj.io/sync-wave: "-1"
        finalizers:
          - resources-finalizer.argocd.argoproj.io
      spec:
        project: default
        source:
          repoURL: https://charts.jetstack.io
          chart: cert-manager
          targetRevision: v1.18.2
          helm:
            valuesObject:
              crds:
                enabled: true
        destination:
          server: https://kubernetes.default.svc
          namespace: cert-manager
        syncPolicy:
          automated:
            prune: true
            selfHeal: true
          syncOptions:
            - CreateNamespace=true
            - ServerSideApply=true
          retry:
            limit: 5
            backoff:
              duration: 10s
              factor: 2
              maxDuration: 5m
      "
    `);
  });

  it.for(["latest", "*", "^1.0.0", "1.x", ""])(
    "throws INVALID_OPTIONS when the version is %j",
    (version, { expect }) => {
      expect(() =>
        buildHelmApplication({
          name: "x",
          repoURL: "https://c.example",
          chart: "x",
          version,
          destinationNamespace: "x",
        }),
      ).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    },
  );

  it("drops oci:// from an OCI chart repository, as Argo CD wants", ({ expect }) => {
    const app = buildHelmApplication({
      name: "argocd",
      repoURL: "oci://ghcr.io/argoproj/argo-helm",
      chart: "argo-cd",
      version: "10.4.0",
      destinationNamespace: "argocd",
      finalizer: false,
    });
    expect(app.spec.source.repoURL).toBe("ghcr.io/argoproj/argo-helm");
    expect(app.metadata.finalizers).toBeUndefined();
  });

  it("throws INVALID_OPTIONS for a name Kubernetes would refuse", ({ expect }) => {
    expect(() =>
      buildGitApplication({
        name: "My_App",
        repoURL: "https://g.example/r.git",
        path: "x",
        destinationNamespace: "x",
      }),
    ).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});

describe("buildRootApplication", () => {
  it("uses project default, server-side apply, a bounded retry and no cascade finalizer", ({ expect }) => {
    const root = buildRootApplication({
      repoURL: "https://github.com/example/homelab.git",
      path: "cluster/app-of-apps",
    });
    expect(root.metadata).toEqual({ name: "root", namespace: "argocd" });
    expect(root.spec).toMatchObject({
      project: "default",
      source: {
        repoURL: "https://github.com/example/homelab.git",
        path: "cluster/app-of-apps",
        targetRevision: "HEAD",
      },
      destination: { server: "https://kubernetes.default.svc", namespace: "argocd" },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        syncOptions: ["ServerSideApply=true"],
        retry: { limit: 10 },
      },
    });
  });
});

describe("bootstrapYamlText", () => {
  it("is the root Application as a commented YAML file that parses back to buildRootApplication", ({
    expect,
  }) => {
    const options = {
      repoURL: "https://github.com/example/homelab.git",
      path: "cluster/app-of-apps",
      namespace: "gitops",
    };
    const text = bootstrapYamlText(options);
    expect(text.startsWith("# ")).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseManifests(text)).toEqual([buildRootApplication(options)]);
  });

  it("throws INVALID_OPTIONS for a namespace Kubernetes would refuse", ({ expect }) => {
    expect(() =>
      bootstrapYamlText({ repoURL: "https://g.example/r.git", path: "x", namespace: "Argo_CD" }),
    ).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});

describe("buildAppProject", () => {
  it("restricts repositories and destination namespaces and validates against the CRD", ({ expect }) => {
    const project = buildAppProject({
      name: "platform",
      sourceRepos: ["https://charts.jetstack.io"],
      destinationNamespaces: ["cert-manager"],
      syncWave: -1,
    });
    expect(project.spec.destinations).toEqual([
      { server: "https://kubernetes.default.svc", namespace: "cert-manager" },
    ]);
    expect(project.spec.clusterResourceWhitelist).toEqual([{ group: "", kind: "Namespace" }]);
    const validator = createManifestValidator({ crds: argoCrdsText(["appproject"]) });
    expect(validator.validate([project])).toEqual([]);
  });

  it("throws INVALID_OPTIONS when no repository is allowed", ({ expect }) => {
    expect(() => buildAppProject({ name: "p", sourceRepos: [], destinationNamespaces: ["x"] })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });
});

describe("builders", () => {
  it("produce manifests that pass the CRD schemas and the policy with every option set", ({ expect }) => {
    const validator = createManifestValidator({ crds: argoCrdsText() });
    const objects = [
      buildRootApplication({
        repoURL: "https://github.com/example/homelab.git",
        path: "cluster/app-of-apps",
        targetRevision: "v1.2.3",
        retryLimit: 3,
      }),
      buildAppProject({
        name: "apps",
        sourceRepos: ["https://github.com/example/*", "charts.example.org"],
        destinationNamespaces: ["web-*"],
        syncWave: -1,
      }),
      buildGitApplication({
        name: "web",
        project: "apps",
        repoURL: "https://github.com/example/web.git",
        path: "deploy",
        targetRevision: "0123456789abcdef0123456789abcdef01234567",
        destinationNamespace: "web-prod",
        syncWave: 3,
        automated: false,
        serverSideApply: true,
        syncOptions: ["PruneLast=true"],
        labels: { tier: "apps" },
        annotations: { note: "x" },
        namespaceLabels: { "pod-security.kubernetes.io/enforce": "baseline" },
        retryLimit: -1,
      }),
      buildHelmApplication({
        name: "chart",
        project: "apps",
        repoURL: "oci://charts.example.org",
        chart: "c",
        version: "1.0.0-rc.1",
        releaseName: "c",
        destinationNamespace: "web-chart",
        destinationName: "in-cluster",
        values: { a: { b: [1, "on"] } },
      }),
    ];
    expect(validator.validate(objects, { pinGitRevisions: true })).toEqual([]);
    expect(validator.validate(parseManifests(toYaml(objects)), { pinGitRevisions: true })).toEqual([]);
  });
});

describe("buildKustomization", () => {
  it("lists resources once each in order", ({ expect }) => {
    expect(buildKustomization({ resources: ["b.yaml", "a.yaml", "b.yaml"] }).resources).toEqual([
      "b.yaml",
      "a.yaml",
    ]);
  });
});

describe("withApplicationHealthCheck", () => {
  it("adds the Application health Lua to configs.cm and keeps other values", ({ expect }) => {
    const values = withApplicationHealthCheck({
      configs: { cm: { "exec.enabled": false }, params: { "server.insecure": true } },
      dex: { enabled: false },
    });
    expect(values).toEqual({
      configs: {
        cm: { "exec.enabled": false, [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA },
        params: { "server.insecure": true },
      },
      dex: { enabled: false },
    });
    expect(APPLICATION_HEALTH_LUA).toContain("obj.status.health.status");
    expect(usesSyncWaves([helmApp()])).toBe(true);
  });
});

describe("toYaml", () => {
  it("quotes strings a YAML 1.1 reader would turn into booleans or numbers", ({ expect }) => {
    expect(toYaml([{ a: "yes", b: "on", c: "y", d: "010", e: true, f: "v1.18.2" }])).toBe(
      'a: "yes"\nb: "on"\nc: "y"\nd: "010"\ne: true\nf: v1.18.2\n',
    );
  });
});

describe("parseManifests", () => {
  it("round-trips toYaml output", ({ expect }) => {
    const objects = [helmApp(), buildKustomization({ resources: ["a.yaml"] })];
    expect(parseManifests(toYaml(objects))).toEqual(objects);
  });
});

describe("addApp", () => {
  const existing =
    "# Platform apps\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - traefik.yaml # ingress\n";

  it("returns the manifest and the kustomization with the new entry, keeping comments", ({ expect }) => {
    const result = addApp({ application: helmApp(), kustomization: existing });
    expect(result.addedToKustomization).toBe(true);
    expect(result.files.map((f) => f.path)).toEqual([
      "cluster/apps/cert-manager.yaml",
      "cluster/apps/kustomization.yaml",
    ]);
    expect(result.files[1]!.content).toBe(
      "# Platform apps\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - traefik.yaml # ingress\n  - cert-manager.yaml\n",
    );
    expect(parseManifests(result.files[0]!.content)).toEqual([helmApp()]);
  });

  it("creates the kustomization when there is none", ({ expect }) => {
    const result = addApp({ application: helmApp(), appsDir: "gitops/apps/" });
    expect(result.files[1]).toEqual({
      path: "gitops/apps/kustomization.yaml",
      content:
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cert-manager.yaml\n",
    });
  });

  it("throws INVALID_OPTIONS when the app is already listed, unless replace is set", ({ expect }) => {
    const listed = `${existing}  - cert-manager.yaml\n`;
    expect(() => addApp({ application: helmApp(), kustomization: listed })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
    expect(
      addApp({ application: helmApp(), kustomization: listed, replace: true }).addedToKustomization,
    ).toBe(false);
  });

  it("throws POLICY_VIOLATION when the app's project is not among the known projects", ({ expect }) => {
    const app = { ...helmApp(), spec: { ...helmApp().spec, project: "platform" } };
    expect(() => addApp({ application: app, projects: ["apps"] })).toThrow(
      expect.objectContaining({ code: "POLICY_VIOLATION" }),
    );
    expect(addApp({ application: app, projects: ["platform"] }).files).toHaveLength(2);
  });
});

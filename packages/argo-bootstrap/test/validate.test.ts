import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, it } from "vitest";
import {
  APPLICATION_HEALTH_KEY,
  assertValid,
  buildHelmApplication,
  createManifestValidator,
  formatFindings,
  type ManifestValidator,
  parseManifests,
  validateManifests,
  withApplicationHealthCheck,
} from "../src/index.js";
import { argoCrdsText, repoRoot, run } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests mutate manifests freely to break them
type Loose = any;

let validator: ManifestValidator;
beforeAll(() => {
  validator = createManifestValidator({ crds: argoCrdsText() });
});

const app = (): Record<string, unknown> =>
  structuredClone({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: "cert-manager",
      namespace: "argocd",
      annotations: { "argocd.argoproj.io/sync-wave": "1" },
    },
    spec: {
      project: "default",
      source: {
        repoURL: "https://charts.jetstack.io",
        chart: "cert-manager",
        targetRevision: "v1.18.2",
        helm: { valuesObject: { crds: { enabled: true } } },
      },
      destination: { server: "https://kubernetes.default.svc", namespace: "cert-manager" },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  });

function codes(findings: { code: string; path: string }[]): string[] {
  return findings.map((f) => `${f.code} ${f.path}`);
}

describe("validateManifests", () => {
  it("accepts every object of the cluster/ tree as built by kubectl kustomize, plus the root app", async ({
    expect,
  }) => {
    const built = await run("kubectl", ["kustomize", join(repoRoot, "cluster", "app-of-apps")]);
    expect(built.code, built.stderr).toBe(0);
    const objects = parseManifests(built.stdout);
    expect(objects.map((o) => (o as { kind: string }).kind).sort()).toEqual([
      "AppProject",
      "Application",
      "Application",
      "Application",
    ]);
    const rootApp = readFileSync(join(repoRoot, "cluster", "app-of-apps", "bootstrap.yaml"), "utf8");
    const findings = validateManifests([...objects, ...parseManifests(rootApp)], {
      validator,
      argoCdValues: withApplicationHealthCheck({}),
    });
    expect(formatFindings(findings)).toBe("");
  });

  it("accepts every committed file under cluster/ read as files", ({ expect }) => {
    const files: { path: string; content: string }[] = [];
    for (const dir of ["app-of-apps", "apps", "projects", "optional/traefik"]) {
      for (const name of readdirSync(join(repoRoot, "cluster", dir))) {
        files.push({
          path: `cluster/${dir}/${name}`,
          content: readFileSync(join(repoRoot, "cluster", dir, name), "utf8"),
        });
      }
    }
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(validator.validate(files)).toEqual([]);
  });

  it("reports a misspelt field with the path and a suggestion when a field is unknown", ({ expect }) => {
    const manifest = app();
    const source = (manifest.spec as { source: Record<string, unknown> }).source;
    source.targetRevison = source.targetRevision;
    const findings = validator.validate([manifest]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: "error",
        code: "SCHEMA_UNKNOWN_FIELD",
        path: "/spec/source/targetRevison",
        message: 'unknown field "targetRevison" (did you mean "targetRevision"?)',
        object: "Application argocd/cert-manager",
      }),
    );
  });

  it.for<[string, (m: Loose) => unknown, string]>([
    ["a missing project", (m: Loose) => delete m.spec.project, "SCHEMA_REQUIRED /spec/project"],
    [
      "a string for a boolean",
      (m: Loose) => (m.spec.syncPolicy.automated.prune = "yes"),
      "SCHEMA_TYPE /spec/syncPolicy/automated/prune",
    ],
    [
      "a number for a string list item",
      (m: Loose) => (m.spec.syncPolicy.syncOptions = [1]),
      "SCHEMA_TYPE /spec/syncPolicy/syncOptions/0",
    ],
    ["an unknown top-level field", (m: Loose) => (m.specs = {}), "SCHEMA_UNKNOWN_FIELD /specs"],
    [
      "an unknown metadata field",
      (m: Loose) => (m.metadata.label = {}),
      "SCHEMA_UNKNOWN_FIELD /metadata/label",
    ],
    [
      "an unquoted label value",
      (m: Loose) => (m.metadata.labels = { enabled: true }),
      "SCHEMA_TYPE /metadata/labels/enabled",
    ],
    [
      "a non-integer sync wave",
      (m: Loose) => (m.metadata.annotations["argocd.argoproj.io/sync-wave"] = "first"),
      "INVALID_SYNC_WAVE /metadata/annotations/argocd.argoproj.io~1sync-wave",
    ],
    [
      "an empty hydrator sync path",
      (m: Loose) =>
        (m.spec.sourceHydrator = {
          drySource: {
            repoURL: "https://github.com/example/homelab.git",
            targetRevision: "main",
            path: "apps",
          },
          syncSource: { targetBranch: "env/prod", path: "" },
        }),
      "SCHEMA_LENGTH /spec/sourceHydrator/syncSource/path",
    ],
    ["an upper-case name", (m: Loose) => (m.metadata.name = "CertManager"), "INVALID_NAME /metadata/name"],
    [
      "no destination namespace",
      (m: Loose) => delete m.spec.destination.namespace,
      "MISSING_DESTINATION_NAMESPACE /spec/destination/namespace",
    ],
    [
      "both destination server and name",
      (m: Loose) => (m.spec.destination.name = "in-cluster"),
      "INVALID_DESTINATION /spec/destination",
    ],
    [
      "an Application outside argocd",
      (m: Loose) => (m.metadata.namespace = "default"),
      "WRONG_NAMESPACE /metadata/namespace",
    ],
    [
      "a project that does not exist",
      (m: Loose) => (m.spec.project = "platform"),
      "UNKNOWN_PROJECT /spec/project",
    ],
  ])("reports %s", ([, mutate, expected], { expect }) => {
    const manifest = app();
    mutate(manifest as Loose);
    expect(codes(validator.validate([manifest]))).toContain(expected);
  });

  it.for(["latest", "*", "^1.18.0", "~1.18.0", "1.x", ">=1.0.0", "1.18", "", "1.18.*"])(
    "reports UNPINNED_CHART_VERSION when the chart version is %j",
    (version, { expect }) => {
      const manifest = app();
      (manifest.spec as { source: Record<string, unknown> }).source.targetRevision = version;
      expect(codes(validator.validate([manifest]))).toContain(
        "UNPINNED_CHART_VERSION /spec/source/targetRevision",
      );
    },
  );

  it("reports UNPINNED_CHART_VERSION when a chart has no targetRevision at all", ({ expect }) => {
    const manifest = app();
    delete (manifest.spec as { source: Record<string, unknown> }).source.targetRevision;
    expect(validateManifests([manifest])[0]).toMatchObject({ code: "UNPINNED_CHART_VERSION" });
  });

  it("reports a duplicate name once per repeat", ({ expect }) => {
    const findings = validator.validate([app(), app()]);
    expect(findings.filter((f) => f.code === "DUPLICATE_NAME")).toEqual([
      expect.objectContaining({ index: 1, path: "/metadata/name" }),
    ]);
  });

  it("checks the source repository and destination against the app's AppProject", ({ expect }) => {
    const project = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "platform", namespace: "argocd" },
      spec: {
        sourceRepos: ["https://charts.jetstack.io"],
        destinations: [{ server: "https://kubernetes.default.svc", namespace: "cert-*" }],
      },
    };
    const allowed = app();
    (allowed.spec as { project: string }).project = "platform";
    expect(validator.validate([project, allowed])).toEqual([]);
    const denied = app();
    Object.assign(denied.spec as object, {
      project: "platform",
      source: { repoURL: "https://charts.example.org", chart: "x", targetRevision: "1.0.0" },
      destination: { server: "https://kubernetes.default.svc", namespace: "kube-system" },
    });
    expect(codes(validator.validate([project, denied]))).toEqual([
      "SOURCE_NOT_PERMITTED /spec/source/repoURL",
      "DESTINATION_NOT_PERMITTED /spec/destination",
    ]);
  });

  it.for<[string, string, boolean]>([
    // argo-cd v3.5.1 app_project_types.go IsSourcePermitted: gobwas/glob with '/' as separator on
    // NormalizeGitURL'd URLs (lower case, no .git suffix)
    ["https://github.com/example/*", "https://github.com/example/homelab.git", true],
    ["https://github.com/example/*", "https://github.com/example/team/homelab.git", false],
    ["https://github.com/example/**", "https://github.com/example/team/homelab.git", true],
    ["https://GitHub.com/Example/homelab.git", "https://github.com/example/homelab", true],
    ["https://github.com/example/{homelab,lab}", "https://github.com/example/lab.git", true],
    ["git@github.com:example/*", "git@github.com:example/homelab.git", true],
  ])("matches sourceRepos %s against %s as Argo CD does: %s", ([pattern, repoURL, permitted], { expect }) => {
    const project = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "platform", namespace: "argocd" },
      spec: {
        sourceRepos: [pattern],
        destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
      },
    };
    const manifest = app();
    Object.assign(manifest.spec as object, {
      project: "platform",
      source: { repoURL, path: "apps", targetRevision: "v1.0.0" },
    });
    expect(codes(validator.validate([project, manifest]))).toEqual(
      permitted ? [] : ["SOURCE_NOT_PERMITTED /spec/source/repoURL"],
    );
  });

  it("refuses a source a deny pattern names although another pattern permits it", ({ expect }) => {
    const project = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "platform", namespace: "argocd" },
      spec: {
        sourceRepos: ["https://github.com/example/*", "!https://github.com/example/secret"],
        destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
      },
    };
    const manifest = (repoURL: string) => {
      const m = app();
      Object.assign(m.spec as object, {
        project: "platform",
        source: { repoURL, path: "a", targetRevision: "v1" },
      });
      return m;
    };
    expect(codes(validator.validate([project, manifest("https://github.com/example/public.git")]))).toEqual(
      [],
    );
    expect(codes(validator.validate([project, manifest("https://github.com/example/secret.git")]))).toEqual([
      "SOURCE_NOT_PERMITTED /spec/source/repoURL",
    ]);
  });

  it("warns when sync waves are used and the Argo CD values lack the Application health check", ({
    expect,
  }) => {
    const findings = validator.validate([app()], { argoCdValues: { configs: { cm: {} } } });
    expect(findings).toEqual([
      expect.objectContaining({ severity: "warning", code: "WAVES_WITHOUT_HEALTH_CHECK" }),
    ]);
    expect(APPLICATION_HEALTH_KEY in (withApplicationHealthCheck({}).configs as { cm: object }).cm).toBe(
      true,
    );
  });

  it("reports the file name when files are given", ({ expect }) => {
    const findings = validator.validate([
      {
        path: "cluster/apps/x.yaml",
        content: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec: {}\n",
      },
    ]);
    expect(findings[0]).toMatchObject({ file: "cluster/apps/x.yaml", code: "SCHEMA_REQUIRED" });
  });

  it("reports an Argo CD kind the CRDs do not define", ({ expect }) => {
    expect(
      codes(
        validator.validate([
          { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", metadata: { name: "r" } },
        ]),
      ),
    ).toContain("UNKNOWN_KIND /kind");
  });

  it("throws INVALID_MANIFEST on broken YAML", ({ expect }) => {
    expect(() => validator.validate("kind: [unclosed")).toThrow(
      expect.objectContaining({ code: "INVALID_MANIFEST" }),
    );
  });

  it("checks every keyword a CRD's structural schema may use, naming the path and what was expected", ({
    expect,
  }) => {
    // a CRD beside Argo CD's, with the OpenAPI keywords Kubernetes accepts in structural schemas
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      spec: {
        group: "example.com",
        names: { kind: "Widget" },
        versions: [
          {
            name: "v1",
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  apiVersion: { type: "string" },
                  kind: { type: "string" },
                  metadata: { type: "object" },
                  spec: {
                    type: "object",
                    required: ["size"],
                    properties: {
                      size: {
                        type: "integer",
                        multipleOf: 2,
                        exclusiveMinimum: true,
                        minimum: 0,
                        maximum: 10,
                      },
                      ratio: { type: "number", nullable: true },
                      port: {
                        "x-kubernetes-int-or-string": true,
                        anyOf: [{ type: "integer" }, { type: "string" }],
                      },
                      mode: { type: "string", enum: ["a", "b"] },
                      code: { type: "string", pattern: "^[a-z]+$", maxLength: 4 },
                      at: { type: "string", format: "date-time" },
                      labels: { type: "object", maxProperties: 1, additionalProperties: { type: "string" } },
                      free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                      tags: { type: "array", items: { type: "string" }, minItems: 1 },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    const widgets = createManifestValidator({ crds: [crd] });
    const widget = (spec: Record<string, unknown>) => [
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec },
    ];
    const found = (spec: Record<string, unknown>) =>
      widgets.validate(widget(spec)).map((f) => `${f.code} ${f.path}: ${f.message}`);
    expect(found({ size: 4, ratio: null, port: "http", free: { any: [1] }, tags: ["x"] })).toEqual([]);
    expect(found({ size: 3 })).toEqual(["SCHEMA_RANGE /spec/size: must be a multiple of 2"]);
    expect(found({ size: 0 })).toEqual(["SCHEMA_RANGE /spec/size: must be > 0"]);
    expect(found({ size: 12 })).toEqual(["SCHEMA_RANGE /spec/size: must be <= 10"]);
    expect(found({ size: 2, labels: { a: "1", b: "2" } })).toEqual([
      "SCHEMA_LENGTH /spec/labels: must have at most 1 properties",
    ]);
    expect(found({ size: 2, labels: { a: 1 } })).toEqual([
      "SCHEMA_TYPE /spec/labels/a: must be string (got integer)",
    ]);
    expect(found({ size: 2, port: 1.5 })).toEqual([
      "SCHEMA_TYPE /spec/port: must be an integer or a string (got number)",
    ]);
    expect(found({ size: 2, mode: "c" })).toEqual(['SCHEMA_ENUM /spec/mode: must be one of "a", "b"']);
    expect(found({ size: 2, code: "ABCDE" })).toEqual([
      "SCHEMA_LENGTH /spec/code: must be at most 4 characters",
      "SCHEMA_PATTERN /spec/code: must match ^[a-z]+$",
    ]);
    expect(found({ size: 2, at: "yesterday" })).toEqual([
      "SCHEMA_FORMAT /spec/at: must be an RFC 3339 date-time",
    ]);
    expect(found({ size: 2, tags: [] })).toEqual(["SCHEMA_LENGTH /spec/tags: must have at least 1 items"]);
    expect(found({ size: null })).toEqual(["SCHEMA_TYPE /spec/size: must not be null"]);
    expect(found({})).toEqual(["SCHEMA_REQUIRED /spec/size: size is required"]);
    expect(found({ size: 2, sise: 2 })).toEqual([
      'SCHEMA_UNKNOWN_FIELD /spec/sise: unknown field "sise" (did you mean "size"?)',
    ]);
  });
});

describe("assertValid", () => {
  it("throws POLICY_VIOLATION listing the errors when there are any", ({ expect }) => {
    const findings = validateManifests([
      { ...app(), spec: { ...(app().spec as object), project: "" } },
      app(),
    ]);
    expect(() => assertValid(findings)).toThrow(expect.objectContaining({ code: "POLICY_VIOLATION" }));
    expect(() => assertValid([])).not.toThrow();
  });

  it("passes a built Helm application", ({ expect }) => {
    const built = buildHelmApplication({
      name: "x",
      repoURL: "https://charts.example.org",
      chart: "x",
      version: "1.2.3",
      destinationNamespace: "x",
    });
    expect(() => assertValid(validator.validate([built]))).not.toThrow();
  });
});

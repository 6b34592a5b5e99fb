import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { beforeAll, describe, it } from "vitest";
import { parse } from "yaml";
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

  it("agrees with Ajv over the CRD schema with unknown fields forbidden", ({ expect }) => {
    const crd = parse(argoCrdsText(["application"])) as {
      spec: { versions: { schema: { openAPIV3Schema: object } }[] };
    };
    const schema = forbidUnknown(structuredClone(crd.spec.versions[0]!.schema.openAPIV3Schema));
    // metadata is checked by hand in the library; give Ajv the same latitude.
    (schema as { properties: Record<string, unknown> }).properties.metadata = { type: "object" };
    const ajv = new Ajv({ strict: false, allErrors: true, formats: { int64: true, "date-time": true } });
    const check = ajv.compile(schema);
    const cases: Record<string, unknown>[] = [app()];
    const mutations: ((m: Loose) => void)[] = [
      (m) => (m.spec.source.targetRevison = "x"),
      (m) => delete m.spec.project,
      (m) => (m.spec.syncPolicy.automated.prune = "yes"),
      (m) => (m.spec.syncPolicy.retry = { limit: "3" }),
      (m) => (m.spec.source.helm.valuesObject = { anything: { goes: [1, "two"] } }),
      (m) => (m.spec.ignoreDifferences = [{ group: "apps", jsonPointers: ["/spec/replicas"] }]),
      (m) =>
        (m.spec.ignoreDifferences = [
          { group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] },
        ]),
      (m) => (m.spec.source.kustomize = { replicas: [{ name: "x", count: 2 }] }),
      (m) => (m.spec.source.kustomize = { replicas: [{ name: "x", count: 2.5 }] }),
      (m) => (m.spec.sources = [{ chart: "x" }]),
      (m) => (m.status = { sync: { status: "Synced" }, health: { status: "Healthy" } }),
    ];
    for (const mutate of mutations) {
      const m = app();
      mutate(m as Loose);
      cases.push(m);
    }
    const verdicts = cases.map((c) => [
      check(c),
      validator.validate([c]).filter((f) => f.code.startsWith("SCHEMA")).length === 0,
    ]);
    for (const [ajvSays, oursSays] of verdicts) expect(oursSays).toBe(ajvSays);
    expect(verdicts.filter(([a]) => a === false).length).toBeGreaterThanOrEqual(5);
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

function forbidUnknown(schema: Loose): Loose {
  if (
    schema.type === "object" &&
    schema.properties !== undefined &&
    schema.additionalProperties === undefined &&
    schema["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    schema.additionalProperties = false;
  }
  for (const child of Object.values(schema.properties ?? {})) forbidUnknown(child as Loose);
  if (schema.items !== undefined) forbidUnknown(schema.items);
  if (typeof schema.additionalProperties === "object") forbidUnknown(schema.additionalProperties);
  return schema;
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { parse } from "yaml";
import { readGitOpsTree } from "../src/index.js";
import {
  isDestinationPermitted,
  isGroupKindPermitted,
  isSourcePermitted,
} from "../src/internal/app-project.js";
import { isRecord } from "../src/internal/util.js";
import { inventoryRender, type RenderedObject } from "../src/testing/chart-inventory.js";
import { repoRoot, run } from "./helpers.js";

// The committed GitOps tree against what its pinned charts render (src/testing/chart-inventory.ts,
// listed from the charts' sources) and against Argo CD's AppProject rules.

type Obj = Record<string, unknown>;

const clusterDir = join(repoRoot, "cluster");

/** What an Application's chart renders, as namespaced (namespace set) or cluster-scoped objects. */
function rendered(app: Obj): RenderedObject[] {
  const spec = app.spec as Obj;
  const source = spec.source as Obj;
  const values = (source.helm as Obj | undefined)?.valuesObject ?? {};
  const objects = inventoryRender(
    String(source.chart),
    String(source.targetRevision),
    values,
    String((spec.destination as Obj).namespace),
  );
  if (objects === undefined)
    throw new Error(`no inventory for chart ${String(source.chart)} ${String(source.targetRevision)}`);
  return objects;
}

async function treeApps(dir: string): Promise<{ apps: Obj[]; projects: Map<string, Obj> }> {
  const { objects } = await readGitOpsTree({ dir });
  const projects = new Map<string, Obj>();
  for (const o of objects) if (o.kind === "AppProject") projects.set(String((o.metadata as Obj).name), o);
  return { apps: objects.filter((o) => o.kind === "Application"), projects };
}

const platform = async (): Promise<Obj> =>
  (await treeApps(join(clusterDir, "projects"))).projects.get("platform")!.spec as Obj;

describe("cluster/ GitOps tree", () => {
  it("renders the same objects as kubectl kustomize", async ({ expect }) => {
    const kubectl = await run("kubectl", ["kustomize", join(clusterDir, "app-of-apps")]);
    if (kubectl.code === 127 || /ENOENT/.test(kubectl.stderr)) return; // kubectl not installed here
    expect(kubectl.stderr).toBe("");
    const names = (objects: unknown[]) =>
      objects
        .filter(isRecord)
        .map((o) => `${String(o.kind)}/${String((o.metadata as Obj).name)}`)
        .sort();
    const { parseAllDocuments } = await import("yaml");
    const fromKubectl = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as unknown);
    expect(names((await readGitOpsTree({ dir: join(clusterDir, "app-of-apps") })).objects)).toEqual(
      names(fromKubectl),
    );
  });

  it.for(["app-of-apps", "optional/traefik"])(
    "%s: every namespace and cluster-scoped kind its charts render is permitted by the app's project",
    async (path, { expect }) => {
      const projectSpec = await platform();
      const { apps } = await treeApps(join(clusterDir, path));
      const refused: string[] = [];
      for (const app of apps) {
        const spec = app.spec as Obj;
        if (spec.project !== "platform") continue;
        const name = String((app.metadata as Obj).name);
        const source = spec.source as Obj;
        if (!isSourcePermitted(projectSpec, String(source.repoURL)))
          refused.push(`${name}: source ${String(source.repoURL)}`);
        const destination = spec.destination as Obj;
        const server = String(destination.server);
        for (const object of [{ group: "", kind: "Namespace" }, ...rendered(app)]) {
          const namespaced = object.namespace !== undefined;
          if (!isGroupKindPermitted(projectSpec, object, namespaced))
            refused.push(
              `${name}: ${object.group}/${object.kind} (${namespaced ? "namespaced" : "cluster-scoped"})`,
            );
          if (namespaced && !isDestinationPermitted(projectSpec, { server, namespace: object.namespace! }))
            refused.push(`${name}: ${object.kind} in namespace ${object.namespace}`);
        }
      }
      expect(refused).toEqual([]);
    },
  );

  it("renders no LoadBalancer Service outside cluster/optional (no load balancer is installed)", async ({
    expect,
  }) => {
    const { apps } = await treeApps(join(clusterDir, "app-of-apps"));
    const loadBalancers = apps.flatMap((app) =>
      rendered(app)
        .filter((o) => o.serviceType === "LoadBalancer")
        .map(() => String((app.metadata as Obj).name)),
    );
    expect(loadBalancers).toEqual([]);
    const optional = await treeApps(join(clusterDir, "optional", "traefik"));
    expect(
      optional.apps.flatMap((app) => rendered(app).filter((o) => o.serviceType === "LoadBalancer")),
    ).toHaveLength(1);
  });

  it("names every Secret its apps read in the example homelab.yaml's argocd.clusterSecrets", async ({
    expect,
  }) => {
    const { apps } = await treeApps(join(clusterDir, "app-of-apps"));
    const wanted: string[] = [];
    const walk = (value: unknown, namespace: string): void => {
      if (Array.isArray(value)) for (const v of value) walk(v, namespace);
      else if (isRecord(value)) {
        if (isRecord(value.secretKeyRef))
          wanted.push(`${namespace}/${String(value.secretKeyRef.name)}/${String(value.secretKeyRef.key)}`);
        for (const v of Object.values(value)) walk(v, namespace);
      }
    };
    for (const app of apps) {
      const spec = app.spec as Obj;
      walk((spec.source as Obj).helm, String((spec.destination as Obj).namespace));
    }
    expect(wanted).toEqual(["external-dns/cloudflare-api-token/api-token"]);
    const example = parse(readFileSync(join(repoRoot, "examples", "homelab.yaml"), "utf8")) as Obj;
    const declared = ((example.argocd as Obj).clusterSecrets as Obj[]).flatMap((s) =>
      Object.keys(s.data as Obj).map((key) => `${String(s.namespace)}/${String(s.name)}/${key}`),
    );
    for (const ref of wanted) expect(declared).toContain(ref);
  });
});

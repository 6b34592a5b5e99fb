import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap } from "../../adapters/argo-bootstrap.js";
import { defineCommand } from "../../cli/command.js";
import { writeFilesAtomic } from "../../fs/atomic.js";
import { loadProject, stringOption } from "../common.js";

/** `homelab argo add-app NAME`: writes an Application under cluster/apps and lists it in the app-of-apps. */
export const command = defineCommand({
  name: "add-app",
  summary: "Write an Application for a Helm chart or Git path under cluster/apps",
  args: [{ name: "name", description: "Application name", required: true }],
  options: {
    repo: { type: "string", valueName: "URL", description: "Helm repository or Git URL" },
    chart: { type: "string", valueName: "CHART", description: "Helm chart name (Helm application)" },
    "chart-version": { type: "string", valueName: "VERSION", description: "Helm chart version" },
    path: { type: "string", valueName: "PATH", description: "Path in the Git repository (Git application)" },
    namespace: { type: "string", valueName: "NS", description: "Destination namespace (default: the name)" },
    dir: {
      type: "string",
      valueName: "DIR",
      description: "GitOps directory (default cluster/ next to the config)",
    },
  },
  async run(inv) {
    const { out, ctx, args } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const argo = await loadArgoBootstrap();
    const name = args[0] as string;
    const dir = resolve(ctx.cwd, stringOption(inv, "dir") ?? join(loaded.dir, "cluster"));
    const repoURL = stringOption(inv, "repo");
    const chart = stringOption(inv, "chart");
    const gitPath = stringOption(inv, "path");
    const destinationNamespace = stringOption(inv, "namespace") ?? name;
    if (!repoURL || (chart === undefined) === (gitPath === undefined))
      throw new HomelabError(
        "USAGE",
        "add-app needs --repo and either --chart with --chart-version (Helm) or --path (Git)",
      );
    let app: unknown;
    if (chart !== undefined) {
      const version = stringOption(inv, "chart-version");
      if (!version)
        throw new HomelabError("USAGE", "a Helm application needs --chart-version (a pinned version)");
      app = argo.buildHelmApplication({ name, destinationNamespace, repoURL, chart, version });
    } else {
      app = argo.buildGitApplication({ name, destinationNamespace, repoURL, path: gitPath as string });
    }
    const appFile = join(dir, "apps", `${name}.yaml`);
    const kustomizationFile = join(dir, "app-of-apps", "kustomization.yaml");
    const { parseDocument } = await import("yaml");
    const current = await readFile(kustomizationFile, "utf8").catch(
      () => "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    );
    const doc = parseDocument(current);
    const entry = `../apps/${name}.yaml`;
    const resources =
      (doc.get("resources") as { items?: { value?: unknown }[] } | undefined)?.items?.map((i) => i.value) ??
      [];
    if (!resources.includes(entry)) doc.set("resources", [...resources, entry]);
    const files = [
      { path: appFile, content: argo.toYaml([app]) },
      { path: kustomizationFile, content: doc.toString() },
    ];
    await writeFilesAtomic(files);
    out.result({ files: files.map((f) => f.path), application: app }, () =>
      files.map((f) => `wrote ${relative(ctx.cwd, f.path)}`).join("\n"),
    );
    return 0;
  },
});

import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { HomelabError } from "../../../errors.js";
import { loadArgoBootstrap } from "../../adapters/argo-bootstrap.js";
import { defineCommand } from "../../cli/command.js";
import { writeFilesAtomic } from "../../fs/atomic.js";
import { gitopsCheckout } from "../../pipeline/argo-settings.js";
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
      description: "GitOps directory (default cluster/ in the checkout homelab.yaml is in)",
    },
  },
  async run(inv) {
    const { out, ctx, args } = inv;
    const loaded = await loadProject(inv, { resolveSecrets: false });
    const argo = await loadArgoBootstrap();
    const name = args[0] as string;
    const dir = resolve(ctx.cwd, stringOption(inv, "dir") ?? join(gitopsCheckout(loaded), "cluster"));
    const repoURL = stringOption(inv, "repo");
    const chart = stringOption(inv, "chart");
    const gitPath = stringOption(inv, "path");
    const destinationNamespace = stringOption(inv, "namespace") ?? name;
    if (!repoURL || (chart === undefined) === (gitPath === undefined))
      throw new HomelabError(
        "USAGE",
        "add-app needs --repo and either --chart with --chart-version (Helm) or --path (Git)",
      );
    let application: ReturnType<typeof argo.buildGitApplication>;
    if (chart !== undefined) {
      const version = stringOption(inv, "chart-version");
      if (!version)
        throw new HomelabError("USAGE", "a Helm application needs --chart-version (a pinned version)");
      application = argo.buildHelmApplication({ name, destinationNamespace, repoURL, chart, version });
    } else {
      application = argo.buildGitApplication({
        name,
        destinationNamespace,
        repoURL,
        path: gitPath as string,
      });
    }
    // the app goes into apps/ and its kustomization (which the root's kustomization lists as a directory):
    // a file path such as ../apps/x.yaml in app-of-apps/ breaks kustomize's load restriction
    const appsDir = join(dir, "apps");
    const kustomization = await readFile(join(appsDir, "kustomization.yaml"), "utf8").catch(() => undefined);
    const result = argo.addApp({
      application,
      appsDir,
      ...(kustomization === undefined ? {} : { kustomization }),
    });
    // the root renders app-of-apps/: it must list ../apps (a directory, which kustomize may load)
    const rootFile = join(dir, "app-of-apps", "kustomization.yaml");
    const rootText = await readFile(rootFile, "utf8").catch(() => undefined);
    const files = [...result.files];
    if (rootText !== undefined) {
      const { isSeq, parseDocument } = await import("yaml");
      const doc = parseDocument(rootText);
      const resources = doc.get("resources");
      const listed =
        isSeq(resources) &&
        resources.items.some(
          (i) => String((i as { value?: unknown }).value ?? i).replace(/\/$/, "") === "../apps",
        );
      if (!listed) {
        if (isSeq(resources)) {
          resources.flow = false;
          resources.add("../apps");
        } else doc.set("resources", doc.createNode(["../apps"]));
        files.push({ path: rootFile, content: doc.toString() });
      }
    }
    await writeFilesAtomic(files);
    out.result({ files: files.map((f) => f.path), application }, () =>
      files.map((f) => `wrote ${relative(ctx.cwd, f.path)}`).join("\n"),
    );
    return 0;
  },
});

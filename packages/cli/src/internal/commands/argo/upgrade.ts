import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { HomelabError } from "../../../errors.js";
import { defineCommand } from "../../cli/command.js";
import { writeFileAtomic } from "../../fs/atomic.js";
import { argoSettings } from "../../pipeline/argo-settings.js";
import { confirm, stringOption } from "../common.js";
import { KUBECONFIG_OPTION } from "../options.js";
import { argoReleaseOf } from "./common.js";

/** `helm search repo --versions` rows strictly after `from` up to `to` (either direction), newest first. */
function versionRows(
  versions: { version: string; appVersion: string }[],
  from: string | undefined,
  to: string,
): string[] {
  const key = (v: string) =>
    v
      .replace(/^v/, "")
      .split(/[.-]/)
      .slice(0, 3)
      .map((n) => Number(n) || 0);
  const cmp = (a: string, b: string) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const [low, high] = from === undefined ? [undefined, to] : cmp(from, to) <= 0 ? [from, to] : [to, from];
  return versions
    .filter((v) => (low === undefined || cmp(v.version, low) > 0) && cmp(v.version, high) <= 0)
    .sort((a, b) => cmp(b.version, a.version))
    .map((v) => `argo/argo-cd\t${v.version}\t${v.appVersion}${v.version === to ? "\t<- target" : ""}`);
}

/**
 * `homelab argo upgrade --version X`: shows the chart versions in between, asks (--yes skips), upgrades,
 * waits, and writes the version into homelab.yaml (comments and layout kept).
 */
export const command = defineCommand({
  name: "upgrade",
  summary: "Show the chart versions in between, ask, upgrade, wait, and write the version to homelab.yaml",
  options: {
    version: { type: "string", valueName: "X", description: "Chart version to upgrade to" },
    kubeconfig: KUBECONFIG_OPTION,
  },
  async run(inv) {
    const { out, ctx } = inv;
    const version = stringOption(inv, "version");
    if (!version) throw new HomelabError("USAGE", "argo upgrade needs --version X (the chart version)");
    const { loaded, inputs, helm } = await argoReleaseOf(inv);
    const { argo } = inputs;
    const settings = await argoSettings({
      argo,
      loaded,
      env: inputs.env,
      placeholderSecrets: inputs.lab,
    });
    const common = {
      helm,
      kubeconfig: inputs.kubeconfig as string,
      // the Application health check stays when waves need it (helm replaces the values)
      ...settings.bootstrap,
      chartVersion: version,
      signal: ctx.signal,
    };
    const preview = await argo.upgradeArgoCd({ ...common, dryRun: true });
    const source = argo.DEFAULT_CHART_SOURCE;
    if (
      source.type === "repo" &&
      (await helm.repoAdd({ name: "argo", url: source.repoURL })) !== "conflict"
    ) {
      await helm.repoUpdate({ names: ["argo"] });
      const rows = versionRows(
        await helm.searchVersions({ repoName: "argo", chart: "argo-cd" }),
        preview.from,
        version,
      );
      if (!rows.some((r) => r.includes("<- target")))
        throw new HomelabError("USAGE", `argo/argo-cd has no chart version ${version}`, {
          hint: "list them with `helm search repo argo/argo-cd --versions`",
        });
      out.info(["NAME\tCHART VERSION\tAPP VERSION", ...rows].join("\n"));
    }
    out.info(
      `Argo CD chart: ${preview.from ?? "not installed"} -> ${preview.to}${preview.changed ? "" : " (no change)"}`,
    );
    if (preview.changed && !(await confirm(inv, `upgrade the argocd release to chart ${version}?`))) {
      out.info("aborted: nothing changed");
      return 1;
    }
    const step = out.step(`Argo CD chart ${preview.from ?? "-"} -> ${version}`);
    const result = preview.changed
      ? await argo.upgradeArgoCd({ ...common, onProgress: (e) => step.update(e) }).catch((error: unknown) => {
          if (ctx.signal.aborted) step.interrupted();
          else step.fail();
          throw error;
        })
      : preview;
    // homelab.yaml keeps the version, so the next `up` does not move it back (comments and layout stay)
    const { parseDocument } = await import("yaml");
    const doc = parseDocument(await readFile(loaded.path, "utf8"));
    const wrote = doc.getIn(["argocd", "chartVersion"]) !== version;
    if (wrote) {
      doc.setIn(["argocd", "chartVersion"], version);
      await writeFileAtomic(loaded.path, doc.toString());
    }
    step.done(
      `Argo CD chart ${version}${preview.changed ? ": upgraded, rollouts complete" : ": already installed"}`,
    );
    out.result({ ...result, homelabYaml: wrote ? "updated" : "unchanged" }, () =>
      [
        `Argo CD chart ${result.from ?? "-"} -> ${result.to}: ${preview.changed ? "upgraded" : "already installed"}`,
        wrote ? `argocd.chartVersion set to ${version} in ${relative(ctx.cwd, loaded.path)}` : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
    return 0;
  },
});

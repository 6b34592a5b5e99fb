import { HomelabError } from "../../errors.js";

/** A parsed `vX.Y.Z` / `X.Y.Z` version (pre-release suffix ignored for ordering). */
export interface Semver {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareVersions(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * The Kubernetes versions each Talos line supports (talos pkg/machinery/compatibility/talos1NN:
 * MinimumKubernetesVersion, MaximumKubernetesVersion).
 */
const KUBERNETES_BY_TALOS_LINE: Record<string, [string, string]> = {
  "1.10": ["1.28.0", "1.33.99"],
  "1.11": ["1.29.0", "1.34.99"],
  "1.12": ["1.30.0", "1.35.99"],
  "1.13": ["1.31.0", "1.36.99"],
  "1.14": ["1.32.0", "1.37.99"],
  "1.15": ["1.33.0", "1.38.99"],
};

/** The Kubernetes range a Talos version supports, when known. */
export function kubernetesRangeOf(talos: Semver): { min: Semver; max: Semver } | undefined {
  const range = KUBERNETES_BY_TALOS_LINE[`${talos.major}.${talos.minor}`];
  if (range === undefined) return undefined;
  return { min: parseVersion(range[0]) as Semver, max: parseVersion(range[1]) as Semver };
}

const line = (v: Semver) => `${v.major}.${v.minor}`;

/**
 * Refuses a Talos upgrade that skips a minor (Talos upgrades one minor line at a time), goes
 * backwards, or lands on a line that does not support the cluster's Kubernetes version.
 * @throws HomelabError USAGE
 */
export function checkTalosUpgrade(options: {
  node: string;
  from: string;
  to: string;
  kubernetes: string;
}): void {
  const from = parseVersion(options.from);
  const to = parseVersion(options.to);
  if (from === undefined || to === undefined)
    throw new HomelabError("USAGE", `cannot compare Talos versions ${options.from} and ${options.to}`);
  if (compareVersions(to, from) < 0)
    throw new HomelabError(
      "USAGE",
      `${options.node} runs Talos ${options.from}: ${options.to} would be a downgrade, which \`upgrade talos\` does not do`,
      { hint: `pass --to ${options.from} or newer` },
    );
  if (to.major !== from.major || to.minor > from.minor + 1)
    throw new HomelabError(
      "USAGE",
      `${options.node} runs Talos ${options.from}: going to ${options.to} skips the ${from.major}.${from.minor + 1} line, and Talos upgrades one minor line at a time`,
      {
        hint: `upgrade to the latest v${from.major}.${from.minor + 1}.x first (--to v${from.major}.${from.minor + 1}.<patch>), then to ${options.to}`,
      },
    );
  const k8s = parseVersion(options.kubernetes);
  const range = kubernetesRangeOf(to);
  if (k8s !== undefined && range !== undefined)
    if (compareVersions(k8s, range.min) < 0 || compareVersions(k8s, range.max) > 0)
      throw new HomelabError(
        "USAGE",
        `Talos ${line(to)} supports Kubernetes ${range.min.major}.${range.min.minor} to ${range.max.major}.${range.max.minor}, and the cluster runs ${options.kubernetes}`,
        {
          hint:
            compareVersions(k8s, range.min) < 0
              ? `upgrade Kubernetes first: homelab upgrade kubernetes --to ${range.min.major}.${range.min.minor}.<patch>`
              : "pick a newer Talos version",
        },
      );
}

/**
 * Refuses a Kubernetes upgrade that skips a minor or goes backwards (`talosctl upgrade-k8s` allows
 * one minor at a time), or that the Talos line in use does not support.
 * @throws HomelabError USAGE
 */
export function checkKubernetesUpgrade(options: { from: string; to: string; talos: string[] }): void {
  const from = parseVersion(options.from);
  const to = parseVersion(options.to);
  if (from === undefined || to === undefined)
    throw new HomelabError("USAGE", `cannot compare Kubernetes versions ${options.from} and ${options.to}`);
  if (compareVersions(to, from) < 0)
    throw new HomelabError(
      "USAGE",
      `the cluster runs Kubernetes ${options.from}: ${options.to} would be a downgrade, which \`upgrade kubernetes\` does not do`,
    );
  if (to.major !== from.major || to.minor > from.minor + 1)
    throw new HomelabError(
      "USAGE",
      `the cluster runs Kubernetes ${options.from}: going to ${options.to} skips ${from.major}.${from.minor + 1}, and Kubernetes upgrades one minor version at a time`,
      { hint: `upgrade to ${from.major}.${from.minor + 1}.<patch> first` },
    );
  for (const talos of options.talos) {
    const t = parseVersion(talos);
    const range = t === undefined ? undefined : kubernetesRangeOf(t);
    if (
      t !== undefined &&
      range !== undefined &&
      (compareVersions(to, range.min) < 0 || compareVersions(to, range.max) > 0)
    )
      throw new HomelabError(
        "USAGE",
        `Talos ${talos} supports Kubernetes ${range.min.major}.${range.min.minor} to ${range.max.major}.${range.max.minor}, not ${options.to}`,
        { hint: "upgrade Talos first: homelab upgrade talos --to <a line that supports it>" },
      );
  }
}

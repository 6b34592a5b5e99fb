// Language features against the lowest version `required_version` allows: the same constraint is
// read by Terraform and by OpenTofu, so a feature counts from the later of the two releases that
// added it (facts from the Terraform and OpenTofu changelogs).

import type { Report } from "./findings.js";
import type { ScannedBody } from "./hcl-scan.js";
import { attr, type FileUnit, literalString } from "./parse.js";

type Version = [number, number];

interface Feature {
  what: string;
  terraform: Version;
  tofu: Version;
}

const BLOCKS: Record<string, Feature & { plural: true }> = {
  removed: { what: "removed blocks", terraform: [1, 7], tofu: [1, 7], plural: true },
  ephemeral: { what: "ephemeral resources", terraform: [1, 10], tofu: [1, 11], plural: true },
};

const FUNCTIONS: Record<string, Feature> = {
  templatestring: { what: "templatestring()", terraform: [1, 9], tofu: [1, 7] },
  ephemeralasnull: { what: "ephemeralasnull()", terraform: [1, 10], tofu: [1, 11] },
  issensitive: { what: "issensitive()", terraform: [1, 8], tofu: [1, 8] },
};

const PROVIDER_FUNCTIONS: Feature = { what: "provider-defined functions", terraform: [1, 8], tofu: [1, 7] };
const WRITE_ONLY: Feature = { what: "write-only arguments (_wo)", terraform: [1, 11], tofu: [1, 11] };

const show = ([major, minor]: Version): string => `${major}.${minor}`;
const below = (a: Version, b: Version): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
const later = (f: Feature): Version => (below(f.terraform, f.tofu) ? f.tofu : f.terraform);

/** The lowest version a constraint such as `>= 1.6.0` or `~> 1.9` admits; undefined when it names none. */
function lowestAllowed(constraint: string): { version: Version; text: string } | undefined {
  const m = /(?:>=|~>|=)?\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(constraint);
  if (m === null) return undefined;
  return { version: [Number(m[1]), Number(m[2])], text: m[0].replace(/^(>=|~>|=)\s*/, "") };
}

/** Reports features (blocks, functions, write-only arguments) newer than what required_version allows. */
export function checkRequiredVersion(units: FileUnit[], add: Report): void {
  let lowest: { version: Version; text: string } | undefined;
  for (const { body } of units) {
    for (const block of body.blocks.filter((b) => b.type === "terraform")) {
      const constraint = attr(block.body, "required_version");
      const text = constraint === undefined ? undefined : literalString(constraint.expression);
      lowest ??= text === undefined ? undefined : lowestAllowed(text);
    }
  }
  if (lowest === undefined) return;
  const floor = lowest;
  const report = (file: string, line: number, feature: Feature, verb: "needs" | "need"): void => {
    if (!below(floor.version, later(feature))) return;
    add({
      code: "REQUIRED_VERSION_TOO_LOW",
      severity: "error",
      file,
      line,
      message: `required_version allows ${floor.text}, but ${feature.what} ${verb} Terraform >= ${show(feature.terraform)} and OpenTofu >= ${show(feature.tofu)}`,
    });
  };
  const walk = (file: string, body: ScannedBody, inResource: boolean): void => {
    for (const a of body.attributes) {
      if (inResource && a.name.endsWith("_wo")) report(file, a.line, WRITE_ONLY, "need");
      for (const [name, feature] of Object.entries(FUNCTIONS)) {
        if (new RegExp(`(^|[^A-Za-z0-9_:.])${name}\\s*\\(`).test(a.expression))
          report(file, a.line, feature, "needs");
      }
      if (/\bprovider::[A-Za-z0-9_-]+::/.test(a.expression)) report(file, a.line, PROVIDER_FUNCTIONS, "need");
    }
    for (const b of body.blocks) walk(file, b.body, inResource);
  };
  for (const { file, body } of units) {
    for (const block of body.blocks) {
      const feature = BLOCKS[block.type];
      if (feature !== undefined) report(file, block.line, feature, "need");
      walk(file, block.body, block.type === "resource");
    }
  }
}

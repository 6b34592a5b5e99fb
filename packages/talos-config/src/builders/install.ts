import type { ConfigDocument } from "../model/document.js";
import type { InstallDiskSelector } from "../model/v1alpha1.js";
import { isPlainObject } from "../patch/values.js";
import { type TalosVersion, usesLegacyInstall } from "../version.js";
import type { InstallIntent } from "./intent.js";
import { fail, multiDoc, requireString, v1alpha1 } from "./util.js";

// The units Talos' disk size matcher accepts (github.com/dustin/go-humanize ParseBytes, case-insensitive):
// SI with or without the B (`100GB`, `100G`), IEC with or without it (`100GiB`, `100Gi`), bytes.
const UNITS: Record<string, bigint> = { B: 1n, "": 1n };
for (const [i, prefix] of ["K", "M", "G", "T", "P", "E"].entries()) {
  const si = 1000n ** BigInt(i + 1);
  const iec = 1024n ** BigInt(i + 1);
  Object.assign(UNITS, { [prefix]: si, [`${prefix}B`]: si, [`${prefix}I`]: iec, [`${prefix}IB`]: iec });
}

const SELECTOR_KEYS = [
  "size",
  "name",
  "model",
  "serial",
  "modalias",
  "uuid",
  "wwid",
  "type",
  "busPath",
] as const;

function parseSize(text: string, field: string): { op: string; bytes: bigint } {
  const match = /^\s*(>=|<=|>|<|==)?\s*(\d[\d,]*(?:\.\d+)?)\s*([KMGTPE]i?B?|B)?\s*$/i.exec(text);
  if (!match) fail(field, `${JSON.stringify(text)} is not a size like 4GB or >= 100GB`);
  const unit = UNITS[(match[3] ?? "").toUpperCase()]!;
  const [whole, fraction = ""] = match[2]!.replaceAll(",", "").split(".");
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(`${whole}${fraction}`) * unit) / scale;
  return { op: match[1] ?? "==", bytes };
}

function parseDiskSelector(value: unknown, field: string): InstallDiskSelector {
  if (!isPlainObject(value)) fail(field, "must be a mapping");
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    if (!(SELECTOR_KEYS as readonly string[]).includes(key))
      fail(`${field}.${key}`, "is not a disk selector field");
    out[key] = requireString(value[key], `${field}.${key}`);
  }
  if (out.type !== undefined && !["ssd", "hdd", "nvme", "sd"].includes(out.type))
    fail(`${field}.type`, "must be ssd, hdd, nvme or sd");
  if (out.size !== undefined) parseSize(out.size, `${field}.size`);
  if (Object.keys(out).length === 0) fail(field, "must set at least one field");
  return out as InstallDiskSelector;
}

/**
 * The CEL expression (1.14+ UnattendedInstallConfig `provisioning.diskSelector.match`) for a disk path or a legacy
 * disk selector. A selector becomes the expression Talos itself derives from `machine.install.diskSelector`
 * (pkg/machinery/config/types/v1alpha1/v1alpha1_provider.go `DiskMatchExpression`): the same terms in the
 * same order, string fields as `glob` patterns, and its guards `disk.transport != ""` (no device-mapper
 * or loop devices), `!disk.readonly` and `!disk.cdrom`, so one homelab.yaml picks the same disk on every line.
 *
 * @throws TalosConfigError `INVALID_INPUT` for a selector field CEL cannot express (`name`).
 */
export function diskSelectorExpression(
  selector: { disk?: string; diskSelector?: InstallDiskSelector },
  field = "install",
): string {
  if (selector.disk !== undefined) return `disk.dev_path == ${JSON.stringify(selector.disk)}`;
  const s = selector.diskSelector ?? {};
  const terms: string[] = [];
  const glob = (value: string, attribute: string): string =>
    `glob(${JSON.stringify(value)}, disk.${attribute})`;
  if (s.size !== undefined) {
    const { op, bytes } = parseSize(s.size, `${field}.diskSelector.size`);
    terms.push(`disk.size ${op} ${bytes}u`);
  }
  if (s.uuid !== undefined) terms.push(glob(s.uuid, "uuid"));
  if (s.wwid !== undefined) terms.push(glob(s.wwid, "wwid"));
  if (s.model !== undefined) terms.push(glob(s.model, "model"));
  if (s.name !== undefined)
    fail(`${field}.diskSelector.name`, "has no Talos 1.14+ equivalent; select by disk, model or serial");
  if (s.serial !== undefined) terms.push(glob(s.serial, "serial"));
  if (s.modalias !== undefined) terms.push(glob(s.modalias, "modalias"));
  terms.push(`disk.transport != ""`);
  if (s.type === "nvme") terms.push(`disk.transport == "nvme"`);
  if (s.type === "sd") terms.push(`disk.transport == "mmc"`);
  if (s.type === "hdd") terms.push("disk.rotational");
  if (s.type === "ssd") terms.push("!disk.rotational");
  if (s.busPath !== undefined) terms.push(glob(s.busPath, "bus_path"));
  terms.push("!disk.readonly", "!disk.cdrom");
  return terms.join(" && ");
}

/** Options for {@link buildInstall}. */
export interface BuildInstallOptions {
  target: string | TalosVersion;
  install: InstallIntent;
}

/**
 * Install disk or disk selector, wipe and installer image: `machine.install` (≤1.13) or an
 * UnattendedInstallConfig document with a CEL disk selector (1.14+).
 *
 * @throws TalosConfigError `INVALID_INPUT` naming `install.<field>`, `UNSUPPORTED_VERSION`.
 */
export function buildInstall(options: BuildInstallOptions): ConfigDocument[] {
  const install = options.install;
  if (!isPlainObject(install)) fail("install", "must be a mapping");
  const legacy = usesLegacyInstall(options.target);
  let disk: string | undefined;
  let diskSelector: InstallDiskSelector | undefined;
  if (install.disk !== undefined) {
    disk = requireString(install.disk, "install.disk");
    if (!/^\/dev\/\S+$/.test(disk))
      fail("install.disk", `${JSON.stringify(disk)} is not a device path like /dev/sda`);
  }
  if (install.diskSelector !== undefined)
    diskSelector = parseDiskSelector(install.diskSelector, "install.diskSelector");
  if (disk !== undefined && diskSelector !== undefined) fail("install", "set disk or diskSelector, not both");
  if (install.wipe !== undefined && typeof install.wipe !== "boolean")
    fail("install.wipe", "must be true or false");
  let image: string | undefined;
  if (install.image !== undefined) {
    image = requireString(install.image, "install.image");
    if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image))
      fail("install.image", `${JSON.stringify(image)} is not an image reference`);
  }
  if (legacy) {
    const body: ConfigDocument = {};
    if (disk !== undefined) body.disk = disk;
    if (diskSelector !== undefined) body.diskSelector = diskSelector;
    if (image !== undefined) body.image = image;
    if (install.wipe !== undefined) body.wipe = install.wipe;
    return Object.keys(body).length === 0 ? [] : [v1alpha1({ machine: { install: body } })];
  }
  const doc: ConfigDocument = {};
  if (image !== undefined) doc.installer = { image };
  const provisioning: ConfigDocument = {};
  if (disk !== undefined || diskSelector !== undefined) {
    const selection: { disk?: string; diskSelector?: InstallDiskSelector } = {};
    if (disk !== undefined) selection.disk = disk;
    if (diskSelector !== undefined) selection.diskSelector = diskSelector;
    provisioning.diskSelector = { match: diskSelectorExpression(selection) };
  }
  if (install.wipe !== undefined) provisioning.wipe = install.wipe;
  if (Object.keys(provisioning).length > 0) doc.provisioning = provisioning;
  return Object.keys(doc).length === 0 ? [] : [multiDoc("UnattendedInstallConfig", doc)];
}

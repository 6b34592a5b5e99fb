import { createHash } from "node:crypto";
import { parse } from "yaml";
import { fail, requireString } from "./builders/util.js";
import { TalosConfigError } from "./errors.js";
import { isPlainObject } from "./patch/values.js";
import { formatTalosVersion, parseTalosVersion } from "./version.js";

/** The Image Factory host used for installer images and ISO URLs unless `factory` is given. */
export const IMAGE_FACTORY_HOST = "factory.talos.dev";

/** The id of the empty schematic (`customization: {}`). */
export const EMPTY_SCHEMATIC_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

/** Options for {@link createSchematic}. */
export interface CreateSchematicOptions {
  /** Official system extensions, e.g. `siderolabs/cloudflared`. Order matters for the id. */
  officialExtensions?: string[];
  /** Extra kernel arguments. Order matters for the id. */
  extraKernelArgs?: string[];
  /** Initial META values (key 0..255, single-line value). */
  meta?: { key: number; value: string }[];
  secureboot?: { includeWellKnownCertificates?: boolean };
  /** SBC overlay (`options` is not supported). */
  overlay?: { image: string; name: string };
  /** When given, every official extension must be in this list (e.g. the factory's listing for the version). */
  knownExtensions?: readonly string[];
}

/** An Image Factory schematic: its canonical YAML and id (sha256 of that YAML, as the factory computes it). */
export interface Schematic {
  readonly yaml: string;
  readonly id: string;
  readonly officialExtensions: readonly string[];
  readonly extraKernelArgs: readonly string[];
}

const NON_STRING_RE =
  /^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o?[0-7_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|\d{4}-\d\d?-\d\d?([Tt ].*)?)$/;

function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** A scalar as Go's yaml.v3 encoder writes it (plain, or quoted when plain would change its meaning). */
function goScalar(value: string): string {
  if (value === "" || NON_STRING_RE.test(value)) return JSON.stringify(value);
  const first = value[0]!;
  const plainAllowed =
    value === value.trim() &&
    !hasControl(value) &&
    !(
      ",[]{}#&*!|>'\"%@`".includes(first) ||
      ("-?:".includes(first) && (value.length === 1 || value[1] === " "))
    ) &&
    !value.includes(": ") &&
    !value.includes(" #") &&
    !value.endsWith(":");
  if (plainAllowed) return value;
  if (hasControl(value)) return JSON.stringify(value);
  return `'${value.replaceAll("'", "''")}'`;
}

const EXTENSION_RE = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/;

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field, "must be a list");
  return value.map((item, i) => requireString(item, `${field}[${i}]`));
}

/**
 * Builds an Image Factory schematic offline: the canonical YAML the factory stores (Go yaml.v3, 4-space
 * indent, empty sections omitted) and its id, the sha256 of that YAML. The empty schematic gives
 * {@link EMPTY_SCHEMATIC_ID}.
 *
 * @throws TalosConfigError `UNKNOWN_EXTENSION` naming `officialExtensions[i]` (malformed name or not in
 * `knownExtensions`), `INVALID_INPUT` for other fields.
 */
export function createSchematic(options: CreateSchematicOptions = {}): Schematic {
  if (!isPlainObject(options)) fail("options", "must be a mapping");
  const extensions = stringList(options.officialExtensions, "officialExtensions");
  if (options.knownExtensions !== undefined && !Array.isArray(options.knownExtensions)) {
    fail("knownExtensions", "must be a list");
  }
  const known = options.knownExtensions === undefined ? undefined : new Set(options.knownExtensions);
  extensions.forEach((name, i) => {
    const field = `officialExtensions[${i}]`;
    if (!EXTENSION_RE.test(name)) {
      throw new TalosConfigError(
        "UNKNOWN_EXTENSION",
        `${field}: ${JSON.stringify(name)} is not an extension name like siderolabs/tailscale`,
        {
          details: { field },
        },
      );
    }
    if (known && !known.has(name)) {
      throw new TalosConfigError(
        "UNKNOWN_EXTENSION",
        `${field}: ${name} is not an official extension for this version`,
        {
          details: { field },
        },
      );
    }
    if (extensions.indexOf(name) !== i) fail(field, `${name} is listed twice`);
  });
  const kernelArgs = stringList(options.extraKernelArgs, "extraKernelArgs");
  kernelArgs.forEach((arg, i) => {
    if (/\s/.test(arg)) fail(`extraKernelArgs[${i}]`, "must be one argument without whitespace");
  });
  if (options.meta !== undefined && !Array.isArray(options.meta)) fail("meta", "must be a list");
  const meta = (options.meta ?? []).map((entry, i) => {
    if (!isPlainObject(entry)) fail(`meta[${i}]`, "must be a mapping with key and value");
    if (!Number.isInteger(entry.key) || entry.key < 0 || entry.key > 255)
      fail(`meta[${i}].key`, "must be an integer 0..255");
    return { key: entry.key, value: requireString(entry.value, `meta[${i}].value`) };
  });
  const lines: string[] = [];
  if (options.overlay !== undefined) {
    if (!isPlainObject(options.overlay)) fail("overlay", "must be a mapping with image and name");
    const image = requireString(options.overlay.image, "overlay.image");
    const name = requireString(options.overlay.name, "overlay.name");
    lines.push("overlay:", `    image: ${goScalar(image)}`, `    name: ${goScalar(name)}`);
  }
  const custom: string[] = [];
  if (kernelArgs.length > 0)
    custom.push("    extraKernelArgs:", ...kernelArgs.map((a) => `        - ${goScalar(a)}`));
  if (meta.length > 0) {
    custom.push("    meta:");
    for (const m of meta) custom.push(`        - key: ${m.key}`, `          value: ${goScalar(m.value)}`);
  }
  if (extensions.length > 0) {
    custom.push(
      "    systemExtensions:",
      "        officialExtensions:",
      ...extensions.map((e) => `            - ${goScalar(e)}`),
    );
  }
  if (isPlainObject(options.secureboot) && options.secureboot.includeWellKnownCertificates === true) {
    custom.push("    secureboot:", "        includeWellKnownCertificates: true");
  }
  if (custom.length === 0) lines.push("customization: {}");
  else lines.push("customization:", ...custom);
  const yaml = `${lines.join("\n")}\n`;
  const id = createHash("sha256").update(yaml, "utf8").digest("hex");
  return Object.freeze({
    yaml,
    id,
    officialExtensions: Object.freeze(extensions),
    extraKernelArgs: Object.freeze(kernelArgs),
  });
}

function checkId(schematicId: unknown): string {
  if (typeof schematicId !== "string" || !/^[0-9a-f]{64}$/.test(schematicId)) {
    fail("schematicId", "must be a 64-character lower-case hex schematic id");
  }
  return schematicId;
}

/** Options for {@link installerImage}. */
export interface InstallerImageOptions {
  schematicId: string;
  /** Talos version, e.g. `v1.13.9`. */
  version: string;
  /** `installer` (default, every version) or the platform form `metal-installer`. */
  variant?: "installer" | "metal-installer";
  secureboot?: boolean;
  /** Image Factory host; default {@link IMAGE_FACTORY_HOST}. */
  factory?: string;
}

/**
 * The installer image reference for a schematic and version, e.g.
 * `factory.talos.dev/installer/<id>:v1.13.9`.
 *
 * @throws TalosConfigError `INVALID_INPUT` (schematicId), `UNSUPPORTED_VERSION`.
 */
export function installerImage(options: InstallerImageOptions): string {
  if (!isPlainObject(options)) fail("options", "must be a mapping with schematicId and version");
  const id = checkId(options.schematicId);
  const version = formatTalosVersion(parseTalosVersion(options.version));
  const host = options.factory ?? IMAGE_FACTORY_HOST;
  const repo = `${options.variant ?? "installer"}${options.secureboot ? "-secureboot" : ""}`;
  return `${host}/${repo}/${id}:${version}`;
}

/** Options for {@link isoUrl}. */
export interface IsoUrlOptions {
  schematicId: string;
  version: string;
  arch?: "amd64" | "arm64";
  secureboot?: boolean;
  factory?: string;
}

/**
 * The ISO download URL for a schematic and version, e.g.
 * `https://factory.talos.dev/image/<id>/v1.13.9/metal-amd64.iso`.
 *
 * @throws TalosConfigError `INVALID_INPUT` (schematicId, arch), `UNSUPPORTED_VERSION`.
 */
export function isoUrl(options: IsoUrlOptions): string {
  if (!isPlainObject(options)) fail("options", "must be a mapping with schematicId and version");
  const id = checkId(options.schematicId);
  const version = formatTalosVersion(parseTalosVersion(options.version));
  const arch = options.arch ?? "amd64";
  if (arch !== "amd64" && arch !== "arm64") fail("arch", "must be amd64 or arm64");
  const host = options.factory ?? IMAGE_FACTORY_HOST;
  return `https://${host}/image/${id}/${version}/metal-${arch}${options.secureboot ? "-secureboot" : ""}.iso`;
}

const SCHEMATIC_KEYS: Record<string, readonly string[]> = {
  "": ["overlay", "customization"],
  customization: ["extraKernelArgs", "meta", "systemExtensions", "secureboot"],
  systemExtensions: ["officialExtensions"],
  secureboot: ["includeWellKnownCertificates"],
  overlay: ["image", "name"],
};

function checkKeys(value: unknown, section: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) fail(section === "" ? "schematic" : section, "must be a mapping");
  for (const key of Object.keys(value)) {
    if (!SCHEMATIC_KEYS[section]!.includes(key))
      fail(section === "" ? key : `${section}.${key}`, "is not a supported schematic field");
  }
  return value;
}

/**
 * Reads a schematic from YAML or JSON text (e.g. a stored `schematic.yaml` or the factory's response) and
 * recomputes its canonical form and id. Unknown fields are rejected, as the factory does.
 *
 * @throws TalosConfigError `PARSE_ERROR` (not YAML), `INVALID_INPUT` (unknown or malformed field),
 * `UNKNOWN_EXTENSION` (malformed extension name).
 */
export function parseSchematic(text: string): Schematic {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch {
    throw new TalosConfigError("PARSE_ERROR", "schematic: not valid YAML or JSON", {
      details: { field: "schematic" },
    });
  }
  const root = checkKeys(raw, "");
  const customization = checkKeys(root.customization, "customization");
  const systemExtensions = checkKeys(customization.systemExtensions, "systemExtensions");
  const secureboot = checkKeys(customization.secureboot, "secureboot");
  const options: CreateSchematicOptions = {};
  if (systemExtensions.officialExtensions !== undefined)
    options.officialExtensions = systemExtensions.officialExtensions as string[];
  if (customization.extraKernelArgs !== undefined)
    options.extraKernelArgs = customization.extraKernelArgs as string[];
  if (customization.meta !== undefined) {
    if (!Array.isArray(customization.meta)) fail("customization.meta", "must be a list");
    options.meta = customization.meta as { key: number; value: string }[];
  }
  if (secureboot.includeWellKnownCertificates === true)
    options.secureboot = { includeWellKnownCertificates: true };
  if (root.overlay !== undefined) {
    const overlay = checkKeys(root.overlay, "overlay");
    options.overlay = { image: overlay.image as string, name: overlay.name as string };
  }
  return createSchematic(options);
}

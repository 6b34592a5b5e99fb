import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { type SopsFormat, sopsFormatFromPath } from "@talos-homelab/sops";
import { HomelabError } from "../../../errors.js";
import type { Invocation, OptionDef } from "../../cli/command.js";
import type { LoadedConfig } from "../../config/load.js";
import { loadProject } from "../common.js";

/** The encrypted file a `secrets` command works on, with its format and the configured recipients. */
export interface SecretsTarget {
  file: string;
  format: SopsFormat;
  /** From --recipients, else homelab.yaml's secrets.recipients (empty when neither). */
  recipients: string[];
}

export const RECIPIENTS_OPTION = {
  type: "string",
  valueName: "AGE1,...",
  description: "age recipients, comma-separated (default: secrets.recipients in homelab.yaml)",
} as const satisfies OptionDef;

export const SECRETS_FILE_ARG = {
  name: "file",
  description: "Encrypted file (default: secrets.file in homelab.yaml)",
};

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** homelab.yaml when it exists (secret references not resolved), else undefined. */
export async function optionalProject(inv: Invocation): Promise<LoadedConfig | undefined> {
  const path = resolve(inv.ctx.cwd, inv.flags.config ?? "homelab.yaml");
  if (inv.flags.config === undefined && !(await exists(path))) return undefined;
  return loadProject(inv, { resolveSecrets: false });
}

/**
 * Resolves FILE (first argument) or homelab.yaml's secrets.file, and the recipients to encrypt for.
 * @throws HomelabError USAGE when there is neither a FILE nor a `secrets:` section.
 */
export async function secretsTarget(inv: Invocation, recipients?: string): Promise<SecretsTarget> {
  const arg = inv.args[0];
  const project = await optionalProject(inv);
  const settings = project?.config.secrets;
  const file =
    arg !== undefined
      ? resolve(inv.ctx.cwd, arg)
      : settings
        ? resolve(project.dir, settings.file)
        : undefined;
  if (file === undefined) {
    throw new HomelabError("USAGE", "no FILE given and homelab.yaml has no secrets: section", {
      hint: "pass a FILE, or run `homelab secrets init` in the project",
    });
  }
  const listed = recipients
    ?.split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  return {
    file,
    format: sopsFormatFromPath(file.replace(/\.(enc|sops)(\.[^.]+)$/, "$2")),
    recipients: listed ?? [...(settings?.recipients ?? [])],
  };
}

/** Fails with a hint when there is no recipient to encrypt for. */
export function requireRecipients(target: SecretsTarget): string[] {
  if (target.recipients.length === 0) {
    throw new HomelabError(
      "USAGE",
      "no age recipients: pass --recipients age1...,age1... or set secrets.recipients",
      {
        hint: "`homelab secrets init` creates a key and adds its recipient to homelab.yaml",
      },
    );
  }
  return target.recipients;
}

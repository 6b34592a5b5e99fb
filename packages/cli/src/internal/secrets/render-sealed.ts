import { basename, dirname, join } from "node:path";
import { encrypt } from "@talos-homelab/sops";
import type { SecretsBundle, TalosConfigModule } from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";
import type { FileToWrite } from "../fs/atomic.js";
import type { StateSecrets } from "./state-secrets.js";

/** `x.yaml` → `x.sops.yaml`, `talosconfig` → `talosconfig.sops.yaml`. */
export function sealedPath(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf(".");
  const sealed = dot > 0 ? `${name.slice(0, dot)}.sops${name.slice(dot)}` : `${name}.sops.yaml`;
  return join(dirname(path), sealed);
}

/** SOPS-encrypts every 0600 file (the ones holding secrets) for the recipients; other files pass through. */
export async function sealSecretFiles(
  files: readonly FileToWrite[],
  recipients: readonly string[],
): Promise<FileToWrite[]> {
  const out: FileToWrite[] = [];
  for (const file of files) {
    if (file.mode !== 0o600) {
      out.push(file);
      continue;
    }
    const text = typeof file.content === "string" ? file.content : new TextDecoder().decode(file.content);
    out.push({
      path: sealedPath(file.path),
      content: await encrypt(text, { format: "yaml", recipients, source: file.path }),
      mode: 0o600,
    });
  }
  return out;
}

/** The machine secrets bundle from the state secrets, generated and stored (encrypted) on first use. */
export async function loadOrCreateBundle(
  tc: TalosConfigModule,
  state: StateSecrets,
): Promise<{ bundle: SecretsBundle; created: boolean }> {
  const text = await state.read("secrets.yaml");
  if (text !== undefined) return { bundle: tc.secretsFromYaml(text), created: false };
  const bundle = tc.generateSecrets();
  await state.write("secrets.yaml", tc.secretsToYaml(bundle));
  return { bundle, created: true };
}

/** `render --full` with `secrets:` set: the complete configs and talosconfig, SOPS-encrypted (`*.sops.yaml`). */
export async function renderSealedFullConfigs(
  tc: TalosConfigModule,
  config: HomelabConfig,
  state: StateSecrets,
  render: (bundle: SecretsBundle) => FileToWrite[],
): Promise<FileToWrite[]> {
  const recipients = config.secrets?.recipients ?? [];
  const { bundle } = await loadOrCreateBundle(tc, state);
  return sealSecretFiles(render(bundle), recipients);
}

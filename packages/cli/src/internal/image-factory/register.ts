import { HomelabError } from "../../errors.js";
import type { Invocation } from "../cli/command.js";
import { imageFactoryBaseURL } from "../pipeline/target.js";

// The Image Factory client lives in the CLI, not in talos-config: talos-config stays pure (it computes
// the schematic's canonical YAML and id offline, no I/O), and this is one POST whose failures the CLI
// presents (error codes, --offline hint). The fetch is injected, so tests and the simulated lab hand in
// the emulator's.

/** Where the Image Factory is and how to reach it. */
export interface ImageFactoryEndpoint {
  /** e.g. `https://factory.talos.dev` (no trailing slash needed). */
  baseURL: string;
  fetch: typeof fetch;
}

/**
 * Registers the schematic with the Image Factory (`POST /schematics` with its exact YAML), which
 * serves ISOs and installer images only for schematics it has stored. Idempotent: the factory stores a
 * schematic under the sha256 of its canonical YAML and answers the same id again
 * (siderolabs/image-factory internal/frontend/http/configuration.go `handleSchematicCreate`).
 *
 * @throws HomelabError `UNREACHABLE` (factory down, non-201 answer), `STATE_INVALID` when the factory's id
 * differs from ours (both ids in the message).
 */
export async function registerSchematic(
  factory: ImageFactoryEndpoint,
  schematic: { yaml: string; id: string },
  signal?: AbortSignal,
): Promise<void> {
  const url = `${factory.baseURL.replace(/\/+$/, "")}/schematics`;
  const where = new URL(url).host;
  let response: Response;
  try {
    const init: RequestInit = {
      method: "POST",
      headers: { "content-type": "application/yaml", accept: "application/json" },
      body: schematic.yaml,
    };
    if (signal) init.signal = signal;
    response = await factory.fetch(url, init);
  } catch (error) {
    throw new HomelabError(
      "UNREACHABLE",
      `cannot register the schematic with the Image Factory at ${where}`,
      {
        cause: error,
        hint: "check the network, or pass --offline when the schematic is already known to the factory you use",
      },
    );
  }
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) {
    throw new HomelabError(
      "UNREACHABLE",
      `the Image Factory at ${where} refused the schematic: HTTP ${response.status} ${text.trim().slice(0, 200)}`,
      { details: { status: response.status } },
    );
  }
  let id: unknown;
  try {
    id = (JSON.parse(text) as { id?: unknown }).id;
  } catch {
    id = undefined;
  }
  if (id !== schematic.id) {
    throw new HomelabError(
      "STATE_INVALID",
      `the Image Factory at ${where} stored the schematic as ${String(id)}, but homelab computed ${schematic.id}: the installer image and ISO URLs would not match`,
      {
        details: { factoryId: id, schematicId: schematic.id },
        hint: "report this as a bug (the schematic YAML is not in the factory's canonical form)",
      },
    );
  }
}

/**
 * Registers the schematic when the target names an Image Factory (`undefined`: `--offline`, nothing to
 * do). The one call the pipeline makes before a step uses the installer image.
 */
export async function ensureSchematicRegistered(
  factory: { baseURL: string; fetch?: typeof fetch } | undefined,
  schematic: { yaml: string; id: string },
  signal?: AbortSignal,
): Promise<void> {
  if (factory === undefined) return;
  await registerSchematic({ baseURL: factory.baseURL, fetch: factory.fetch ?? fetch }, schematic, signal);
}

/** The Image Factory a command registers the schematic with: `undefined` with `--offline`. */
export function imageFactoryOf(inv: Invocation): { baseURL: string } | undefined {
  return inv.options.offline === true ? undefined : { baseURL: imageFactoryBaseURL(inv.ctx.env) };
}

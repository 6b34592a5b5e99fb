import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TalosConfigModule } from "../adapters/talos-config.js";

/** An in-memory Image Factory: stores schematics and serves assets only for stored ids. */
export interface ImageFactoryEmulator {
  /** Stored schematics: id → canonical YAML. */
  readonly schematics: ReadonlyMap<string, string>;
  /** Handles one request like the factory's HTTP frontend (usable as an injected `fetch`). */
  handle(request: Request): Promise<Response>;
  /** A `fetch` that answers from this emulator. */
  fetch: typeof fetch;
  /** Serves the emulator on 127.0.0.1 (random port); `url` is its base URL. */
  listen(): Promise<{ url: string; close(): Promise<void> }>;
}

const ID_RE = /^[0-9a-f]{64}$/;

/**
 * Creates an Image Factory emulator after siderolabs/image-factory internal/frontend/http: `POST
 * /schematics` (body YAML or JSON; unknown fields → 400; stored under the id of the canonical form; 201
 * `{ id, schematic }`), `GET /schematics/:id` (YAML, 404 "schematic not found"), `GET|HEAD
 * /image/:id/:version/:path` and the registry's `/v2/…/<id>/manifests/<tag>` (404 for an unknown id).
 * The canonical form and id come from talos-config's `parseSchematic`, which reproduces upstream's test ids.
 */
export function createImageFactoryEmulator(tc: TalosConfigModule): ImageFactoryEmulator {
  const schematics = new Map<string, string>();
  const text = (status: number, body: string, type = "text/plain; charset=utf-8"): Response =>
    new Response(body, { status, headers: { "content-type": type } });
  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter((p) => p !== "");
    if (request.method === "POST" && url.pathname === "/schematics") {
      let schematic: { yaml: string; id: string };
      try {
        schematic = tc.parseSchematic(await request.text());
      } catch (error) {
        return text(
          400,
          error instanceof Error ? error.message.replace(/^\[[A-Z_]+\] /, "") : "invalid schematic",
        );
      }
      schematics.set(schematic.id, schematic.yaml);
      return text(
        201,
        `${JSON.stringify({ id: schematic.id, schematic: schematic.yaml })}\n`,
        "application/json",
      );
    }
    if (request.method === "GET" && parts[0] === "schematics" && parts.length === 2) {
      const yaml = schematics.get(parts[1]!);
      return yaml === undefined ? text(404, "schematic not found\n") : text(200, yaml, "application/yaml");
    }
    if (
      (request.method === "GET" || request.method === "HEAD") &&
      parts[0] === "image" &&
      parts.length === 4
    ) {
      if (!schematics.has(parts[1]!)) return text(404, "schematic not found\n");
      return text(200, request.method === "HEAD" ? "" : `emulated ${parts[3]}\n`, "application/octet-stream");
    }
    if (parts[0] === "v2" && parts.length >= 5 && parts.at(-2) === "manifests") {
      const id = parts.at(-3)!;
      if (!ID_RE.test(id) || !schematics.has(id)) return text(404, "schematic not found\n");
      return text(200, "{}", "application/vnd.oci.image.index.v1+json");
    }
    return text(404, "404 page not found\n");
  };
  const emulatorFetch = ((input: string | URL | Request, init?: RequestInit) =>
    handle(new Request(input, init))) as typeof fetch;
  return {
    schematics,
    handle,
    fetch: emulatorFetch,
    listen: () => listen(handle),
  };
}

async function listen(
  handle: (request: Request) => Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const method = req.method ?? "GET";
      const body = method === "GET" || method === "HEAD" ? null : Buffer.concat(chunks);
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers))
        if (typeof value === "string") headers.set(key, value);
      handle(new Request(`http://127.0.0.1${req.url ?? "/"}`, { method, headers, body }))
        .then(async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        })
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

import { createHash, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect } from "node:tls";
import { HomelabError } from "../../errors.js";

/**
 * Who may receive a node's machine config in maintenance mode. The config carries the cluster's CA
 * keys, the bootstrap token and the tunnel and Tailscale keys, so it goes only to a machine whose
 * identity was checked: the SPKI fingerprint of its maintenance-mode certificate, as talosctl's
 * `--cert-fingerprint` pins it.
 */
export interface NodeTrust {
  /** Nodes the user named for a reinstall (`--reinstall NODE`): known nodes that may be in maintenance mode again. */
  reinstall: ReadonlySet<string>;
  /** Fingerprints the user gave (`--cert-fingerprint NODE=SHA256`), by node name. */
  pinned: Readonly<Record<string, string>>;
  /**
   * Asks the user to accept a fingerprint seen for the first time; false declines. Absent: the
   * fingerprint is accepted (the node was named for install in homelab.yaml and `--yes` was given).
   */
  confirm?: (question: string) => Promise<boolean>;
}

function hostPort(endpoint: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(endpoint);
  if (bracketed) return { host: bracketed[1] as string, port: Number(bracketed[2] ?? 50000) };
  const colons = endpoint.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = endpoint.split(":");
    return { host: host as string, port: Number(port) };
  }
  return { host: endpoint, port: 50000 };
}

/** base64 sha256 of a certificate's SubjectPublicKeyInfo (talosctl's `--cert-fingerprint` form). */
export function spkiFingerprintOf(der: Buffer): string {
  const spki = new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/**
 * The SPKI fingerprint of the certificate `endpoint` presents, without trusting it. Throws
 * UNREACHABLE (with the node's name) when nothing answers.
 */
export function serverFingerprint(
  node: { name: string; address: string },
  endpoint: string,
  signal: AbortSignal,
  timeoutMs = 10_000,
): Promise<string> {
  const { host, port } = hostPort(endpoint);
  return new Promise<string>((resolve, reject) => {
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    const onAbort = () => socket.destroy(new Error("interrupted"));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("close", () => signal.removeEventListener("abort", onAbort));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      if (raw === undefined)
        reject(new HomelabError("NODE_UNVERIFIED", `${node.name} presented no certificate`));
      else resolve(spkiFingerprintOf(raw));
    });
    socket.once("error", (cause) =>
      reject(
        new HomelabError(
          signal.aborted ? "INTERRUPTED" : "UNREACHABLE",
          signal.aborted ? "interrupted" : `${node.name} (${endpoint}) does not answer: ${cause.message}`,
          {
            cause,
            details: { node: node.name, endpoint },
            hint: `check that ${node.name} is powered on and reachable at ${node.address}, port ${port}`,
          },
        ),
      ),
    );
  });
}

/** Parses `--cert-fingerprint NODE=SHA256` values. */
export function parsePinnedFingerprints(
  values: readonly string[],
  nodeNames: readonly string[],
): Record<string, string> {
  const pinned: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    const name = at > 0 ? value.slice(0, at) : "";
    const fingerprint = at > 0 ? value.slice(at + 1).trim() : "";
    if (name === "" || !/^[A-Za-z0-9+/]{43}=$/.test(fingerprint))
      throw new HomelabError(
        "USAGE",
        `--cert-fingerprint expects NODE=FINGERPRINT (the base64 sha256 SPKI the node shows), got '${value}'`,
      );
    if (!nodeNames.includes(name))
      throw new HomelabError(
        "USAGE",
        `--cert-fingerprint names '${name}', which is not a node in homelab.yaml`,
        {
          hint: `nodes: ${nodeNames.join(", ")}`,
        },
      );
    pinned[name] = fingerprint;
  }
  return pinned;
}

/** Checks `--reinstall` names against homelab.yaml. */
export function parseReinstall(values: readonly string[], nodeNames: readonly string[]): Set<string> {
  const names = values
    .flatMap((v) => v.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const name of names)
    if (!nodeNames.includes(name))
      throw new HomelabError("USAGE", `--reinstall names '${name}', which is not a node in homelab.yaml`, {
        hint: `nodes: ${nodeNames.join(", ")}`,
      });
  return new Set(names);
}

/**
 * Decides whether a node that does not answer over mTLS may get its config in maintenance mode,
 * and returns the fingerprint to pin the apply to.
 *
 * - A node the state or the cluster knows as configured is never treated as maintenance mode
 *   unless the user named it with `--reinstall` (an impostor at its address would otherwise get
 *   every cluster secret).
 * - The fingerprint must equal the one the user pinned, or the one recorded at the first contact;
 *   a fingerprint seen for the first time is confirmed by the user (or accepted with `--yes`, the
 *   node being named for install in homelab.yaml) and then recorded.
 */
export async function verifyMaintenanceNode(options: {
  node: { name: string; address: string };
  endpoint: string;
  /** Why the mTLS probe failed (secret-free). */
  mtlsError: string;
  /** Where the node is known as configured (state, cluster), or undefined. */
  knownConfigured: string | undefined;
  /** The fingerprint recorded at the first contact. */
  recorded: string | undefined;
  /** A fingerprint the target itself vouches for (the simulated lab). */
  vouched: string | undefined;
  trust: NodeTrust;
  signal: AbortSignal;
}): Promise<{ fingerprint: string; how: "pinned" | "recorded" | "confirmed" | "accepted" | "lab" }> {
  const { node, endpoint, trust } = options;
  if (options.knownConfigured !== undefined && !trust.reinstall.has(node.name))
    throw new HomelabError(
      "NODE_UNVERIFIED",
      `${node.name} (${endpoint}) is known as configured (${options.knownConfigured}) but did not answer over mTLS with this cluster's CA (${options.mtlsError}); its machine config holds the cluster's keys and tokens, so it is not sent to a machine that cannot prove it is ${node.name}`,
      {
        details: { node: node.name, endpoint },
        hint: `if ${node.name} was wiped or reinstalled and is in maintenance mode, run again with --reinstall ${node.name}; otherwise check that ${node.address} is really ${node.name} and that it is powered on`,
      },
    );
  const fingerprint = await serverFingerprint(node, endpoint, options.signal);
  const expected = trust.pinned[node.name] ?? options.recorded;
  if (expected !== undefined) {
    if (fingerprint !== expected)
      throw new HomelabError(
        "NODE_UNVERIFIED",
        `${node.name} (${endpoint}) presents certificate fingerprint ${fingerprint}, not the ${trust.pinned[node.name] ? "pinned" : "recorded"} ${expected}: refusing to send its machine config`,
        {
          details: { node: node.name, endpoint, fingerprint, expected },
          hint: trust.pinned[node.name]
            ? `compare with the fingerprint ${node.name} shows on its console in maintenance mode and fix --cert-fingerprint`
            : `if ${node.name} was reinstalled since the first contact, pass --cert-fingerprint ${node.name}=<the fingerprint on its console>`,
        },
      );
    return { fingerprint, how: trust.pinned[node.name] ? "pinned" : "recorded" };
  }
  if (options.vouched !== undefined) {
    if (fingerprint !== options.vouched)
      throw new HomelabError(
        "NODE_UNVERIFIED",
        `${node.name} (${endpoint}) presents certificate fingerprint ${fingerprint}, not the lab's ${options.vouched}`,
        { details: { node: node.name, endpoint, fingerprint } },
      );
    return { fingerprint, how: "lab" };
  }
  if (trust.confirm) {
    const ok = await trust.confirm(
      `${node.name} (${endpoint}) is in maintenance mode with certificate fingerprint ${fingerprint}. Does it match the one on ${node.name}'s console? Send its machine config?`,
    );
    if (!ok)
      throw new HomelabError(
        "NODE_UNVERIFIED",
        `${node.name}: fingerprint ${fingerprint} not confirmed; nothing sent`,
        {
          details: { node: node.name, endpoint, fingerprint },
          hint: `pin it with --cert-fingerprint ${node.name}=<fingerprint> once you have compared it`,
        },
      );
    return { fingerprint, how: "confirmed" };
  }
  return { fingerprint, how: "accepted" };
}

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The worktree root (packages/argo-bootstrap/../..). */
export const repoRoot: string = fileURLToPath(new URL("../../..", import.meta.url));

/** `<repo root>/../shared`, or HOMELAB_SHARED_DIR. */
export const sharedDir: string = process.env.HOMELAB_SHARED_DIR ?? join(repoRoot, "..", "shared");

/** The Argo CD CRD documents as YAML text (application, appproject, applicationset). */
export function argoCrdsText(
  which: ("application" | "appproject" | "applicationset")[] = ["application", "appproject"],
): string {
  return which
    .map((name) => readFileSync(join(sharedDir, "argocd", "crds", `${name}-crd.yaml`), "utf8"))
    .join("\n---\n");
}

/** Runs a program without blocking the event loop (the emulator lives in this process). */
export function run(
  command: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      const code =
        error === null
          ? 0
          : typeof (error as { code?: unknown }).code === "number"
            ? (error as { code: number }).code
            : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

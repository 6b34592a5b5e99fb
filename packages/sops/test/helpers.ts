import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const fixtures: string = fileURLToPath(new URL("./fixtures/", import.meta.url));

export function fixture(name: string): string {
  return readFileSync(join(fixtures, name), "utf8");
}

/** A throwaway directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sops-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Unwraps the data key of one of sops's own test files with the real `gpg` and sops's published
 * functional-test PGP key (the upstream fixtures are PGP-encrypted).
 */
export function upstreamDataKey(name: string, gnupgHome: string): Uint8Array {
  mkdirSync(gnupgHome, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupgHome };
  execFileSync(
    "gpg",
    ["--batch", "--quiet", "--import", join(fixtures, "sops-upstream/sops_functional_tests_key.asc")],
    {
      env,
      stdio: "ignore",
    },
  );
  const text = fixture(`sops-upstream/${name}`);
  const armored = name.endsWith(".env")
    ? (text
        .split("\n")
        .find((line) => line.startsWith("sops_pgp__list_0__map_enc="))
        ?.slice("sops_pgp__list_0__map_enc=".length)
        .replaceAll("\\n", "\n") ?? "")
    : ((parse(text) as { sops: { pgp: { enc: string }[] } }).sops.pgp[0]?.enc ?? "");
  return new Uint8Array(execFileSync("gpg", ["--batch", "--quiet", "--decrypt"], { input: armored, env }));
}

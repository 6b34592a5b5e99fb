import { readFile as fsReadFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { ArgoBootstrapError } from "./errors.js";
import { isRecord } from "./internal/util.js";
import { parseManifests } from "./manifests.js";

const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Options for {@link readGitOpsTree}. */
export interface ReadGitOpsTreeOptions {
  /** The directory Argo CD renders (an Application's `path`), absolute or relative to the process. */
  dir: string;
}

/** What {@link readGitOpsTree} found: the objects the directory renders to and the files they came from. */
export interface GitOpsTree {
  objects: Record<string, unknown>[];
  /** Every file read, kustomizations included (absolute paths). */
  files: string[];
}

/**
 * Reads what a GitOps directory renders to the way kustomize builds it: a directory with a
 * kustomization follows its `resources` (files, and directories with their own kustomization, wherever
 * they live) and applies `commonAnnotations`/`commonLabels`; a directory without one is its YAML files.
 * Kustomize's load restriction holds: a file resource outside the kustomization's directory is refused
 * (`kubectl kustomize` says "security; file ... is not in or below ..."). Remote resources are skipped.
 *
 * @throws ArgoBootstrapError INVALID_MANIFEST when a file is missing, is not YAML, or breaks the load restriction
 */
export async function readGitOpsTree(options: ReadGitOpsTreeOptions): Promise<GitOpsTree> {
  const files: string[] = [];
  const objects = await build(resolve(options.dir), files, []);
  return { objects, files };
}

async function kustomizationIn(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const path = join(dir, name);
    if ((await kindOf(path)) === "file") return path;
  }
  return undefined;
}

async function kindOf(path: string): Promise<"file" | "dir" | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : undefined;
  } catch {
    return undefined;
  }
}

async function read(path: string, files: string[]): Promise<string> {
  try {
    const text = await fsReadFile(path, "utf8");
    files.push(path);
    return text;
  } catch (error) {
    throw new ArgoBootstrapError("INVALID_MANIFEST", `${path}: cannot be read`, { cause: error });
  }
}

async function build(dir: string, files: string[], stack: string[]): Promise<Record<string, unknown>[]> {
  if (stack.includes(dir)) {
    throw new ArgoBootstrapError(
      "INVALID_MANIFEST",
      `${dir}: kustomization cycle (${[...stack, dir].join(" -> ")})`,
    );
  }
  const kustomizationPath = await kustomizationIn(dir);
  if (kustomizationPath === undefined) {
    // Argo CD's directory source: every YAML file of the directory (not recursive by default)
    const { readdir } = await import("node:fs/promises");
    const names = (
      await readdir(dir).catch((error: unknown) => {
        throw new ArgoBootstrapError("INVALID_MANIFEST", `${dir}: not a directory that can be read`, {
          cause: error,
        });
      })
    )
      .filter((n) => /\.ya?ml$/i.test(n))
      .sort();
    const out: Record<string, unknown>[] = [];
    for (const name of names) out.push(...(await parseFile(join(dir, name), files)));
    return out;
  }
  const kustomization = (await parseFile(kustomizationPath, files))[0] ?? {};
  const out: Record<string, unknown>[] = [];
  const resources = Array.isArray(kustomization.resources) ? kustomization.resources.map(String) : [];
  for (const entry of resources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^(github\.com|git@)/.test(entry)) continue;
    const target = resolve(dir, entry);
    const kind = await kindOf(target);
    if (kind === "dir") {
      out.push(...(await build(target, files, [...stack, dir])));
    } else if (kind === "file") {
      const rel = relative(dir, target);
      if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) {
        throw new ArgoBootstrapError(
          "INVALID_MANIFEST",
          `${kustomizationPath}: resource ${entry}: security; file '${target}' is not in or below '${dir}' (kustomize's load restriction: list the directory instead)`,
          { details: { file: kustomizationPath, resource: entry } },
        );
      }
      out.push(...(await parseFile(target, files)));
    } else {
      throw new ArgoBootstrapError(
        "INVALID_MANIFEST",
        `${kustomizationPath}: resource ${entry} does not exist`,
        { details: { file: kustomizationPath, resource: entry } },
      );
    }
  }
  const annotations = isRecord(kustomization.commonAnnotations) ? kustomization.commonAnnotations : {};
  const labels = isRecord(kustomization.commonLabels) ? kustomization.commonLabels : {};
  for (const object of out) {
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    if (Object.keys(annotations).length > 0)
      metadata.annotations = {
        ...(isRecord(metadata.annotations) ? metadata.annotations : {}),
        ...annotations,
      };
    if (Object.keys(labels).length > 0)
      metadata.labels = { ...(isRecord(metadata.labels) ? metadata.labels : {}), ...labels };
    object.metadata = metadata;
  }
  return out;
}

async function parseFile(path: string, files: string[]): Promise<Record<string, unknown>[]> {
  const text = await read(path, files);
  try {
    return parseManifests(text).filter(isRecord);
  } catch (error) {
    throw new ArgoBootstrapError("INVALID_MANIFEST", `${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

import { isMap, isSeq, parseDocument, stringify } from "yaml";
import { ArgoBootstrapError } from "./errors.js";
import type { Application } from "./manifests.js";
import { assertValid, type ManifestValidator, validateManifests } from "./validate.js";

/** Options for {@link addApp}. */
export interface AddAppOptions {
  /** The Application to add (see {@link buildHelmApplication} / {@link buildGitApplication}). */
  application: Application;
  /** Directory of the app manifests, relative to the repo root (default `cluster/apps`). */
  appsDir?: string;
  /** Current text of `<appsDir>/kustomization.yaml`; undefined when the file does not exist yet. */
  kustomization?: string;
  /** File name for the manifest (default `<name>.yaml`). */
  fileName?: string;
  /** Overwrite an app that is already listed (default false). */
  replace?: boolean;
  /** AppProjects that exist; when given, the app's project must be one of them (or `default`). */
  projects?: readonly string[];
  /** Validate the manifest against the CRD schemas too. */
  validator?: ManifestValidator;
}

/** A file to write: path relative to the repo root, and its full content. */
export interface FileChange {
  path: string;
  content: string;
}

/** What {@link addApp} returns: the files to write (the caller writes them). */
export interface AddAppResult {
  files: FileChange[];
  /** False when the kustomization already listed the file (with `replace`). */
  addedToKustomization: boolean;
}

/**
 * Produces the file changes that add an app: its manifest and the kustomization with the new entry
 * (comments and other fields in an existing kustomization are kept). Nothing is written.
 *
 * @throws ArgoBootstrapError INVALID_OPTIONS when the app is already listed (without `replace`) or the
 *   kustomization is not a Kustomization; POLICY_VIOLATION when the manifest fails validation
 */
export function addApp(options: AddAppOptions): AddAppResult {
  const app = options.application;
  const appsDir = (options.appsDir ?? "cluster/apps").replace(/\/+$/, "");
  const fileName = options.fileName ?? `${app.metadata.name}.yaml`;
  if (fileName.includes("/") || fileName.startsWith(".")) {
    throw new ArgoBootstrapError("INVALID_OPTIONS", `fileName "${fileName}" must be a plain file name`);
  }
  assertValid(
    validateManifests([app], {
      ...(options.validator === undefined ? {} : { validator: options.validator }),
      ...(options.projects === undefined ? { checkProjects: false } : { knownProjects: options.projects }),
    }),
  );
  const doc = parseDocument(
    options.kustomization ?? "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
  );
  if (doc.errors.length > 0 || !isMap(doc.contents) || doc.get("kind") !== "Kustomization") {
    throw new ArgoBootstrapError("INVALID_OPTIONS", `${appsDir}/kustomization.yaml is not a Kustomization`);
  }
  let resources = doc.get("resources");
  if (!isSeq(resources)) {
    doc.set("resources", doc.createNode([]));
    resources = doc.get("resources");
  }
  const list = isSeq(resources) ? resources : undefined;
  const listed =
    list?.items.some((item) => String((item as { value?: unknown }).value ?? item) === fileName) ?? false;
  if (listed && options.replace !== true) {
    throw new ArgoBootstrapError(
      "INVALID_OPTIONS",
      `${fileName} is already listed in ${appsDir}/kustomization.yaml (pass replace to overwrite)`,
      {
        details: { name: app.metadata.name },
      },
    );
  }
  if (!listed && list !== undefined) {
    if (list.items.length === 0) list.flow = false;
    list.add(fileName);
  }
  return {
    files: [
      { path: `${appsDir}/${fileName}`, content: stringify(app, { lineWidth: 0, version: "1.1" }) },
      { path: `${appsDir}/kustomization.yaml`, content: doc.toString({ lineWidth: 0 }) },
    ],
    addedToKustomization: !listed,
  };
}

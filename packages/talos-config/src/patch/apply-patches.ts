import { parse } from "yaml";
import { type ConfigDocument, documentKey, documentLabel } from "../model/document.js";
import { parseDocuments } from "../yaml.js";
import { applyDeleteSelector, extractDeletes } from "./delete.js";
import { documentKeyString, keyString } from "./document-id.js";
import { applyJsonPatch, isJsonPatch, type JsonPatchOperation } from "./json6902.js";
import { mergeValue } from "./merge.js";
import { cloneValue, isPlainObject, type PlainObject, patchError } from "./values.js";

/**
 * One patch, in any form Talos accepts: a strategic-merge patch (one document or several), a list of
 * RFC 6902 JSON Patch operations, or the YAML/JSON text of either (as `talosctl --config-patch` reads
 * it: strategic merge first, JSON Patch when the text is a list).
 */
export type ConfigPatch = ConfigDocument | readonly ConfigDocument[] | readonly JsonPatchOperation[] | string;

/**
 * Loads a patch from YAML or JSON text: multi-document YAML is a strategic-merge patch, a list of
 * `{ op, path, ... }` objects is a JSON Patch.
 *
 * @throws TalosConfigError `INVALID_PATCH` when the text is neither.
 */
export function loadPatch(text: string): readonly ConfigDocument[] | readonly JsonPatchOperation[] {
  let single: unknown;
  try {
    single = parse(text);
  } catch {
    single = undefined;
  }
  if (isJsonPatch(single)) return single;
  try {
    return parseDocuments(text);
  } catch (error) {
    throw patchError(
      `patch is neither a strategic-merge patch nor a JSON patch: ${error instanceof Error ? error.message.replace(/^\[[A-Z_]+\] /, "") : "unreadable"}`,
    );
  }
}

/**
 * Applies patches to a config the way Talos does (`talosctl gen config --config-patch`,
 * `talosctl patch machineconfig`), in order, without touching the inputs.
 *
 * - Strategic merge, per document keyed by apiVersion/kind/name: a patch document that matches a config
 *   document is merged into it, otherwise it is appended. A patch document without apiVersion/kind is the
 *   legacy v1alpha1 document.
 * - Lists concatenate, except `podSubnets`/`serviceSubnets` (replaced), `machine.network.interfaces`
 *   (merged by `interface` or identical `deviceSelector`), `vlans` (by `vlanId`), admission plugins (by
 *   `name`), ExtensionServiceConfig `configFiles` (by `mountPath`) and the other fields Talos tags
 *   `merge:"replace"`; `extraArgs` maps replace key by key. Scalars overwrite unless the patch value is
 *   `""` or `0`; booleans always overwrite.
 * - `$patch: delete` on a document (with apiVersion and kind; skipped when absent), on a key (the key
 *   must exist), or on a list element (selected by the element's first other key). Deletes in a patch
 *   document run before its merge, so delete + re-add of one element works.
 * - JSON Patch operations apply only to a config of exactly one document, as Talos rejects them on
 *   multi-document configs.
 *
 * @throws TalosConfigError `INVALID_PATCH` naming the document and path that failed.
 */
export function applyPatches(
  base: readonly ConfigDocument[],
  patches: readonly ConfigPatch[],
): ConfigDocument[] {
  let docs = base.map((doc) => {
    if (!isPlainObject(doc)) throw patchError("every config document must be a mapping");
    return cloneValue(doc as PlainObject);
  });
  for (const [index, input] of patches.entries()) {
    const patch = typeof input === "string" ? loadPatch(input) : input;
    if (isJsonPatch(patch)) {
      if (docs.length !== 1) {
        throw patchError(
          `patches[${index}]: JSON6902 patches are not supported for multi-document machine configuration`,
          { patch: index, documents: docs.length },
        );
      }
      const patched = applyJsonPatch(docs[0], patch);
      if (!isPlainObject(patched))
        throw patchError(`patches[${index}]: the patched config is not a mapping`, { patch: index });
      docs = [patched];
      continue;
    }
    const patchDocs = Array.isArray(patch) ? patch : [patch];
    docs = strategicMerge(docs, patchDocs as readonly unknown[], index);
  }
  return docs;
}

function strategicMerge(left: PlainObject[], right: readonly unknown[], patchIndex: number): PlainObject[] {
  const out = left;
  const indexOf = (key: string): number => out.findIndex((doc) => documentKeyString(doc) === key);
  for (const patchDoc of right) {
    if (!isPlainObject(patchDoc)) {
      throw patchError(`patches[${patchIndex}]: a patch document must be a mapping`, { patch: patchIndex });
    }
    const { selectors, rest } = extractDeletes(patchDoc);
    for (const selector of selectors) {
      const at = indexOf(keyString(selector.doc));
      if (at < 0) continue;
      const target = out[at] as PlainObject;
      if (applyDeleteSelector(target, selector) === "document") out.splice(at, 1);
    }
    if (rest === undefined) continue;
    const id = documentKey(rest);
    const at = indexOf(keyString(id));
    if (at < 0) {
      out.push(cloneValue(rest));
      continue;
    }
    try {
      out[at] = mergeValue(id.kind, [], out[at], rest) as PlainObject;
    } catch (error) {
      const merged = error as Error & { details?: Record<string, unknown> };
      throw patchError(
        `patches[${patchIndex}] document ${documentLabel(rest)}: ${merged.message.replace(/^\[[A-Z_]+\] /, "")}`,
        {
          ...merged.details,
          patch: patchIndex,
          document: documentLabel(rest),
        },
      );
    }
  }
  return out;
}

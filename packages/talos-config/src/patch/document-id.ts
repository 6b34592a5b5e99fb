import { type ConfigDocument, type DocumentKey, documentKey } from "../model/document.js";

/** The string form of a document's (apiVersion, kind, name) key, for lookups. */
export function keyString(key: DocumentKey): string {
  return `${key.apiVersion}/${key.kind}/${key.name}`;
}

export function documentKeyString(doc: ConfigDocument): string {
  return keyString(documentKey(doc));
}

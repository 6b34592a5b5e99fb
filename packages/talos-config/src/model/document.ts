import type {
  KubeAPIServerConfigDocument,
  KubeClusterConfigDocument,
  KubeExternalManifestConfigDocument,
  KubeFlannelCNIConfigDocument,
  KubeInlineManifestConfigDocument,
  KubeletConfigDocument,
  KubeNetworkConfigDocument,
  KubeNodeConfigDocument,
} from "./kubernetes.js";
import type {
  DHCPv4ConfigDocument,
  DHCPv6ConfigDocument,
  HostnameConfigDocument,
  Layer2VIPConfigDocument,
  LinkAliasConfigDocument,
  LinkConfigDocument,
  ResolverConfigDocument,
  StaticHostConfigDocument,
  TimeSyncConfigDocument,
  VLANConfigDocument,
} from "./network.js";
import type { ExtensionServiceConfigDocument, UnattendedInstallConfigDocument } from "./runtime.js";
import type { V1Alpha1Document } from "./v1alpha1.js";

/**
 * One YAML document of a machine config or a patch: a plain mapping. The legacy document carries
 * `version: v1alpha1` (and no `kind`); every other document carries `apiVersion: v1alpha1` and `kind`,
 * and usually `name`. Patch documents are partial and may hold `$patch: delete` directives.
 */
export type ConfigDocument = { [key: string]: unknown };

/** The identity Talos uses to match documents when patching: (apiVersion, kind, name). */
export interface DocumentKey {
  /** `v1alpha1` for every kind today; empty for the legacy document. */
  readonly apiVersion: string;
  /** The `kind` field, or `v1alpha1` for the legacy document. */
  readonly kind: string;
  /** The `name` field, or empty for singletons. */
  readonly name: string;
}

/** True for the legacy v1alpha1 document: one without a `kind` field (it carries `version: v1alpha1` instead). */
export function isV1Alpha1Document(doc: ConfigDocument): boolean {
  return doc.kind === undefined;
}

/** The kind of a document: its `kind` field, or `v1alpha1` for the legacy document. */
export function documentKind(doc: ConfigDocument): string {
  return typeof doc.kind === "string" ? doc.kind : "v1alpha1";
}

/** The (apiVersion, kind, name) key Talos matches documents by. */
export function documentKey(doc: ConfigDocument): DocumentKey {
  if (isV1Alpha1Document(doc)) return { apiVersion: "", kind: "v1alpha1", name: "" };
  return {
    apiVersion: typeof doc.apiVersion === "string" ? doc.apiVersion : "",
    kind: documentKind(doc),
    name: typeof doc.name === "string" ? doc.name : "",
  };
}

/** A short human label for a document: `v1alpha1`, `HostnameConfig`, `LinkConfig/eno1`. */
export function documentLabel(doc: ConfigDocument): string {
  const key = documentKey(doc);
  return key.name === "" ? key.kind : `${key.kind}/${key.name}`;
}

/** The typed shape of each document kind this package models (`v1alpha1` = the legacy document). */
export type DocumentByKind = {
  v1alpha1: V1Alpha1Document;
  HostnameConfig: HostnameConfigDocument;
  LinkConfig: LinkConfigDocument;
  LinkAliasConfig: LinkAliasConfigDocument;
  DHCPv4Config: DHCPv4ConfigDocument;
  DHCPv6Config: DHCPv6ConfigDocument;
  VLANConfig: VLANConfigDocument;
  Layer2VIPConfig: Layer2VIPConfigDocument;
  ResolverConfig: ResolverConfigDocument;
  TimeSyncConfig: TimeSyncConfigDocument;
  StaticHostConfig: StaticHostConfigDocument;
  ExtensionServiceConfig: ExtensionServiceConfigDocument;
  KubeletConfig: KubeletConfigDocument;
  KubeNodeConfig: KubeNodeConfigDocument;
  KubeClusterConfig: KubeClusterConfigDocument;
  KubeAPIServerConfig: KubeAPIServerConfigDocument;
  KubeNetworkConfig: KubeNetworkConfigDocument;
  KubeFlannelCNIConfig: KubeFlannelCNIConfigDocument;
  KubeInlineManifestConfig: KubeInlineManifestConfigDocument;
  KubeExternalManifestConfig: KubeExternalManifestConfigDocument;
  UnattendedInstallConfig: UnattendedInstallConfigDocument;
};

/**
 * Narrows a document to the typed model of `kind` (by its `kind` field; `v1alpha1` for the legacy
 * document). The check is on the kind only: field values are not validated.
 */
export function isDocumentOfKind<K extends keyof DocumentByKind>(
  doc: ConfigDocument,
  kind: K,
): doc is ConfigDocument & DocumentByKind[K] {
  return documentKind(doc) === kind;
}

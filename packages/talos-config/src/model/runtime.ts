/** Fields every multi-document kind carries. */
type Header<K extends string> = { apiVersion: "v1alpha1"; kind: K };

/**
 * The unattended-install document (≥1.14), kind `UnattendedInstallConfig` as Talos registers it (the
 * official JSON schema spells the kind `UnattendedInstall`, which Talos does not accept). An empty
 * `installer.image` means the running version with the running schematic.
 */
export type UnattendedInstallConfigDocument = Header<"UnattendedInstallConfig"> & {
  installer?: { image?: string };
  provisioning?: { diskSelector?: { match?: string }; wipe?: boolean };
  reboot?: boolean;
};

/** ExtensionServiceConfig (≥1.7): `environment` entries are `KEY=value`; `configFiles` merge by `mountPath`. */
export type ExtensionServiceConfigDocument = Header<"ExtensionServiceConfig"> & {
  name: string;
  configFiles?: { content: string; mountPath: string }[];
  environment?: string[];
};

import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, id_ce_keyUsage, KeyUsage } from "@peculiar/asn1-x509";

/** The key-usage bit names of a PEM certificate and whether the extension is critical (node:crypto does not expose them). */
export function keyUsageOf(pem: string): { usages: string[]; critical: boolean } {
  const der = new X509Certificate(pem).raw;
  const cert = AsnConvert.parse(der, Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_keyUsage);
  if (ext === undefined) return { usages: [], critical: false };
  const usage = AsnConvert.parse(ext.extnValue.buffer, KeyUsage);
  return { usages: usage.toJSON(), critical: ext.critical };
}

export const HOUR_MS = 3_600_000;

export function lifetimeHours(cert: X509Certificate): number {
  return Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / HOUR_MS);
}

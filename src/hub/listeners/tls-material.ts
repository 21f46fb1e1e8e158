// The certificate files of service.yml's `certificate`, read once for every TLS listener; a missing or
// unreadable file is a typed error naming the key and the path.

import { readFileSync } from "node:fs";
import { OpenEdgeError } from "../../lib/errors.ts";
import type { CertificateConfig } from "../config.ts";

export interface TlsMaterial {
  options: { cert: string; key: string; ca?: string };
  /** A CA is configured: ask clients for certificates and verify them against it. */
  verifyClients: boolean;
}

export function loadTlsMaterial(certificate: CertificateConfig): TlsMaterial {
  if (certificate.cert === undefined || certificate.key === undefined) {
    throw new OpenEdgeError("ERR_CONFIG", "TLS listeners need certificate.cert and certificate.key");
  }
  const options: TlsMaterial["options"] = {
    cert: readPem("certificate.cert", certificate.cert),
    key: readPem("certificate.key", certificate.key),
  };
  if (certificate.ca !== undefined) options.ca = readPem("certificate.ca", certificate.ca);
  return { options, verifyClients: certificate.ca !== undefined };
}

function readPem(key: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new OpenEdgeError("ERR_CONFIG", `cannot read ${key} "${path}": ${reason}`, {
      cause: err,
      details: { key, path },
    });
  }
}

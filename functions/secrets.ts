import { setSigningSecretSource } from "../core/relay/config.js";

/**
 * Imported by the functions bound to SUPPLIER_SIGNING_SECRET (stacks/secrets.ts): in AWS the secret comes from SST's
 * Config client (SSM), loaded lazily so a process that never needs it (tests, the local runtime, which set the
 * environment variable) never loads SST. The domain only sees a source to call.
 */
setSigningSecretSource(async () => {
  const { Config } = (await import("sst/node/config")) as { Config: Record<string, unknown> };
  return Config.SUPPLIER_SIGNING_SECRET;
});

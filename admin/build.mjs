/**
 * Builds the deployed admin site into admin/.build (run by the StaticSite in stacks/Admin.ts, cwd admin/): the page
 * as is, the SigV4/Cognito code bundled for the browser (aws-signer.js), and config.json naming the user pool,
 * identity pool and API. SST passes each config value as a `{{ NAME }}` placeholder in the environment and
 * replaces it with the deployed value when it uploads the files. The local runtime serves admin/ itself and never
 * needs this build.
 */
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, ".build");

/** config.json field -> environment variable (set by stacks/Admin.ts). */
export const CONFIG_ENV = {
  region: "ORDERLINE_ADMIN_REGION",
  userPoolId: "ORDERLINE_ADMIN_USER_POOL_ID",
  userPoolClientId: "ORDERLINE_ADMIN_USER_POOL_CLIENT_ID",
  identityPoolId: "ORDERLINE_ADMIN_IDENTITY_POOL_ID",
  apiUrl: "ORDERLINE_ADMIN_API_URL",
};

const config = { auth: "cognito" };
for (const [field, name] of Object.entries(CONFIG_ENV)) {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: the admin site is built by stacks/Admin.ts (npm run synth / sst deploy)`);
  config[field] = value;
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
for (const file of ["index.html", "admin.css", "app.js", "api.js", "favicon.svg"])
  await copyFile(path.join(here, file), path.join(out, file));
await writeFile(path.join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
await build({
  entryPoints: [path.join(here, "aws", "signer.js")],
  outfile: path.join(out, "aws-signer.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`admin site built in ${path.relative(process.cwd(), out) || "."}`);

/**
 * `sst build` without AWS: starts the loopback fake (test/infra/fake-aws.ts), points the SDK's STS and
 * CloudFormation endpoints at it with fake credentials, and runs the project's sst CLI with the same Node.
 * The CloudFormation templates land in `.sst/dist/*.template.json` and the bundled functions in
 * `.sst/dist/asset.*`. Usage: `npm run synth -- [stage] [outDir]` (default stage "test", default outDir `.sst/dist`).
 */
import { spawn } from "node:child_process";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sleep } from "../core/retry.js";
import { startFakeAws } from "../test/infra/fake-aws.js";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = path.join(projectRoot, ".sst", "dist");

export interface OfflineBuild {
  /** Where the templates and assets are. */
  outDir: string;
  durationMs: number;
  /** AWS actions sst made against the fake, in order. */
  awsCalls: string[];
  output: string;
}

const REGION = "us-east-1";

/**
 * The environment of the sst child. Nothing from the caller's AWS setup may leak in (profiles, real keys, SSO),
 * and neither may a test runner's NODE_ENV=test: sst treats that as "running under sst's own test helper" and
 * skips the bootstrap lookup and the sourcemap resources, so the templates would differ from a real build.
 */
function offlineEnv(endpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const leaks = /^(AWS_|SST_|CDK_|VITEST)/.test(key) || key === "NODE_ENV";
    if (!leaks) env[key] = value;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: "AKIAOFFLINESYNTH0000",
    AWS_SECRET_ACCESS_KEY: "offline-synth-secret",
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_STS: endpoint,
    AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
    // Belt and braces: no instance-metadata lookups, no telemetry, no npm registry calls. sst runs
    // `npm install` (with an empty dependency list) in each function's output directory while bundling.
    AWS_EC2_METADATA_DISABLED: "true",
    SST_TELEMETRY_DISABLED: "1",
    npm_config_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * sst builds every function in `.sst/artifacts/<id>` (a fixed path), so two builds at once (two test runs, a test
 * run and `npm run synth`) delete each other's files. Builds of this checkout take turns through a lock file; a
 * lock whose holder has died is taken over.
 */
async function withBuildLock<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const lockFile = path.join(projectRoot, ".sst", "offline-build.lock");
  await mkdir(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(await readFile(lockFile, "utf8").catch(() => ""));
      if (holder && !isAlive(holder)) await rm(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`another sst build (pid ${holder}) holds ${lockFile}`);
      else await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * Runs `sst build` offline. `outDir` defaults to sst's `.sst/dist`; a test passes its own directory so that a
 * later build elsewhere cannot change the templates it is reading.
 */
export async function buildOffline({
  stage = "test",
  outDir = distDir,
  timeoutMs = 240_000,
} = {}): Promise<OfflineBuild> {
  return withBuildLock(timeoutMs, () => runBuild(stage, outDir, timeoutMs));
}

async function runBuild(stage: string, outDir: string, timeoutMs: number): Promise<OfflineBuild> {
  const fake = await startFakeAws(REGION);
  const sstCli = createRequire(import.meta.url).resolve("sst/cli/sst.js");
  const started = Date.now();
  try {
    const output = await new Promise<string>((resolve, reject) => {
      // The same Node as the caller (the project's Node 24 from the `node` devDependency under npm/npx).
      const child = spawn(process.execPath, [sstCli, "build", "--stage", stage, "--to", outDir], {
        cwd: projectRoot,
        env: offlineEnv(fake.endpoint),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else
          reject(
            new Error(
              `sst build failed (${signal ?? `exit ${code}`}); fake AWS saw ${JSON.stringify(fake.calls)}\n${output}`,
            ),
          );
      });
    });
    if (fake.unexpected.length > 0)
      throw new Error(`sst build made AWS calls the fake does not answer: ${fake.unexpected.join(", ")}`);
    return { outDir, durationMs: Date.now() - started, awsCalls: [...fake.calls], output };
  } finally {
    await fake.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stage = process.argv[2] ?? "test";
  const outDir = process.argv[3] ? path.resolve(process.argv[3]) : distDir;
  buildOffline({ stage, outDir }).then(
    (result) => {
      process.stdout.write(result.output);
      console.log(
        `offline sst build (stage ${stage}, ${path.relative(projectRoot, outDir)}) took ${(result.durationMs / 1000).toFixed(1)} s; AWS calls: ${result.awsCalls.join(", ")}`,
      );
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}

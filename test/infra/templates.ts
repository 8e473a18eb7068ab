import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Template } from "aws-cdk-lib/assertions";

/** Helpers to read what `sst build` synthesized: templates, functions, their roles' policies, their bundles. */

export const STACKS = ["Data", "Api", "Events", "Ops"] as const;
export type StackName = (typeof STACKS)[number];

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
}

export interface Synthesized {
  json: Record<StackName, CfnTemplate>;
  template: Record<StackName, Template>;
}

export function loadTemplates(distDir: string, stage: string, app = "orderline"): Synthesized {
  const json = {} as Record<StackName, CfnTemplate>;
  const template = {} as Record<StackName, Template>;
  for (const stack of STACKS) {
    json[stack] = JSON.parse(readFileSync(path.join(distDir, `${stage}-${app}-${stack}.template.json`), "utf8"));
    template[stack] = Template.fromJSON(json[stack] as never);
  }
  return { json, template };
}

export function resourcesOf(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The one resource of a type in a template (throws if there is not exactly one). */
export function onlyResource(template: CfnTemplate, type: string): [string, CfnResource] {
  const found = resourcesOf(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
}

/**
 * Renders a CloudFormation value as a readable string: `Fn::Join` is joined, `Ref`/`GetAtt`/`ImportValue` become
 * `${...}` placeholders. Enough to compare ARNs and to search a dashboard body.
 */
export function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(render).join(",");
  if (value && typeof value === "object") {
    const entries = Object.entries(value) as [string, any][];
    if (entries.length === 1) {
      const [[fn, arg]] = entries as [[string, any]];
      if (fn === "Fn::Join") return (arg[1] as unknown[]).map(render).join(arg[0]);
      if (fn === "Ref") return `\${${arg}}`;
      if (fn === "Fn::GetAtt") return `\${${(arg as string[]).join(".")}}`;
      if (fn === "Fn::ImportValue") return `\${Import:${render(arg)}}`;
    }
    return `{${entries.map(([key, inner]) => `${key}:${render(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

export interface SynthesizedFunction {
  stack: StackName;
  logicalId: string;
  handler: string;
  runtime: string;
  architectures: string[];
  tracing?: string;
  /** Seconds. */
  timeout?: number;
  environment: Record<string, unknown>;
  assetHash?: string;
  /** Statements of every policy attached to the function's role. */
  statements: PolicyStatement[];
}

/** Every Lambda function of every stack, with its role's policy statements. */
export function functionsOf(synth: Synthesized): SynthesizedFunction[] {
  const functions: SynthesizedFunction[] = [];
  for (const stack of STACKS) {
    const template = synth.json[stack];
    const statementsByRole = new Map<string, PolicyStatement[]>();
    for (const [, policy] of resourcesOf(template, "AWS::IAM::Policy")) {
      for (const role of asArray(policy.Properties!.Roles as { Ref: string }[])) {
        const list = statementsByRole.get(role.Ref) ?? [];
        list.push(...asArray<PolicyStatement>(policy.Properties!.PolicyDocument.Statement));
        statementsByRole.set(role.Ref, list);
      }
    }
    for (const [logicalId, fn] of resourcesOf(template, "AWS::Lambda::Function")) {
      const props = fn.Properties!;
      const roleId = (props.Role?.["Fn::GetAtt"] as string[] | undefined)?.[0] ?? "";
      functions.push({
        stack,
        logicalId,
        handler: props.Handler,
        runtime: props.Runtime,
        architectures: props.Architectures ?? ["x86_64"],
        tracing: props.TracingConfig?.Mode,
        timeout: props.Timeout,
        environment: props.Environment?.Variables ?? {},
        assetHash: typeof props.Code?.S3Key === "string" ? props.Code.S3Key.replace(/\.zip$/, "") : undefined,
        statements: statementsByRole.get(roleId) ?? [],
      });
    }
  }
  return functions;
}

/** All IAM policy statements anywhere (standalone policies and role inline policies), with where they are. */
export function allStatements(synth: Synthesized): { where: string; statement: PolicyStatement }[] {
  const found: { where: string; statement: PolicyStatement }[] = [];
  for (const stack of STACKS) {
    for (const [id, resource] of Object.entries(synth.json[stack].Resources)) {
      const documents =
        resource.Type === "AWS::IAM::Policy" || resource.Type === "AWS::IAM::ManagedPolicy"
          ? [resource.Properties!.PolicyDocument]
          : resource.Type === "AWS::IAM::Role"
            ? asArray(resource.Properties!.Policies as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument)
            : [];
      for (const document of documents as { Statement: PolicyStatement | PolicyStatement[] }[]) {
        for (const statement of asArray(document.Statement)) found.push({ where: `${stack}/${id}`, statement });
      }
    }
  }
  return found;
}

export interface BundleSize {
  files: number;
  bytes: number;
  gzipBytes: number;
}

/** Size of one function asset directory (what gets zipped and uploaded), raw and gzipped as a zip estimate. */
export function bundleSize(assetDir: string): BundleSize {
  const size: BundleSize = { files: 0, bytes: 0, gzipBytes: 0 };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const content = readFileSync(full);
        size.files += 1;
        size.bytes += content.length;
        size.gzipBytes += gzipSync(content).length;
      }
    }
  };
  walk(assetDir);
  return size;
}

import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOffline, projectRoot } from "../../scripts/sst-build-offline.js";
import { ADMIN_API_PATHS, ADMIN_API_RESOURCES } from "../../stacks/Admin.js";
import { asArray, type CfnTemplate, onlyResource, type PolicyStatement, render, resourcesOf } from "./templates.js";

/**
 * The admin console's AWS side, on the synthesized templates (offline `sst build`): a static site, an admin user
 * pool, and an identity pool whose only role (signed-in admins) may invoke the console's API routes and nothing
 * else; the API itself stays IAM-only, and the site opens no route of its own.
 */
const STAGE = "test";
const OUT_DIR = path.join(projectRoot, ".sst", `dist-admin-test-${process.pid}`);

let admin: CfnTemplate;
let api: CfnTemplate;

const read = (stack: string): CfnTemplate =>
  JSON.parse(readFileSync(path.join(OUT_DIR, `${STAGE}-orderline-${stack}.template.json`), "utf8"));

beforeAll(async () => {
  await buildOffline({ stage: STAGE, outDir: OUT_DIR });
  admin = read("Admin");
  api = read("Api");
}, 300_000);

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
});

/** The export name the Admin stack imports for the API id, checked to be the Api stack's HTTP API. */
function importedApiId(value: unknown): string {
  const text = render(value);
  const match = /\$\{Import:([^}]+)\}/.exec(text);
  expect(match, text).not.toBeNull();
  return match![1]!;
}

describe("admin console in AWS", () => {
  it("has an admin user pool without self sign-up and a public client for the page", () => {
    const [, pool] = onlyResource(admin, "AWS::Cognito::UserPool");
    expect(pool.Properties!.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.Properties!.Policies.PasswordPolicy.MinimumLength).toBeGreaterThanOrEqual(12);
    const [, client] = onlyResource(admin, "AWS::Cognito::UserPoolClient");
    expect(client.Properties!.GenerateSecret).toBe(false);
    expect(client.Properties!.ExplicitAuthFlows).toEqual(
      expect.arrayContaining(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
    );
    expect(client.Properties!.ExplicitAuthFlows).not.toContain("ALLOW_ADMIN_USER_PASSWORD_AUTH");
    expect(client.Properties!.PreventUserExistenceErrors).toBe("ENABLED");
  });

  it("has an identity pool for signed-in admins only, whose one role may only invoke the console's API routes", () => {
    const [poolId, pool] = onlyResource(admin, "AWS::Cognito::IdentityPool");
    expect(pool.Properties!.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.Properties!.AllowClassicFlow).toBe(false);
    const [clientId] = onlyResource(admin, "AWS::Cognito::UserPoolClient");
    const [userPoolId] = onlyResource(admin, "AWS::Cognito::UserPool");
    expect(pool.Properties!.CognitoIdentityProviders).toEqual([
      {
        ClientId: { Ref: clientId },
        ProviderName: { "Fn::GetAtt": [userPoolId, "ProviderName"] },
        ServerSideTokenCheck: true,
      },
    ]);

    const [, attachment] = onlyResource(admin, "AWS::Cognito::IdentityPoolRoleAttachment");
    expect(attachment.Properties!.IdentityPoolId).toEqual({ Ref: poolId });
    // No unauthenticated role, no role mappings: only a signed-in admin gets credentials.
    expect(Object.keys(attachment.Properties!.Roles)).toEqual(["authenticated"]);
    expect(attachment.Properties!.RoleMappings).toBeUndefined();
    const roleId = (attachment.Properties!.Roles.authenticated as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const role = admin.Resources[roleId]!;
    expect(role.Type).toBe("AWS::IAM::Role");

    const trust = asArray<any>(role.Properties!.AssumeRolePolicyDocument.Statement);
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Action: "sts:AssumeRoleWithWebIdentity",
        Principal: { Federated: "cognito-identity.amazonaws.com" },
        Condition: {
          StringEquals: { "cognito-identity.amazonaws.com:aud": { Ref: poolId } },
          "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
        },
      },
    ]);
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties!.Policies).toBeUndefined();

    const statements: PolicyStatement[] = resourcesOf(admin, "AWS::IAM::Policy")
      .filter(([, policy]) => asArray<{ Ref: string }>(policy.Properties!.Roles).some((r) => r.Ref === roleId))
      .flatMap(([, policy]) => asArray<PolicyStatement>(policy.Properties!.PolicyDocument.Statement));
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement!.Effect).toBe("Allow");
    expect(asArray(statement!.Action)).toEqual(["execute-api:Invoke"]);
    const resources = asArray(statement!.Resource as unknown[]).map(render);
    expect(resources.map((arn) => arn.replace(/^.*:execute-api:[^:]+:[^:]+:\$\{Import:[^}]+\}\//, ""))).toEqual([
      ...ADMIN_API_RESOURCES,
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: `${AWS::Partition}` is how render() shows a CloudFormation Ref.
    expect(resources.every((arn) => arn.startsWith("arn:${AWS::Partition}:execute-api:us-east-1:123456789012:"))).toBe(
      true,
    );
    // Nothing of the API beyond its internal and admin routes, and reading orders.
    expect(ADMIN_API_RESOURCES).toEqual(["*/*/internal/*", "*/*/admin/*", "*/GET/api/v1/orders/*"]);

    // The API id is the Api stack's HTTP API.
    const exportName = importedApiId(asArray(statement!.Resource as unknown[])[0]);
    const output = Object.values(api.Outputs ?? {}).find((o) => o.Export && render(o.Export.Name) === exportName);
    expect(output, exportName).toBeDefined();
    const [httpApiId] = onlyResource(api, "AWS::ApiGatewayV2::Api");
    expect(output!.Value).toEqual({ Ref: httpApiId });
  });

  it("keeps the API IAM-only: every route the console may call is AWS_IAM, and the Admin stack opens nothing", () => {
    const routes = resourcesOf(api, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
    const consoleRoutes = routes.filter((r) => /^(\w+ \/(internal|admin)\/|GET \/api\/v1\/orders\/)/.test(r.RouteKey));
    expect(consoleRoutes.length).toBeGreaterThan(10);
    for (const route of consoleRoutes) expect(route.AuthorizationType, route.RouteKey).toBe("AWS_IAM");
    for (const type of [
      "AWS::ApiGatewayV2::Api",
      "AWS::ApiGatewayV2::Route",
      "AWS::ApiGateway::RestApi",
      "AWS::Lambda::Url",
    ])
      expect(resourcesOf(admin, type), type).toEqual([]);
    for (const [id, permission] of resourcesOf(admin, "AWS::Lambda::Permission"))
      expect(permission.Properties!.Principal, id).not.toBe("*");
  });

  it("serves the page from a private bucket, and forwards only the console's API paths to the API", () => {
    const [, bucket] = onlyResource(admin, "AWS::S3::Bucket");
    expect(bucket.Properties!.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties!.VersioningConfiguration).toEqual({ Status: "Enabled" });
    const [, distribution] = onlyResource(admin, "AWS::CloudFront::Distribution");
    const config = distribution.Properties!.DistributionConfig;
    // SST's default would answer the API's 403/404 with the index page.
    expect(config.CustomErrorResponses).toBeUndefined();
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toBeDefined();
    const apiOrigin = (config.Origins as any[]).find((o) => o.CustomOriginConfig);
    expect(render(apiOrigin.DomainName)).toMatch(/^\$\{Import:[^}]+\}\.execute-api\.us-east-1\.\$\{AWS::URLSuffix\}$/);
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe("https-only");
    const behaviors = config.CacheBehaviors as any[];
    expect(behaviors.map((b) => b.PathPattern)).toEqual(Object.keys(ADMIN_API_PATHS));
    for (const behavior of behaviors) {
      expect(behavior.TargetOriginId).toBe(apiOrigin.Id);
      expect(behavior.ViewerProtocolPolicy).toBe("https-only");
      expect(behavior.CachePolicyId).toBe("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"); // CachingDisabled
      expect(behavior.OriginRequestPolicyId).toBe("b689b0a8-53d0-40ab-baf2-68738e2966ac"); // AllViewerExceptHostHeader
    }
    expect(behaviors.find((b) => b.PathPattern === "/api/v1/orders/*").AllowedMethods).toEqual(["GET", "HEAD"]);
  });

  it("gives the page its config.json: the pools and the API, filled in at deploy time", () => {
    const [, uploader] = onlyResource(admin, "Custom::S3Uploader");
    const replaced = (
      uploader.Properties!.replaceValues as { files: string; search: string; replace: unknown }[]
    ).filter((r) => r.files === "config.json");
    const [userPoolId] = onlyResource(admin, "AWS::Cognito::UserPool");
    const [clientId] = onlyResource(admin, "AWS::Cognito::UserPoolClient");
    const [identityPoolId] = onlyResource(admin, "AWS::Cognito::IdentityPool");
    expect(Object.fromEntries(replaced.map((r) => [r.search, render(r.replace)]))).toEqual({
      "{{ ORDERLINE_ADMIN_USER_POOL_ID }}": `\${${userPoolId}}`,
      "{{ ORDERLINE_ADMIN_USER_POOL_CLIENT_ID }}": `\${${clientId}}`,
      "{{ ORDERLINE_ADMIN_IDENTITY_POOL_ID }}": `\${${identityPoolId}}`,
      "{{ ORDERLINE_ADMIN_API_URL }}": expect.stringMatching(/^\$\{Import:test-orderline-Api:[^}]+\}$/),
    });
    // What the build put in the bucket: the page, the bundled signer, and config.json with those placeholders.
    const built = path.join(projectRoot, "admin", ".build");
    const config = JSON.parse(readFileSync(path.join(built, "config.json"), "utf8"));
    expect(config).toEqual({
      auth: "cognito",
      region: "us-east-1",
      userPoolId: "{{ ORDERLINE_ADMIN_USER_POOL_ID }}",
      userPoolClientId: "{{ ORDERLINE_ADMIN_USER_POOL_CLIENT_ID }}",
      identityPoolId: "{{ ORDERLINE_ADMIN_IDENTITY_POOL_ID }}",
      apiUrl: "{{ ORDERLINE_ADMIN_API_URL }}",
    });
    const signer = readFileSync(path.join(built, "aws-signer.js"), "utf8");
    expect(signer).toContain("execute-api");
    expect(signer).not.toMatch(/from\s*["'](node:|@aws-sdk|aws4fetch)/);
  });
});

import { type CfnResource, Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as iam from "aws-cdk-lib/aws-iam";
import { type Api as SstApi, type StackContext, StaticSite, use } from "sst/constructs";
import { Api } from "./Api.js";
import { isProtectedStage } from "./naming.js";

/**
 * What the admin console may call, as `execute-api` resource paths (`<stage>/<METHOD>/<path>`): the internal and
 * admin routes, and reading orders (the order view uses the public API's two GET routes; nothing else under
 * `/api/v1` is granted, so an admin cannot place or cancel orders from the console).
 */
export const ADMIN_API_RESOURCES = ["*/*/internal/*", "*/*/admin/*", "*/GET/api/v1/orders/*"] as const;

/** The API paths the site's CloudFront forwards to the API (the same as the grants above). */
export const ADMIN_API_PATHS = { "/internal/*": "all", "/admin/*": "all", "/api/v1/orders/*": "read" } as const;

/** Written by admin/build.mjs from the build variables below. */
const CONFIG_FILE = "config.json";

/** The admin user pool (no self sign-up: operators create admins) and the console's app client. */
function adminUserPool(stack: Stack, retain: boolean) {
  const userPool = new cognito.UserPool(stack, "AdminUserPool", {
    selfSignUpEnabled: false,
    signInAliases: { username: true, email: true },
    passwordPolicy: {
      minLength: 14,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: false,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    deletionProtection: retain,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const client = userPool.addClient("AdminConsoleClient", {
    // The page signs in with Cognito's JSON API (no hosted UI, so no callback URL to keep in step with the site).
    authFlows: { userPassword: true },
    generateSecret: false,
    preventUserExistenceErrors: true,
    idTokenValidity: Duration.hours(1),
    accessTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.hours(8),
  });
  return { userPool, client };
}

/** The identity pool and its only role: signed-in admins, who may invoke the console's API routes and nothing else. */
function adminIdentity(
  stack: Stack,
  { userPool, client }: ReturnType<typeof adminUserPool>,
  api: SstApi,
): { identityPool: cognito.CfnIdentityPool; role: iam.Role } {
  const identityPool = new cognito.CfnIdentityPool(stack, "AdminIdentityPool", {
    allowUnauthenticatedIdentities: false,
    allowClassicFlow: false,
    cognitoIdentityProviders: [
      { clientId: client.userPoolClientId, providerName: userPool.userPoolProviderName, serverSideTokenCheck: true },
    ],
  });
  const role = new iam.Role(stack, "AdminConsoleRole", {
    description: "Signed-in admins of the Orderline admin console: invoke the console's API routes, nothing else",
    assumedBy: new iam.FederatedPrincipal(
      "cognito-identity.amazonaws.com",
      {
        StringEquals: { "cognito-identity.amazonaws.com:aud": identityPool.ref },
        "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
      },
      "sts:AssumeRoleWithWebIdentity",
    ),
    maxSessionDuration: Duration.hours(1),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      actions: ["execute-api:Invoke"],
      resources: ADMIN_API_RESOURCES.map((path) =>
        stack.formatArn({ service: "execute-api", resource: api.httpApiId, resourceName: path }),
      ),
    }),
  );
  // Only the authenticated role: an identity without a signed-in admin gets no credentials at all.
  new cognito.CfnIdentityPoolRoleAttachment(stack, "AdminIdentityPoolRoles", {
    identityPoolId: identityPool.ref,
    roles: { authenticated: role.roleArn },
  });
  return { identityPool, role };
}

/** The CloudFront behaviours that forward ADMIN_API_PATHS to the API, uncached, signatures untouched. */
function apiBehaviors(stack: Stack, api: SstApi): Record<string, cloudfront.BehaviorOptions> {
  const apiOrigin = new origins.HttpOrigin(`${api.httpApiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
    protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
  });
  const apiBehavior = (access: "all" | "read"): cloudfront.BehaviorOptions => ({
    origin: apiOrigin,
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
    allowedMethods: access === "all" ? cloudfront.AllowedMethods.ALLOW_ALL : cloudfront.AllowedMethods.ALLOW_GET_HEAD,
    // Every answer is per caller and live; the signed headers (Authorization, X-Amz-*) reach the API untouched.
    cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
  });
  return Object.fromEntries(Object.entries(ADMIN_API_PATHS).map(([path, access]) => [path, apiBehavior(access)]));
}

/** The page's security headers: a same-origin page whose only other calls go to Cognito. */
function siteHeaders(stack: Stack): cloudfront.ResponseHeadersPolicy {
  const region = stack.region;
  return new cloudfront.ResponseHeadersPolicy(stack, "AdminSiteHeaders", {
    comment: "Orderline admin console: same-origin page, Cognito calls only",
    securityHeadersBehavior: {
      contentSecurityPolicy: {
        contentSecurityPolicy: [
          "default-src 'self'",
          `connect-src 'self' https://cognito-idp.${region}.amazonaws.com https://cognito-identity.${region}.amazonaws.com`,
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "form-action 'self'",
        ].join("; "),
        override: true,
      },
      strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
    },
  });
}

/**
 * The static site: admin/ built by admin/build.mjs, with `deployed` (name -> deploy-time value) written into its
 * config.json, and the API paths forwarded to the API.
 */
function adminSite(stack: Stack, api: SstApi, deployed: Record<string, string>): StaticSite {
  // Deploy-time values go into config.json by SST's replaceValues. The build sees only their placeholders
  // (plain strings), so no token reaches SST's metadata output (an import there is an output re-exporting an import).
  const placeholder = (name: string) => `{{ ${name} }}`;
  return new StaticSite(stack, "AdminSite", {
    path: "admin",
    buildCommand: "node build.mjs",
    buildOutput: ".build",
    environment: {
      ORDERLINE_ADMIN_REGION: stack.region,
      ...Object.fromEntries(Object.keys(deployed).map((name) => [name, placeholder(name)])),
    },
    replaceValues: Object.entries(deployed).map(([name, value]) => ({
      files: CONFIG_FILE,
      search: placeholder(name),
      replace: value,
    })),
    // The files are not content-hashed: a browser must revalidate each, or it keeps last year's app.js.
    assets: { fileOptions: [{ files: "**", cacheControl: "max-age=0,no-cache,must-revalidate" }] },
    cdk: {
      distribution: {
        comment: "Orderline admin console",
        // SST's default turns 403/404 into the index page for every path, the API's answers included.
        errorResponses: [],
        defaultBehavior: { responseHeadersPolicy: siteHeaders(stack) },
        additionalBehaviors: apiBehaviors(stack, api),
      },
    },
  });
}

/** Bucket versioning for hand rollbacks, and the checkov checks that do not apply to the site's resources. */
function hardenSite(site: StaticSite): void {
  const cdk = site.cdk!;
  // The bucket keeps what the page replaced a while, so a bad deploy can be rolled back by hand.
  const bucket = cdk.bucket.node.defaultChild as CfnResource;
  bucket.addPropertyOverride("VersioningConfiguration", { Status: "Enabled" });
  bucket.addPropertyOverride("LifecycleConfiguration", {
    Rules: [
      {
        Id: "ExpireReplacedFiles",
        Status: "Enabled",
        NoncurrentVersionExpirationInDays: 30,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ],
  });
  // Checks that do not apply to these two resources, skipped on them only (not in .ci/checkov.yaml, which would
  // skip them for every future bucket and distribution as well).
  skipChecks(bucket, {
    CKV_AWS_18:
      "Site bucket access logging: read only by CloudFront (origin access identity); it holds the public page, no data. Every API call the page makes is in the API's access log with the caller's IAM identity.",
  });
  skipChecks(cdk.distribution.node.defaultChild as CfnResource, {
    CKV_AWS_68:
      "WAF: the page is static and every API path behind this distribution requires a SigV4 signature from a signed-in admin (IAM auth on every route); a web ACL would add a monthly cost and protect nothing more.",
    CKV_AWS_86:
      "CloudFront access logging: the static page's hits are not worth a log bucket (with ACLs, which CloudFront standard logging needs); the API calls are logged by the API's access log.",
    CKV_AWS_174:
      "TLS 1.2 minimum: the distribution uses the default *.cloudfront.net certificate, for which CloudFront does not accept a minimum protocol version; set it with a custom domain (customDomain) and its certificate.",
  });
}

/**
 * The admin console in AWS: the static page (admin/) on S3 + CloudFront, an admin user pool (no self sign-up:
 * operators create admins), and an identity pool whose only role is for signed-in admins and may only invoke the
 * console's API routes. The page signs every call with those credentials (SigV4); the API stays IAM-only, with no
 * open route and no CORS: CloudFront forwards the API paths to API Gateway from the site's own origin, with the
 * API's host, so the browser's signature (made for the API's host) holds.
 */
export function Admin({ app, stack }: StackContext) {
  const { api } = use(Api);
  const pool = adminUserPool(stack, isProtectedStage(app.stage));
  const { identityPool, role } = adminIdentity(stack, pool, api);
  const site = adminSite(stack, api, {
    ORDERLINE_ADMIN_USER_POOL_ID: pool.userPool.userPoolId,
    ORDERLINE_ADMIN_USER_POOL_CLIENT_ID: pool.client.userPoolClientId,
    ORDERLINE_ADMIN_IDENTITY_POOL_ID: identityPool.ref,
    ORDERLINE_ADMIN_API_URL: api.url,
  });
  hardenSite(site);

  stack.addOutputs({
    AdminUrl: site.url ?? "",
    AdminUserPoolId: pool.userPool.userPoolId,
    AdminIdentityPoolId: identityPool.ref,
  });
  return { site, userPool: pool.userPool, identityPool, role };
}

/** checkov suppressions on one resource (CloudFormation metadata), each with its reason. */
function skipChecks(resource: CfnResource, checks: Record<string, string>): void {
  resource.addMetadata("checkov", { skip: Object.entries(checks).map(([id, comment]) => ({ id, comment })) });
}

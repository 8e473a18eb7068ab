import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for the two AWS APIs `sst build` calls before it synthesizes (sst 2.49.x):
 * STS GetCallerIdentity (the account the stacks are synthesized for) and CloudFormation DescribeStacks for the
 * CDK and SST bootstrap stacks (their versions and asset buckets). Both are query-protocol APIs: a form-encoded
 * POST with `Action=...`, answered with XML. Point the SDK at it with AWS_ENDPOINT_URL_STS and
 * AWS_ENDPOINT_URL_CLOUDFORMATION. Anything else is answered with an error and recorded in `unexpected`, so a
 * new call in a future sst version fails loudly instead of reaching the network.
 */
export const FAKE_ACCOUNT = "123456789012";

export interface FakeAws {
  endpoint: string;
  /** Every action received, in order (e.g. "GetCallerIdentity", "DescribeStacks:CDKToolkit"). */
  calls: string[];
  /** Actions this server does not know. */
  unexpected: string[];
  close(): Promise<void>;
}

interface StackOutputs {
  [key: string]: string;
}

/** The bootstrap stacks as a bootstrapped account has them: CDK bootstrap v21, SST bootstrap 7.4. */
function bootstrapStacks(region: string): Record<string, StackOutputs> {
  return {
    CDKToolkit: { BootstrapVersion: "21", BucketName: `cdk-hnb659fds-assets-${FAKE_ACCOUNT}-${region}` },
    SSTBootstrap: { Version: "7.4", BucketName: `sstbootstrap-${region}-offline` },
  };
}

const escapeXml = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const CFN_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

function callerIdentity(): string {
  return `<GetCallerIdentityResponse xmlns="${STS_NS}">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::${FAKE_ACCOUNT}:user/offline-synth</Arn>
    <UserId>AIDAOFFLINESYNTH</UserId>
    <Account>${FAKE_ACCOUNT}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
}

function describeStack(region: string, name: string, outputs: StackOutputs): string {
  const members = Object.entries(outputs)
    .map(
      ([key, value]) =>
        `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
    )
    .join("");
  return `<DescribeStacksResponse xmlns="${CFN_NS}">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackName>${escapeXml(name)}</StackName>
        <StackId>arn:aws:cloudformation:${region}:${FAKE_ACCOUNT}:stack/${escapeXml(name)}/00000000-0000-0000-0000-000000000000</StackId>
        <CreationTime>2024-01-01T00:00:00.000Z</CreationTime>
        <StackStatus>CREATE_COMPLETE</StackStatus>
        <Outputs>${members}</Outputs>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000002</RequestId></ResponseMetadata>
</DescribeStacksResponse>`;
}

/** The query-protocol error shape; the SDK maps `Code` to the exception name. */
function errorResponse(namespace: string, code: string, message: string): string {
  return `<ErrorResponse xmlns="${namespace}">
  <Error><Type>Sender</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>
  <RequestId>00000000-0000-0000-0000-000000000003</RequestId>
</ErrorResponse>`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeAws(region = "us-east-1"): Promise<FakeAws> {
  const stacks = bootstrapStacks(region);
  const calls: string[] = [];
  const unexpected: string[] = [];

  const server: Server = createServer(async (request, response) => {
    const params = new URLSearchParams(await readBody(request));
    const action = params.get("Action") ?? `${request.method} ${request.url}`;
    const reply = (status: number, xml: string) => {
      response.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": "offline" });
      response.end(xml);
    };

    if (action === "GetCallerIdentity") {
      calls.push(action);
      return reply(200, callerIdentity());
    }
    if (action === "DescribeStacks") {
      const name = params.get("StackName") ?? "";
      calls.push(`${action}:${name}`);
      const outputs = stacks[name];
      if (outputs) return reply(200, describeStack(region, name, outputs));
      return reply(400, errorResponse(CFN_NS, "ValidationError", `Stack with id ${name} does not exist`));
    }
    calls.push(action);
    unexpected.push(action);
    return reply(400, errorResponse(STS_NS, "InvalidAction", `offline fake AWS does not implement ${action}`));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    unexpected,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

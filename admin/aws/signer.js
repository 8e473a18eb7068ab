/**
 * The deployed site's way to the API, bundled by admin/build.mjs into `aws-signer.js` (never loaded on the local
 * runtime). Sign-in: the admin user pool (USER_PASSWORD_AUTH over Cognito's JSON API, no hosted UI, so the site
 * needs no callback URL); credentials: the identity pool, whose authenticated role may invoke only the admin
 * routes (stacks/Admin.ts); each call: SigV4 for `execute-api`.
 */
// The provider `@aws-sdk/credential-providers` re-exports; that package's browser index also pulls Node-only providers.
import { fromCognitoIdentityPool } from "@aws-sdk/credential-provider-cognito-identity";
import { AwsClient } from "aws4fetch";

/** Credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 60_000;

class SessionExpired extends Error {
  name = "SessionExpired";
}

/** One call to the user pool's API (these operations take no AWS signature). */
async function userPool(region, operation, body) {
  const response = await fetch(`https://cognito-idp.${region}.amazonaws.com/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message ?? data.__type ?? `${operation} failed (${response.status})`);
  return data;
}

/**
 * @param {{ region: string, userPoolId: string, userPoolClientId: string, identityPoolId: string, apiUrl: string }} config
 * @param {{ username: string, password: string, newPassword?: string }} input
 */
export async function signIn(config, { username, password, newPassword }) {
  const { region, userPoolClientId: ClientId } = config;
  let answer = await userPool(region, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  // Admins are created by an operator with a temporary password: the first sign-in sets their own.
  if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
    if (!newPassword) return { challenge: "NEW_PASSWORD_REQUIRED" };
    answer = await userPool(region, "RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId,
      Session: answer.Session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
  }
  if (answer.ChallengeName) throw new Error(`this console cannot complete the ${answer.ChallengeName} sign-in step`);
  const idToken = answer.AuthenticationResult?.IdToken;
  if (!idToken) throw new Error("the user pool returned no token");

  const provider = fromCognitoIdentityPool({
    identityPoolId: config.identityPoolId,
    logins: { [`cognito-idp.${region}.amazonaws.com/${config.userPoolId}`]: idToken },
    clientConfig: { region },
  });
  let credentials = await provider();
  const current = async () => {
    const expires = credentials.expiration?.getTime() ?? Infinity;
    if (expires - Date.now() < RENEW_BEFORE_MS) {
      try {
        credentials = await provider();
      } catch (error) {
        // The id token (1 hour) has lapsed too: only a new sign-in gets credentials.
        throw new SessionExpired(error instanceof Error ? error.message : String(error));
      }
    }
    return credentials;
  };
  const apiUrl = config.apiUrl.replace(/\/+$/, "");

  return {
    user: username,
    /**
     * Signs for the API's own host and sends to this site's origin: CloudFront forwards the API paths to API
     * Gateway with the API's host (stacks/Admin.ts), so the signature holds and the API needs no CORS.
     * @param {string} path @param {RequestInit} init
     */
    fetch: async (path, init) => {
      const { accessKeyId, secretAccessKey, sessionToken } = await current();
      const client = new AwsClient({ accessKeyId, secretAccessKey, sessionToken, service: "execute-api", region });
      const signed = await client.sign(`${apiUrl}${path}`, init);
      return fetch(path, { method: signed.method, headers: signed.headers, body: init.body });
    },
  };
}

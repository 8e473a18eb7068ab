import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { document } from "../functions/openapi-document.js";
import { routes } from "../functions/routes.js";

describe("OpenAPI document", () => {
  const generated = document();

  it("is valid OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(generated) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("covers every route with its auth (IAM, or a signature for supplier webhooks), its caller and a problem+json error", () => {
    for (const route of routes) {
      const operation = (generated.paths?.[route.path] as Record<string, any> | undefined)?.[
        route.method.toLowerCase()
      ];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      // Supplier webhooks carry a Standard Webhooks signature instead of IAM.
      expect(operation.security, `${route.method} ${route.path} auth`).toEqual(
        route.auth === "signature" ? [{ standardWebhooks: [] }] : [{ awsIam: [] }],
      );
      expect(operation["x-caller"]).toBe({ public: "bff", iam: "service", signature: "supplier" }[route.auth]);
      expect(operation.responses["400"].content["application/problem+json"]).toBeDefined();
    }
  });

  it("is current: openapi.json in the repository equals the generated document (run `npm run openapi`)", () => {
    const committed = JSON.parse(readFileSync("openapi.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(generated)));
  });
});

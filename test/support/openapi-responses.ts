import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { matchRoute } from "../../functions/routes.js";

/**
 * Checks an answer of the local runtime against openapi.json (the committed document, which test/openapi.test.ts
 * keeps equal to the generated one): the status must be documented for the route, the content type must be one the
 * document gives for that status, and the body must match its schema (JSON Schema 2020-12, validated by ajv).
 * Requests outside the route table (/health, /_local/*, unknown paths answered by the catch-all) are not in the
 * document and are not checked.
 */
const DOCUMENT_ID = "https://orderline.local/openapi.json";

interface MediaType {
  schema?: unknown;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
type Operation = { responses: Record<string, ResponseObject> };

let loaded: { ajv: Ajv2020; paths: Record<string, Record<string, Operation>> } | undefined;

function load() {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8")) as {
    paths: Record<string, Record<string, Operation>>;
  };
  // Not strict: the document holds OpenAPI keywords (paths, responses, example, ...) around its schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  loaded = { ajv, paths: document.paths };
  return loaded;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const validators = new Map<string, ValidateFunction>();

function validatorAt(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = load().ajv.compile({ $ref: `${DOCUMENT_ID}#/${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

/** What is wrong with this answer according to the document; empty when it conforms or is not documented there. */
export function responseViolations(
  method: string,
  url: string,
  status: number,
  contentType: string | null,
  body: unknown,
): string[] {
  const path = new URL(url, "http://x").pathname;
  const matched = matchRoute(method.toUpperCase(), path);
  if (!matched) return [];
  const template = matched.route.path;
  const operation = load().paths[template]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${template} is in the route table but not in openapi.json`];
  const response = operation.responses[String(status)];
  const where = `${method} ${template} -> ${status}`;
  if (!response)
    return [
      `${where}: status ${status} is not documented (documented: ${Object.keys(operation.responses).join(", ")})`,
    ];
  if (!response.content) return body === undefined ? [] : [`${where}: the document gives no body, the answer has one`];
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (!response.content[mediaType])
    return [
      `${where}: content type "${mediaType}" is not documented (documented: ${Object.keys(response.content).join(", ")})`,
    ];
  if (!response.content[mediaType].schema) return [];
  const validate = validatorAt(
    pointer("paths", template, method.toLowerCase(), "responses", String(status), "content", mediaType, "schema"),
  );
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) => `${where}: body${e.instancePath || ""} ${e.message ?? "is invalid"} (${e.schemaPath})`,
  );
}

/** Throws, naming every violation and the body, when the answer does not conform to the document. */
export function assertResponseConforms(
  method: string,
  url: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const violations = responseViolations(method, url, status, contentType, body);
  if (violations.length > 0)
    throw new Error(
      `the answer does not conform to openapi.json:\n  ${violations.join("\n  ")}\nbody: ${JSON.stringify(body)?.slice(0, 2000)}`,
    );
}

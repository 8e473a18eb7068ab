import { writeFileSync } from "node:fs";
import { document } from "../functions/openapi-document.js";

/** `npm run openapi`: writes openapi.json from the zod schemas (CI checks it is current). */
writeFileSync("openapi.json", `${JSON.stringify(document(), null, 2)}\n`);
console.log("wrote openapi.json");

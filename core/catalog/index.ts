export * as Catalog from "./catalog.js";

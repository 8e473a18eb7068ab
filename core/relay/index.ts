export * as Relay from "./relay.js";

export { CartInput as Input, getCart as get, putCart as put } from "./snapshot.js";

export * from "./models.js";
export * from "./errors.js";
export * from "./storage.js";
export * from "./rest.js";
export * from "./realtime.js";

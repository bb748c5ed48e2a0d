// `sg-analytics`: the module (www/module.js), the WebAssembly bindings with coded errors for each
// misuse (`not_ready`, `freed`, `invalid_argument`: see `ErrorCode`). The declarations are the
// bindings' own.
export * from "../pkg/sg_analytics.js";
export { default, initSync } from "../pkg/sg_analytics.js";

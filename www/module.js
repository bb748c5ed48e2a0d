// The module (`sg-analytics`): pkg/sg_analytics.js, the bindings wasm-bindgen generates, with a
// coded, plain-language Error for each misuse those bindings leave to the JavaScript engine or to
// Rust's words: a call before `init()` finished (`not_ready`), a Report, ReportBuilder or Registry
// used after its `free()` (`freed`), an argument of the wrong class or type (`invalid_argument`).
// Everything else is the bindings' own: the same classes (patched in place, so `instanceof` and
// the objects fetchReport returns are guarded alike), functions and declarations.

import initModule, { initSync as initModuleSync, fetchCredits as fetchCreditsModule, fetchRegistry as fetchRegistryModule, fetchReport as fetchReportModule, planFetch as planFetchModule, warmUp as warmUpModule, Registry, Report, ReportBuilder as ReportBuilderModule } from "../pkg/sg_analytics.js";

export * from "../pkg/sg_analytics.js";
export { Registry, Report };

let ready = false;

function coded(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** What a wrong argument is, in a few words. */
function kind(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name && value.constructor !== Object ? `a ${value.constructor.name}` : "a plain object";
  return typeof value === "string" ? "a string" : typeof value === "undefined" ? "nothing" : `a ${typeof value}`;
}

const notReady = (what) => coded("not_ready", `${what} was called before the module was ready: await init() first (the default export of sg-analytics).`);

/** Runs `call`; a TypeError of the bindings before init is told as `not_ready`. */
function guarded(what, call) {
  try {
    const result = call();
    ready = true;
    return result;
  } catch (error) {
    if (!ready && error instanceof TypeError) throw notReady(what);
    throw error;
  }
}

/** The same, for the functions that answer with a promise: a misuse rejects, as their errors do. */
function guardedAsync(what, call) {
  try {
    return guarded(what, call);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Loads the WebAssembly module (see the bindings' init: `module_or_path` says where it is). */
export default async function init(options) {
  const exports = await initModule(options);
  ready = true;
  return exports;
}

/** Compiles the WebAssembly module from its bytes, synchronously. */
export function initSync(options) {
  const exports = initModuleSync(options);
  ready = true;
  return exports;
}

export const fetchReport = (options) => guardedAsync("fetchReport", () => fetchReportModule(options));
export const fetchRegistry = (options) => guardedAsync("fetchRegistry", () => fetchRegistryModule(options));
export const fetchCredits = (options) => guardedAsync("fetchCredits", () => fetchCreditsModule(options));
export const planFetch = (options) => guarded("planFetch", () => planFetchModule(options));
export const warmUp = () => guarded("warmUp", () => warmUpModule());

/** Argument checks the bindings do not make (they would copy garbage, or say "expected instance"). */
const CHECKS = {
  Report: {
    joinRegistry(registry) {
      if (!(registry instanceof Registry)) throw coded("invalid_argument", `joinRegistry takes a Registry (from fetchRegistry or Registry.fromCsv), not ${kind(registry)}.`);
      if (registry.__wbg_ptr === 0) throw coded("freed", "joinRegistry was given a Registry that was freed (its free() was called).");
    },
  },
  ReportBuilder: {
    push(chunk) {
      if (!(chunk instanceof Uint8Array)) throw coded("invalid_argument", `push takes a Uint8Array (the next bytes of the export), not ${kind(chunk)}${typeof chunk === "string" ? ": encode text with new TextEncoder().encode(text), or read it whole with Report.fromCsv(text)" : ""}.`);
    },
  },
};

/** Guards the methods and getters of one of the bindings' classes, in place. */
function guardClass(cls, name) {
  const proto = cls.prototype;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === "constructor" || key.startsWith("__")) continue;
    const desc = Object.getOwnPropertyDescriptor(proto, key);
    if (key === "free" && typeof desc.value === "function") {
      const free = desc.value;
      // A second free() is nothing to do, not a crash.
      proto.free = function () {
        if (this.__wbg_ptr !== 0) free.call(this);
      };
      continue;
    }
    const check = CHECKS[name]?.[key];
    const usable = (self, what) => {
      if (self.__wbg_ptr === 0) throw coded("freed", `This ${name} was freed (its free() was called): ${what} cannot use it. Keep it until you are done with it.`);
    };
    if (typeof desc.value === "function") {
      const method = desc.value;
      Object.defineProperty(proto, key, {
        ...desc,
        value: function (...args) {
          usable(this, `${key}()`);
          check?.(...args);
          return method.apply(this, args);
        },
      });
    } else if (desc.get) {
      const get = desc.get;
      Object.defineProperty(proto, key, {
        ...desc,
        get() {
          usable(this, key);
          return get.call(this);
        },
      });
    }
  }
  for (const key of Object.getOwnPropertyNames(cls)) {
    const desc = Object.getOwnPropertyDescriptor(cls, key);
    if (key.startsWith("__") || typeof desc.value !== "function" || !desc.writable) continue;
    const method = desc.value;
    Object.defineProperty(cls, key, { ...desc, value: (...args) => guarded(`${name}.${key}`, () => method.apply(cls, args)) });
  }
}

guardClass(Report, "Report");
guardClass(Registry, "Registry");
guardClass(ReportBuilderModule, "ReportBuilder");

/** `new ReportBuilder()`: the bindings' class, its construction guarded too. */
export const ReportBuilder = new Proxy(ReportBuilderModule, {
  construct(target, args, newTarget) {
    return guarded("new ReportBuilder()", () => Reflect.construct(target, args, newTarget === ReportBuilder ? target : newTarget));
  },
});

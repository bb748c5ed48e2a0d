//! The npm package `cargo xtask dist` also makes: the module (`pkg/`, entered through
//! `www/module.js`, which codes the misuses the bindings leave to the engine), the dashboard's scripts
//! (`www/`, with the vendored Chart.js) in the same layout as the page, so that the element finds
//! `../pkg/` and `vendor/` beside itself, and `package.json` with the crate's name and version.

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::setup::{cargo, copy_tree, output, Result};

/// The files every package must hold (a test checks the tarball for them).
pub const ENTRY_POINTS: [(&str, &str, Option<&str>); 3] = [
    (".", "./www/module.js", Some("./types/module.d.ts")),
    ("./worker", "./www/client.js", Some("./types/client.d.ts")),
    (
        "./element",
        "./www/element.js",
        Some("./types/element.d.ts"),
    ),
];

/// The crate's name, version, description and license, from `cargo metadata`.
fn crate_info(root: &Path) -> Result<serde_json::Value> {
    let meta =
        output(
            cargo()
                .current_dir(root)
                .args(["metadata", "--format-version", "1", "--no-deps"]),
        )
        .ok_or("`cargo metadata` failed")?;
    let v: serde_json::Value = serde_json::from_str(&meta)?;
    v["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "sg-analytics"))
        .cloned()
        .ok_or_else(|| "`cargo metadata` does not list sg-analytics".into())
}

/// `package.json` for a crate of this `version`, `description` and `license`.
pub fn package_json(version: &str, description: &str, license: &str) -> serde_json::Value {
    let mut exports = serde_json::Map::new();
    for (name, module, types) in ENTRY_POINTS {
        let mut entry = serde_json::Map::new();
        if let Some(types) = types {
            entry.insert("types".into(), types.into());
        }
        entry.insert("default".into(), module.into());
        exports.insert(name.into(), entry.into());
    }
    exports.insert(
        "./sg_analytics_bg.wasm".into(),
        "./pkg/sg_analytics_bg.wasm".into(),
    );
    exports.insert("./styles.css".into(), "./www/styles.css".into());
    exports.insert("./package.json".into(), "./package.json".into());
    json!({
        "name": "sg-analytics",
        "version": version,
        "description": description,
        "license": license,
        "type": "module",
        "main": "./www/module.js",
        "types": "./types/module.d.ts",
        "exports": exports,
        "files": ["pkg/", "www/", "types/", "README.md"],
        "sideEffects": ["./www/element.js"],
        "keywords": ["sourcegraph", "analytics", "csv", "webassembly", "dashboard"],
    })
}

/// Replaces `out` with the npm package of a built tree; returns the number of files.
pub fn make_package(root: &Path, out: &Path) -> Result<usize> {
    let info = crate_info(root)?;
    let text = |key: &str| info[key].as_str().unwrap_or_default().to_string();
    if out.exists() {
        fs::remove_dir_all(out)?;
    }
    fs::create_dir_all(out)?;
    let mut files = copy_tree(&root.join("pkg"), &out.join("pkg"))?;
    files += copy_tree(&root.join("www"), &out.join("www"))?;
    files += copy_tree(&root.join("npm/types"), &out.join("types"))?;
    fs::copy(root.join("npm/README.md"), out.join("README.md"))
        .map_err(|e| format!("cannot copy npm/README.md: {e}"))?;
    let package = package_json(&text("version"), &text("description"), &text("license"));
    fs::write(
        out.join("package.json"),
        serde_json::to_string_pretty(&package)? + "\n",
    )?;
    for (_, module, types) in ENTRY_POINTS {
        for file in std::iter::once(module).chain(types) {
            if !out.join(file).is_file() {
                return Err(format!("the npm package lacks {file}: build first").into());
            }
        }
    }
    Ok(files + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_exports_the_module_the_worker_helper_and_the_element() {
        let p = package_json("1.2.3", "d", "MIT");
        assert_eq!(p["version"], "1.2.3");
        assert_eq!(p["type"], "module");
        assert_eq!(p["exports"]["."]["default"], "./www/module.js");
        assert_eq!(p["exports"]["./worker"]["default"], "./www/client.js");
        assert_eq!(p["exports"]["./element"]["default"], "./www/element.js");
        assert_eq!(p["types"], "./types/module.d.ts");
        // Conditions match in order: `types` must come before `default` to be seen at all.
        let conditions: Vec<&String> = p["exports"]["."].as_object().unwrap().keys().collect();
        assert_eq!(conditions, ["types", "default"]);
        // Every file an export names is in `files`.
        let files: Vec<&str> = p["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for (_, module, types) in ENTRY_POINTS {
            for f in std::iter::once(module).chain(types) {
                assert!(files.iter().any(|d| f[2..].starts_with(d)), "{f}");
            }
        }
    }
}

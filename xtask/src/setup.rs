//! Installs what a fresh machine lacks, and nothing twice: the wasm32 target, wasm-bindgen-cli
//! at exactly Cargo.lock's wasm-bindgen version, the npm dev dependencies (wasm-opt from
//! `binaryen`, Chart.js, Playwright) and, for the browser tests, Debian's Chromium and
//! chromedriver; and the helpers every task uses (the repository root, running a command, copying
//! a tree).

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Errors of the tasks: a message for the user.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Where Debian's chromium package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's chromium-driver package puts the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The repository root (the workspace holding `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository root")
        .to_path_buf()
}

/// The `cargo` that runs us (so nested builds use the same toolchain).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, echoing it first; an error if it cannot start or exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)).into())
    }
}

/// Runs `cmd` quietly and returns its stdout, or `None` if it cannot start or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Copies a directory recursively, leaving out dot files (stamps, `.gitignore`); returns the
/// number of files copied.
pub fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
    fs::create_dir_all(to)?;
    let mut n = 0;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            n += copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst)?;
            n += 1;
        }
    }
    Ok(n)
}

fn describe(cmd: &Command) -> String {
    // `cargo`, not /root/.rustup/toolchains/.../bin/cargo.
    let program = Path::new(cmd.get_program());
    let mut s = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// What [`ensure`] sets up.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// Chromium and chromedriver (only the tests need them).
    pub browser: bool,
    /// The 32-bit Linux target and its linker support, to run the engine's tests with a 32-bit
    /// `usize` as wasm32 has (only the tests need them).
    pub target32: bool,
}

/// The 32-bit target the engine's tests also run on: its `usize` is wasm32's.
pub const TARGET32: &str = "i686-unknown-linux-gnu";

/// Installs whatever is missing; fast when nothing is.
pub fn ensure(root: &Path, needs: Needs) -> Result<()> {
    let t = Instant::now();
    // apt-get mostly waits on the network and disk, cargo install on the CPU: on a fresh
    // machine, install the browser while wasm-bindgen-cli compiles.
    let browser = std::thread::scope(|scope| -> Result<std::result::Result<(), String>> {
        let browser = needs
            .browser
            .then(|| scope.spawn(|| ensure_browser().map_err(|e| e.to_string())));
        ensure_wasm_target()?;
        ensure_wasm_bindgen(&wasm_bindgen_version(root)?)?;
        ensure_npm(root)?;
        Ok(match browser {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("browser setup panicked".into())),
            None => Ok(()),
        })
    })?;
    browser?;
    // After the browser: both may use apt-get, which takes one lock.
    if needs.target32 {
        ensure_target32()?;
    }
    eprintln!("setup: ready in {:.1}s", t.elapsed().as_secs_f64());
    Ok(())
}

/// `rustup target add wasm32-unknown-unknown`, only when the sysroot lacks it.
pub fn ensure_wasm_target() -> Result<()> {
    ensure_rust_target("wasm32-unknown-unknown")
}

/// `rustup target add TARGET`, only when the sysroot lacks it.
fn ensure_rust_target(target: &str) -> Result<()> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))
        .ok_or("cannot run `rustc --print sysroot`")?;
    let lib = Path::new(sysroot.trim()).join("lib/rustlib").join(target);
    if lib.is_dir() {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target]))
}

/// The i686 target, and Debian's `gcc-multilib` when `cc -m32` cannot link a program yet.
pub fn ensure_target32() -> Result<()> {
    ensure_rust_target(TARGET32)?;
    if links_32bit() {
        return Ok(());
    }
    eprintln!("setup: installing gcc-multilib from Debian, to link 32-bit test binaries (once)");
    apt_install(&["gcc-multilib"])?;
    if !links_32bit() {
        return Err("`cc -m32` still cannot link after installing gcc-multilib".into());
    }
    Ok(())
}

/// Whether `cc -m32` links a C program (what rustc's i686 target asks of the linker).
fn links_32bit() -> bool {
    use std::io::Write;
    let out = std::env::temp_dir().join(format!("xtask-m32-{}", std::process::id()));
    let child = Command::new("cc")
        .args(["-m32", "-x", "c", "-", "-o"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"int main(void) { return 0; }\n");
    }
    let linked = child.wait().is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(&out);
    linked
}

/// The wasm-bindgen version Cargo.lock pins.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        if let Some(v) = locked_version(&lock, "wasm-bindgen") {
            return Ok(v);
        }
    }
    // No lock file yet: let cargo resolve (and write) it.
    let id = output(
        cargo()
            .current_dir(root)
            .args(["pkgid", "--quiet", "-p", "wasm-bindgen"]),
    )
    .ok_or("cannot find wasm-bindgen in the dependency graph (`cargo pkgid -p wasm-bindgen`)")?;
    pkgid_version(&id).ok_or_else(|| format!("cannot read a version in `{}`", id.trim()).into())
}

/// The version of package `name` in a Cargo.lock (the first one if several).
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let want = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == want {
            let v = lines.next()?.trim();
            return v
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(String::from);
        }
    }
    None
}

/// The version in a package ID such as
/// `registry+https://github.com/rust-lang/crates.io-index#wasm-bindgen@0.2.100`.
pub fn pkgid_version(id: &str) -> Option<String> {
    let frag = id.trim().rsplit('#').next()?;
    let v = frag.rsplit(['@', ':']).next()?;
    v.chars()
        .next()
        .filter(char::is_ascii_digit)
        .map(|_| v.to_string())
}

/// `wasm-bindgen` and `wasm-bindgen-test-runner` at exactly `version` (else "schema version"
/// errors at build time).
pub fn ensure_wasm_bindgen(version: &str) -> Result<()> {
    let have = |bin: &str| {
        output(Command::new(bin).arg("--version"))
            .map(|s| s.split_whitespace().nth(1) == Some(version))
            .unwrap_or(false)
    };
    if have("wasm-bindgen") && have("wasm-bindgen-test-runner") {
        return Ok(());
    }
    eprintln!("setup: installing wasm-bindgen-cli {version} (a few minutes, once)");
    // Not `--locked`: the CLI's own lock file does not build with current toolchains.
    run(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={version}"),
    ]))?;
    if !have("wasm-bindgen") {
        return Err(format!(
            "wasm-bindgen {version} was installed but is not first on PATH (is ~/.cargo/bin on PATH?)"
        )
        .into());
    }
    Ok(())
}

/// 64-bit FNV-1a, for a stamp that changes when a file does.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `npm ci` unless `node_modules` was installed from this very package-lock.json.
pub fn ensure_npm(root: &Path) -> Result<()> {
    let lock = std::fs::read(root.join("package-lock.json"))
        .map_err(|e| format!("cannot read package-lock.json: {e}"))?;
    let stamp_path = root.join("node_modules/.xtask-npm-stamp");
    let stamp = format!("{:016x}\n", fnv1a(&lock));
    let installed = std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp)
        && wasm_opt(root).is_file()
        && chart_js(root).is_file();
    if installed {
        return Ok(());
    }
    // Playwright drives Debian's Chromium; it must never try to download browsers.
    run(Command::new("npm")
        .current_dir(root)
        .args(["ci", "--no-audit", "--no-fund"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    std::fs::write(&stamp_path, stamp)?;
    Ok(())
}

/// wasm-opt from the npm `binaryen` package (Debian's binaryen produces broken modules).
pub fn wasm_opt(root: &Path) -> PathBuf {
    root.join("node_modules/.bin/wasm-opt")
}

/// The UMD build of Chart.js, vendored into `www/vendor/`.
pub fn chart_js(root: &Path) -> PathBuf {
    root.join("node_modules/chart.js/dist/chart.umd.js")
}

/// The engines the metrics' SQL is tested on (`tests/sql/requirements.txt`: DuckDB and pyspark),
/// in a Python virtual environment at `venv`, and the Java that Spark runs on; returns the
/// environment's `python`. Installs only what is missing: a second run with the same
/// requirements finds its stamp and skips pip.
pub fn ensure_sql_engines(root: &Path, venv: &Path) -> Result<PathBuf> {
    if output(Command::new("java").arg("-version")).is_none() {
        eprintln!("setup: installing Java 17 from Debian, for Spark (once)");
        apt_install(&["openjdk-17-jre-headless"])?;
    }
    let requirements = root.join("tests/sql/requirements.txt");
    let wanted = std::fs::read(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let python = venv.join("bin/python");
    let stamp_path = venv.join(".xtask-sql-stamp");
    let stamp = format!("{:016x}\n", fnv1a(&wanted));
    if python.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(python);
    }
    eprintln!(
        "setup: installing DuckDB and pyspark from PyPI into {} (once)",
        venv.display()
    );
    if !python.is_file() {
        let make_venv = || run(Command::new("python3").arg("-m").arg("venv").arg(venv));
        if make_venv().is_err() {
            // Debian's python3 keeps venv (and its pip) in a package of its own.
            apt_install(&["python3", "python3-venv"])?;
            make_venv()?;
        }
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "--requirement",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp_path, stamp)?;
    Ok(python)
}

/// `apt-get update`, then `apt-get install -y PACKAGES` (needs root).
fn apt_install(packages: &[&str]) -> Result<()> {
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update"])?;
    apt(&[&["install", "-y"][..], packages].concat())
}

/// Debian's `chromium` and `chromium-driver`, when either is missing.
pub fn ensure_browser() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    eprintln!("setup: installing Chromium and chromedriver from Debian (once)");
    apt_install(&["chromium", "chromium-driver"])?;
    if !Path::new(CHROMEDRIVER).exists() {
        return Err(format!("{CHROMEDRIVER} is still missing after apt-get install").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_copies_files_and_skips_dot_files() {
        let base = std::env::temp_dir().join(format!("xtask-copy-{}", std::process::id()));
        let (src, dst) = (base.join("src"), base.join("dst"));
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a.js"), "a").unwrap();
        fs::write(src.join("sub/b.wasm"), "b").unwrap();
        fs::write(src.join(".xtask-stamp"), "s").unwrap();
        assert_eq!(copy_tree(&src, &dst).unwrap(), 2);
        assert_eq!(fs::read_to_string(dst.join("sub/b.wasm")).unwrap(), "b");
        assert!(!dst.join(".xtask-stamp").exists());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn reads_the_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-backend\"\nversion = \"0.2.99\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\nsource = \"x\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.100")
        );
        assert_eq!(locked_version(lock, "serde"), None);
    }

    #[test]
    fn reads_the_version_of_a_package_id() {
        for (id, v) in [
            (
                "registry+https://github.com/rust-lang/crates.io-index#wasm-bindgen@0.2.100\n",
                Some("0.2.100"),
            ),
            (
                "https://github.com/rust-lang/crates.io-index#wasm-bindgen:0.2.87",
                Some("0.2.87"),
            ),
            (
                "https://github.com/rust-lang/crates.io-index#0.2.87",
                Some("0.2.87"),
            ),
            ("path+file:///x#wasm-bindgen", None),
        ] {
            assert_eq!(pkgid_version(id).as_deref(), v, "{id}");
        }
    }

    #[test]
    fn fnv_stamp_changes_with_content() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(b"lock v1"), fnv1a(b"lock v2"));
    }
}

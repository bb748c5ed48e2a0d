//! `sg-analytics fetch` and `--instance`: the fetch options as given on the command line, and the
//! token, which comes from `SG_ANALYTICS_TOKEN` or `--token-file`, never from an argument (every
//! process on the machine can read another's arguments).

use std::path::{Path, PathBuf};

use sg_analytics::FetchOptions;

/// The environment variable that holds the token.
pub const TOKEN_VARIABLE: &str = "SG_ANALYTICS_TOKEN";

/// The largest token file read: a token is under a hundred bytes.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The options of a fetch, as given on the command line.
#[derive(Default)]
pub struct FetchArgs {
    pub instance: Option<String>,
    pub granularity: Option<String>,
    pub base_url: Option<String>,
    pub month_windows: bool,
    pub max_retries: Option<String>,
    pub idle_timeout: Option<String>,
    pub token_file: Option<PathBuf>,
}

impl FetchArgs {
    /// Whether any fetch option was given (then the input is the API, not a file).
    pub fn given(&self) -> bool {
        self.instance.is_some()
    }

    /// Checks the options (dates from the filter's `--from`/`--to`) and reads the token; nothing
    /// is sent yet.
    pub fn check(&self, from: Option<&str>, to: Option<&str>) -> Result<FetchOptions, String> {
        let instance = self
            .instance
            .clone()
            .ok_or("--instance is required: your Sourcegraph instance's address")?;
        let number = |flag: &str, v: &Option<String>| -> Result<Option<f64>, String> {
            v.as_deref()
                .map(|n| {
                    n.parse()
                        .map_err(|_| format!("{flag}: {n:?} is not a number"))
                })
                .transpose()
        };
        let mut options = FetchOptions {
            instance_url: instance,
            granularity: self.granularity.clone(),
            start_date: from.map(str::to_string),
            end_date: to.map(str::to_string),
            base_url: self.base_url.clone(),
            month_windows: self.month_windows,
            max_retries: number("--max-retries", &self.max_retries)?,
            idle_timeout_secs: number("--idle-timeout", &self.idle_timeout)?,
            ..FetchOptions::default()
        };
        sg_analytics::FetchPlan::new(&options).map_err(|e| match e.field {
            Some("monthWindows") => format!("--month-windows: {e}"),
            _ => e.message,
        })?;
        options.token = read_token(self.token_file.as_deref())?;
        Ok(options)
    }
}

/// The token from `--token-file` (`-`: stdin) or else `SG_ANALYTICS_TOKEN`; errors never show it.
fn read_token(file: Option<&Path>) -> Result<String, String> {
    match file {
        // Read with a size limit (a token is tens of bytes): never the whole of a wrong file.
        Some(path) => {
            let bytes = crate::limited::read(path, MAX_TOKEN_FILE, "the token file")?;
            String::from_utf8(bytes)
                .map_err(|_| format!("the token file {} is not text (UTF-8)", path.display()))
        }
        None => std::env::var(TOKEN_VARIABLE).map_err(|_| {
            format!(
                "no token: set {TOKEN_VARIABLE} or pass --token-file FILE (the token is never \
                 taken as an argument, which every process on the machine can see)"
            )
        }),
    }
}

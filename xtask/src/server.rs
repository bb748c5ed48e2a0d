//! The local server: the page and the module as static files, plus the mock Analytics API
//! (default) or a proxy to the real one (`--proxy`).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};

use crate::data::Dataset;
use crate::mock::{self, Counters, MockState};

/// The page's Content-Security-Policy, sent with every response. `index.html` carries the same
/// policy in a meta tag for static hosts that cannot set headers.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self' https: http://localhost:* http://127.0.0.1:*; worker-src 'self' blob:; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The real Analytics API, the `--proxy` default upstream.
pub const UPSTREAM: &str = "https://analytics.sourcegraph.com";

/// What the server does with `/api/*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Api {
    /// Answer from the deterministic mock.
    Mock,
    /// Forward to this origin (e.g. [`UPSTREAM`]).
    Proxy(String),
}

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory holding `index.html`, `www/` and `pkg/` (the repo root, or `dist/`).
    pub root: PathBuf,
    /// Mock or proxy.
    pub api: Api,
    /// Dataset of the mock when the path does not say otherwise.
    pub dataset: Dataset,
    /// Log one line per request on stderr.
    pub log: bool,
}

impl Config {
    /// Mock API, demo dataset, serving files from `root`, no request log.
    pub fn mock(root: impl Into<PathBuf>) -> Config {
        Config {
            root: root.into(),
            api: Api::Mock,
            dataset: Dataset::default(),
            log: false,
        }
    }
}

/// Where the page asks whether it is served by this server (the element's `local-demo`): a
/// static host answers 404, this one what stands behind its `/api/`. The page offers the demo, and
/// its own origin as the API base URL, only on an answer.
pub const LOCAL_PATH: &str = "/.well-known/sg-analytics-local";
const LOCAL_MOCK: &str = "{\"api\":\"mock\"}\n";
const LOCAL_PROXY: &str = "{\"api\":\"proxy\"}\n";

/// The proxy's upstream: its origin and the client that reaches it.
type Upstream = (String, reqwest::Client);

/// Builds the application.
pub fn router(config: &Config) -> io::Result<Router> {
    let upstream = match &config.api {
        Api::Mock => None,
        Api::Proxy(origin) => Some((origin.clone(), crate::proxy::client(origin)?)),
    };
    let proxying = upstream.is_some();
    let root = &config.root;
    let local = if proxying { LOCAL_PROXY } else { LOCAL_MOCK };
    let mut app = Router::new()
        .route(
            LOCAL_PATH,
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], local) }),
        )
        .route_service("/", ServeFile::new(root.join("index.html")))
        .route_service("/index.html", ServeFile::new(root.join("index.html")))
        .nest_service("/www", ServeDir::new(root.join("www")))
        .nest_service("/pkg", ServeDir::new(root.join("pkg")));
    if let Some(upstream) = upstream {
        app = app.route(
            "/api/{*rest}",
            get(proxy_handler).with_state(Arc::new(upstream)),
        );
    } else {
        let mut mocked = Router::new();
        for prefix in ["", "/_mock/{opts}"] {
            mocked = mocked
                .route(
                    &format!("{prefix}/api/reports/by-user-client-date"),
                    get(mock::report),
                )
                .route(
                    &format!("{prefix}/api/reports/user-registry"),
                    get(mock::registry),
                )
                .route(&format!("{prefix}/api/credits"), get(mock::credits))
                .route(&format!("{prefix}/demo/people.csv"), get(mock::people));
        }
        mocked = mocked.route("/_mock/{opts}/_hits", get(mock::hits));
        app = app.merge(mocked.with_state(Arc::new(MockState {
            dataset: config.dataset.clone(),
            counters: Counters::default(),
        })));
    }
    let app = app
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(middleware::from_fn(common_headers));
    Ok(if config.log {
        app.layer(middleware::from_fn(log_request))
    } else {
        app
    })
}

async fn proxy_handler(State(upstream): State<Arc<Upstream>>, req: Request) -> Response {
    let (origin, client) = &*upstream;
    crate::proxy::forward(client, origin, req).await
}

/// CORS for every answer (the wasm tests and embedding pages run on other origins), the CSP,
/// and no caching: this is a development server.
async fn common_headers(req: Request, next: Next) -> Response {
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    add_cors(h);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn add_cors(h: &mut HeaderMap) {
    let pairs: [(HeaderName, &'static str); 5] = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS"),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "Retry-After, Content-Length",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "600"),
    ];
    for (name, value) in pairs {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// One line per request: method, path, the query's parameter names (not values), status and
/// time to the response head. Never a header.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let target = loggable_target(req.uri());
    let resp = next.run(req).await;
    eprintln!(
        "{method} {target} {} {:.1}ms",
        resp.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    resp
}

/// `path?name&name` without the values.
pub fn loggable_target(uri: &axum::http::Uri) -> String {
    let mut s = uri.path().to_string();
    if let Some(q) = uri.query() {
        let names: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or(""))
            .collect();
        s.push('?');
        s.push_str(&names.join("&"));
    }
    s
}

/// A server running on its own thread and runtime; stopped when dropped.
pub struct Background {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Background {
    /// Binds `addr` (port 0 for a free one) and serves `config` in the background.
    pub fn start(addr: SocketAddr, config: &Config) -> io::Result<Background> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xtask-server")
            .enable_all()
            .build()?;
        let app = {
            let _guard = runtime.enter();
            router(config)?
        };
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("xtask-server".into())
            .spawn(move || {
                let result = runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener)?;
                    tokio::select! {
                        r = axum::serve(listener, app) => r,
                        _ = stopped => Ok(()),
                    }
                });
                // Dropping the runtime cancels the connections still open (slow streams too).
                runtime.shutdown_timeout(Duration::from_secs(1));
                result
            })?;
        Ok(Background {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Blocks until the server fails (it does not stop by itself otherwise).
    pub fn wait(mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("server thread panicked"))),
            None => Ok(()),
        }
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_log_keeps_parameter_names_but_no_values() {
        let uri: axum::http::Uri =
            "/_mock/users=5/api/credits?instanceURL=secret.example.com&startDate=2025-01-01&flag"
                .parse()
                .unwrap();
        assert_eq!(
            loggable_target(&uri),
            "/_mock/users=5/api/credits?instanceURL&startDate&flag"
        );
        let uri: axum::http::Uri = "/www/app.js".parse().unwrap();
        assert_eq!(loggable_target(&uri), "/www/app.js");
    }

    #[tokio::test]
    async fn the_local_path_says_whether_the_mock_or_the_proxy_answers_api() {
        let root = std::env::temp_dir();
        let proxy = Config {
            api: Api::Proxy("http://127.0.0.1:9".into()),
            ..Config::mock(&root)
        };
        for (config, api) in [(Config::mock(&root), "mock"), (proxy, "proxy")] {
            let server = Background::start(([127, 0, 0, 1], 0).into(), &config).unwrap();
            let answer = reqwest::get(format!("{}{LOCAL_PATH}", server.url()))
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            assert_eq!(answer.headers()["content-type"], "application/json");
            let body: serde_json::Value =
                serde_json::from_str(&answer.text().await.unwrap()).unwrap();
            assert_eq!(body["api"], api);
            server.stop();
        }
    }

    #[test]
    fn csp_is_the_pages_policy() {
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self' https: http://localhost:* http://127.0.0.1:*",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(CSP.split("; ").any(|d| d == directive), "{directive}");
        }
    }
}

//! `--proxy`: forwards `/api/*` to the real Analytics API, so the page works from a browser
//! even where the API refuses cross-origin requests.
//!
//! Only `Authorization` and `Accept` go upstream; only the headers the client needs come back.
//! Bodies stream both ways. Nothing here logs a header value.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};

/// Request headers passed upstream.
const FORWARDED_REQUEST_HEADERS: [HeaderName; 2] = [header::AUTHORIZATION, header::ACCEPT];

/// Response headers passed back.
const FORWARDED_RESPONSE_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_DISPOSITION,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
];

/// Whether `origin` is on this machine: its host, parsed (never a prefix test, which
/// `http://127.evil.example` passes), is `localhost` or a loopback address.
pub fn is_loopback(origin: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(origin) else {
        return false;
    };
    let host = url.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks `--proxy ORIGIN`: `https://` anywhere, plain `http://` only on this machine (the
/// token would otherwise travel unencrypted). Returns the origin without a trailing slash.
pub fn check_upstream(origin: &str) -> Result<String, String> {
    let url =
        reqwest::Url::parse(origin).map_err(|e| format!("--proxy {origin:?} is not a URL: {e}"))?;
    let fine = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(origin),
        _ => false,
    };
    if !fine || !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "--proxy ORIGIN must be https:// (or http:// on this machine: 127.x.x.x, localhost), \
             found {origin:?}"
        ));
    }
    Ok(origin.trim_end_matches('/').to_string())
}

/// The upstream client for `origin`: no redirects followed (the browser client refuses them
/// too), no cookies, rustls. The environment's HTTP(S)_PROXY applies, except to a loopback
/// origin.
pub fn client(origin: &str) -> io::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(origin) {
        builder = builder.no_proxy();
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(30))
        .user_agent(concat!(
            "sg-analytics-xtask-proxy/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(io::Error::other)
}

/// The request sent upstream for a `GET` of `path_and_query` (which starts with `/api/`).
pub fn upstream_request(
    client: &reqwest::Client,
    origin: &str,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Result<reqwest::Request, String> {
    if !path_and_query.starts_with("/api/") {
        return Err("only /api/ is proxied".into());
    }
    let url = format!("{}{}", origin.trim_end_matches('/'), path_and_query);
    // Checked again as the upstream will read it, dot segments resolved (`/api/../x`,
    // `/api/%2e%2e/x`, `/api\..\x`): the token goes only to the API's own paths.
    let url = reqwest::Url::parse(&url).map_err(|e| format!("bad upstream URL: {e}"))?;
    let same_origin = reqwest::Url::parse(origin).is_ok_and(|o| o.origin() == url.origin());
    if !url.path().starts_with("/api/") || !same_origin {
        return Err("only /api/ is proxied".into());
    }
    let mut builder = client.get(url);
    for name in FORWARDED_REQUEST_HEADERS {
        for value in headers.get_all(&name) {
            builder = builder.header(&name, value.clone());
        }
    }
    // The error text never holds a header: it is about the URL only.
    builder
        .build()
        .map_err(|e| format!("bad upstream URL: {}", e.without_url()))
}

/// Forwards `req` to `origin` and streams the answer back.
pub async fn forward(client: &reqwest::Client, origin: &str, req: Request) -> Response {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let upstream = match upstream_request(client, origin, &path_and_query, req.headers()) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    match client.execute(upstream).await {
        Ok(resp) => {
            let mut out = Response::builder().status(resp.status().as_u16());
            for name in FORWARDED_RESPONSE_HEADERS {
                for value in resp.headers().get_all(&name) {
                    out = out.header(&name, value.clone());
                }
            }
            out.body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("proxy: upstream request failed: {}\n", e.without_url()),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_origins_are_https_or_exactly_this_machine() {
        use super::check_upstream;
        for fine in [
            "https://analytics.sourcegraph.com",
            "http://127.0.0.1:9000",
            "http://127.8.9.10",
            "http://localhost:8080/",
            "http://[::1]:8080",
        ] {
            assert!(check_upstream(fine).is_ok(), "{fine}");
        }
        for bad in [
            "http://127.evil.example",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "http://analytics.sourcegraph.com",
            "https://user:pass@analytics.sourcegraph.com",
            "ftp://127.0.0.1",
            "127.0.0.1:9000",
        ] {
            assert!(check_upstream(bad).is_err(), "{bad}");
        }
        assert!(!super::is_loopback("http://127.evil.example"));
    }

    use super::*;
    use crate::server::UPSTREAM;

    #[test]
    fn forwarded_request_keeps_path_query_and_authorization_only() {
        let client = client(UPSTREAM).unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        h.insert(header::ACCEPT, "text/csv".parse().unwrap());
        h.insert(header::COOKIE, "session=1".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        let req = upstream_request(
            &client,
            "https://analytics.sourcegraph.com/",
            "/api/reports/by-user-client-date?instanceURL=example.com&granularity=by_user",
            &h,
        )
        .unwrap();
        assert_eq!(req.method(), reqwest::Method::GET);
        assert_eq!(
            req.url().as_str(),
            "https://analytics.sourcegraph.com/api/reports/by-user-client-date?instanceURL=example.com&granularity=by_user"
        );
        assert_eq!(req.headers()[header::AUTHORIZATION], "Bearer s3cret");
        assert_eq!(req.headers()[header::ACCEPT], "text/csv");
        assert!(req.headers().get(header::COOKIE).is_none());
        assert!(req.headers().get(header::ORIGIN).is_none());
        assert!(req.body().is_none());
    }

    #[test]
    fn only_api_paths_are_forwarded() {
        let client = client(UPSTREAM).unwrap();
        for p in [
            "/index.html",
            "//evil.example/api/x",
            "/apix",
            // Dot segments that leave /api/ once resolved, as the upstream resolves them.
            "/api/../x",
            "/api/./../admin",
            "/api/%2e%2e/x",
            "/api/%2E%2e/%2e%2e/x",
            "/api/..",
            "/api/reports/../../x?instanceURL=a",
        ] {
            assert!(
                upstream_request(
                    &client,
                    "https://analytics.sourcegraph.com",
                    p,
                    &HeaderMap::new()
                )
                .is_err(),
                "{p}"
            );
        }
    }
}

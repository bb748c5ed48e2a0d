//! The local server over real HTTP on 127.0.0.1: static files, the mock API, CORS, fault
//! injection, and the proxy (pointed at a second local server, never at the real API).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, Method, StatusCode};
use xtask::data::{parse_date, Dataset, DateRange, Granularity, DEMO_TOKEN};
use xtask::server::{Api, Background, Config, CSP};

const AUTH: &str = "Bearer sgdemo-local-token";
const REPORT: &str = "/api/reports/by-user-client-date?instanceURL=demo.example.com";

/// A directory with the files the server serves (made once per run).
fn site() -> PathBuf {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(make_site).clone()
}

fn make_site() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xtask-http-site");
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>sg</title>").unwrap();
    std::fs::write(dir.join("www/app.js"), "export const x = 1;").unwrap();
    std::fs::write(dir.join("www/style.css"), "body{}").unwrap();
    std::fs::write(dir.join("pkg/sg_analytics_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("pkg/sg_analytics.js"), "export default 1;").unwrap();
    std::fs::write(dir.join("secret.toml"), "not served").unwrap();
    dir
}

fn start(config: Config) -> Background {
    Background::start(([127, 0, 0, 1], 0).into(), &config).unwrap()
}

fn mock() -> Background {
    start(Config::mock(site()))
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn get(url: String, auth: Option<&str>) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    req.send().await.unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

fn expected_csv(ds: &Dataset, g: Granularity, range: DateRange) -> String {
    String::from_utf8(ds.export(g, range).flatten().collect()).unwrap()
}

#[tokio::test]
async fn static_files_have_the_right_types_csp_and_no_cache() {
    let server = mock();
    let base = server.url();
    for (path, mime) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/www/app.js", "text/javascript"),
        ("/www/style.css", "text/css"),
        ("/pkg/sg_analytics_bg.wasm", "application/wasm"),
        ("/pkg/sg_analytics.js", "text/javascript"),
    ] {
        let resp = get(format!("{base}{path}"), None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let h = resp.headers();
        assert!(header(h, "content-type").starts_with(mime), "{path}: {h:?}");
        assert_eq!(header(h, "content-security-policy"), CSP);
        assert_eq!(header(h, "cache-control"), "no-store");
    }
    assert!(CSP.contains("script-src 'self' 'wasm-unsafe-eval'"));
    // Only index.html, www/ and pkg/ are served: not the rest of the repository.
    for path in [
        "/secret.toml",
        "/www/../secret.toml",
        "/pkg/%2e%2e/secret.toml",
        "/nope",
    ] {
        let resp = get(format!("{base}{path}"), None).await;
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        assert!(!resp.text().await.unwrap().contains("not served"), "{path}");
    }
}

#[tokio::test]
async fn report_needs_the_demo_bearer_token() {
    let server = mock();
    let url = format!("{}{REPORT}", server.url());
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(DEMO_TOKEN),
        Some("Basic c2c6c2c="),
    ] {
        let resp = get(url.clone(), auth).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(header(resp.headers(), "access-control-allow-origin"), "*");
        let body = resp.text().await.unwrap();
        assert!(
            !body.is_empty() && body.len() < 200,
            "short text body: {body}"
        );
    }
    assert_eq!(get(url, Some(AUTH)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn report_rejects_bad_parameters_with_400() {
    let server = mock();
    let base = format!("{}/api/reports/by-user-client-date", server.url());
    for query in [
        "",
        "?instanceURL=",
        "?instanceURL=https://demo.example.com/search",
        "?instanceURL=demo.example.com&granularity=by_week",
        "?instanceURL=demo.example.com&startDate=2025-1-5",
        "?instanceURL=demo.example.com&endDate=2025-02-30",
        "?instanceURL=demo.example.com&startDate=2025-03-01&endDate=2025-02-01",
    ] {
        let resp = get(format!("{base}{query}"), Some(AUTH)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(!resp.text().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn report_streams_the_generated_csv_for_each_granularity_and_range() {
    let server = mock();
    let ds = Dataset {
        users: 6,
        ..Dataset::default()
    };
    let base = format!("{}/_mock/users=6{REPORT}", server.url());

    // No granularity: the finest, as the API defaults to.
    let resp = get(base.clone(), Some(AUTH)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(resp.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    // Streamed, so no length known up front.
    assert!(resp.headers().get("content-length").is_none());
    let body = resp.text().await.unwrap();
    assert_eq!(
        body,
        expected_csv(
            &ds,
            Granularity::ByUserDayClientLanguage,
            DateRange::default()
        )
    );

    let range = DateRange {
        from: Some(parse_date("2025-02-03").unwrap()),
        to: Some(parse_date("2025-02-07").unwrap()),
    };
    for g in Granularity::ALL {
        let url = format!("{base}&granularity={g}&startDate=2025-02-03&endDate=2025-02-07");
        let body = get(url, Some(AUTH)).await.text().await.unwrap();
        assert_eq!(body, expected_csv(&ds, g, range), "{g}");
        assert!(body.lines().count() > 1, "{g} has rows");
    }
    let day = get(
        format!("{base}&granularity=by_user_day&startDate=2025-02-03&endDate=2025-02-07"),
        Some(AUTH),
    )
    .await
    .text()
    .await
    .unwrap();
    let dates: Vec<&str> = day
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert!(
        dates.contains(&"2025-02-03") && dates.contains(&"2025-02-07"),
        "inclusive"
    );
    assert!(dates
        .iter()
        .all(|d| ("2025-02-03"..="2025-02-07").contains(d)));
    // Either bound alone applies alone.
    let only_end = get(
        format!("{base}&granularity=by_user_day&endDate=2025-01-02"),
        Some(AUTH),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(only_end
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(4).unwrap() <= "2025-01-02"));
    assert!(only_end.lines().count() > 1);
}

#[tokio::test]
async fn preflight_and_responses_carry_cors_headers() {
    let server = mock();
    let url = format!("{}/_mock/id=preflight{REPORT}", server.url());
    let resp = client()
        .request(Method::OPTIONS, &url)
        .header("Origin", "http://127.0.0.1:9999")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(header(h, "access-control-allow-origin"), "*");
    assert!(header(h, "access-control-allow-headers").contains("Authorization"));
    assert!(header(h, "access-control-allow-methods").contains("GET"));
    let exposed = header(h, "access-control-expose-headers");
    assert!(exposed.contains("Retry-After") && exposed.contains("Content-Length"));
    // A preflight is not an API request: it does not count towards `times`.
    let hits = get(format!("{}/_mock/id=preflight/_hits", server.url()), None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(hits, r#"{"hits":0}"#);

    let resp = get(url, Some(AUTH)).await;
    assert_eq!(header(resp.headers(), "access-control-allow-origin"), "*");
    assert!(header(resp.headers(), "access-control-expose-headers").contains("Retry-After"));
}

#[tokio::test]
async fn status_faults_apply_to_the_first_n_requests_then_clear() {
    let server = mock();
    let base = server.url();
    let opts = "users=2;fault=429;times=2;id=status";
    let url = format!("{base}/_mock/{opts}{REPORT}");
    for i in 0..2 {
        let resp = get(url.clone(), Some(AUTH)).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "request {i}");
        assert_eq!(header(resp.headers(), "retry-after"), "1");
        assert_eq!(header(resp.headers(), "access-control-allow-origin"), "*");
    }
    let resp = get(url.clone(), Some(AUTH)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().starts_with("Instance user ID,"));
    let hits = get(format!("{base}/_mock/{opts}/_hits"), None).await;
    assert_eq!(hits.text().await.unwrap(), r#"{"hits":3}"#);

    // Another opts string has its own counter; without `times` the fault never clears.
    let always = format!("{base}/_mock/fault=500;id=always{REPORT}");
    for _ in 0..3 {
        assert_eq!(
            get(always.clone(), Some(AUTH)).await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    let resp = get(
        format!("{base}/_mock/fault=429;retryAfter=7;id=ra{REPORT}"),
        Some(AUTH),
    )
    .await;
    assert_eq!(header(resp.headers(), "retry-after"), "7");
    let resp = get(format!("{base}/_mock/fault=503;id=s1{REPORT}"), Some(AUTH)).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get("retry-after").is_none());
    let resp = get(
        format!("{base}/_mock/fault=503;retryAfter=2;id=s2{REPORT}"),
        Some(AUTH),
    )
    .await;
    assert_eq!(header(resp.headers(), "retry-after"), "2");
    // fault=401 answers 401 even to the right token.
    let resp = get(
        format!("{base}/_mock/fault=401;times=1;id=t{REPORT}"),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = get(
        format!("{base}/_mock/fault=401;times=1;id=t{REPORT}"),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn html_fault_answers_200_with_a_login_page() {
    let server = mock();
    let resp = get(
        format!("{}/_mock/fault=html{REPORT}", server.url()),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(resp.headers(), "content-type").starts_with("text/html"));
    let body = resp.text().await.unwrap();
    assert!(body.starts_with("<!doctype html>") && body.contains("<form"));
}

#[tokio::test]
async fn cut_fault_sends_part_of_the_body_then_aborts() {
    let server = mock();
    let mut resp = get(
        format!("{}/_mock/fault=cut;cutAfter=20000{REPORT}", server.url()),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut received = Vec::new();
    let err = loop {
        match resp.chunk().await {
            Ok(Some(c)) => received.extend_from_slice(&c),
            Ok(None) => panic!("the body ended cleanly after {} bytes", received.len()),
            Err(e) => break e,
        }
    };
    assert!(
        err.is_body() || err.is_request() || err.is_decode(),
        "{err:?}"
    );
    let full = expected_csv(
        &Dataset::default(),
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    );
    assert!(
        received.len() >= 20_000 && received.len() < full.len(),
        "{}",
        received.len()
    );
    assert!(
        full.as_bytes().starts_with(&received),
        "the part sent is the real data"
    );

    // Even a dataset smaller than cutAfter never ends cleanly.
    let resp = get(
        format!("{}/_mock/users=1;fault=cut{REPORT}", server.url()),
        Some(AUTH),
    )
    .await;
    assert!(resp.bytes().await.is_err());
}

#[tokio::test]
async fn slow_fault_spaces_out_small_chunks_of_the_same_data() {
    let server = mock();
    let url = format!(
        "{}/_mock/users=1;days=20;fault=slow;chunk=512;delayMs=40{REPORT}",
        server.url()
    );
    let t = Instant::now();
    let mut resp = get(url, Some(AUTH)).await;
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "headers come at once"
    );
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(c) = resp.chunk().await.unwrap() {
        assert!(c.len() <= 512);
        body.extend_from_slice(&c);
        chunks += 1;
    }
    let ds = Dataset {
        users: 1,
        days: 20,
        ..Dataset::default()
    };
    let expected = expected_csv(
        &ds,
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    );
    assert_eq!(String::from_utf8(body).unwrap(), expected);
    let pieces = expected.len().div_ceil(512) as u32;
    assert!(pieces >= 5, "enough data to see the delays");
    assert!(
        chunks >= pieces,
        "{chunks} chunks for {} bytes",
        expected.len()
    );
    assert!(
        t.elapsed() >= Duration::from_millis(40) * (pieces - 1),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn registry_and_credits_answer_for_the_dataset() {
    let server = mock();
    let base = format!("{}/_mock/users=30", server.url());
    let resp = get(
        format!("{base}/api/reports/user-registry?instanceURL=demo.example.com"),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(resp.headers(), "content-type").starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("Instance user ID,Service Account,Site Admin")
    );
    assert_eq!(csv.lines().count(), 31);
    assert!(csv.contains(",true,") && csv.contains(",false,true"));
    assert_eq!(
        get(
            format!("{base}/api/reports/user-registry?instanceURL=x"),
            None
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(format!("{base}/api/reports/user-registry"), Some(AUTH))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let resp = get(
        format!("{base}/api/credits?instanceURL=demo.example.com&startDate=2025-01-15&endDate=2025-03-10"),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(resp.headers(), "content-type").starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(json["instanceURL"], "demo.example.com");
    let months: Vec<&str> = json["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2025-01", "2025-02", "2025-03"]);
    assert_eq!(json["buckets"][0]["startDate"], "2025-01-15");
    assert_eq!(json["buckets"][2]["endDate"], "2025-03-10");
    assert!(json["buckets"][1]["creditsUsed"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn unknown_mock_options_are_a_400_that_says_why() {
    let server = mock();
    let resp = get(
        format!("{}/_mock/colour=red{REPORT}", server.url()),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("colour"));
}

#[tokio::test]
async fn proxy_forwards_path_query_and_token_and_streams_the_answer_back() {
    // The "upstream" is a second local mock, so nothing leaves this machine.
    let upstream = mock();
    let proxy = start(Config {
        api: Api::Proxy(upstream.url()),
        ..Config::mock(site())
    });
    let url = format!(
        "{}/api/reports/by-user-client-date?instanceURL=demo.example.com&granularity=by_user",
        proxy.url()
    );
    let resp = get(url.clone(), Some(AUTH)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(resp.headers(), "content-type"),
        "text/csv; charset=utf-8"
    );
    assert_eq!(header(resp.headers(), "access-control-allow-origin"), "*");
    assert_eq!(
        resp.text().await.unwrap(),
        expected_csv(
            &Dataset::default(),
            Granularity::ByUser,
            DateRange::default()
        )
    );
    // The upstream's refusal comes back as is.
    let resp = get(url, Some("Bearer wrong")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(resp.headers(), "www-authenticate"), "Bearer");
    // The mock's selectors are off in proxy mode.
    let resp = get(
        format!("{}/_mock/fault=500{REPORT}", proxy.url()),
        Some(AUTH),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // The page is still served.
    assert_eq!(
        get(format!("{}/", proxy.url()), None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn proxy_reports_an_unreachable_upstream_as_502() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = start(Config {
        api: Api::Proxy(format!("http://127.0.0.1:{port}")),
        ..Config::mock(site())
    });
    let resp = get(format!("{}{REPORT}", proxy.url()), Some(AUTH)).await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert!(
        !resp.text().await.unwrap().contains("sgdemo"),
        "no token in errors"
    );
}

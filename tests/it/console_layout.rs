//! The console's layout and delivery: every console page, found by crawling the console's own
//! links in Chromium (`tests/e2e/layout.mjs`), fits 390 and 1440 px screens; the CSS and
//! JavaScript go out gzip-compressed to clients that accept it, with an ETag per encoding and
//! `Vary: Accept-Encoding`.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use reqwest::StatusCode;

use crate::chromium;
use crate::helpers::{spawn_app, TestApp};

/// The URLs of the console's stylesheet and script, read off the sign-in page.
async fn asset_urls(app: &TestApp) -> Vec<String> {
    let html = app
        .get("/admin/master/console/signin")
        .await
        .text()
        .await
        .unwrap();
    let urls: Vec<String> = html
        .split('"')
        .filter(|s| s.ends_with("/console.css") || s.ends_with("/console.js"))
        .map(str::to_owned)
        .collect();
    assert_eq!(urls.len(), 2, "a stylesheet and a script: {html}");
    urls
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn css_and_js_go_out_gzipped_to_clients_that_accept_it() {
    let app = spawn_app().await;
    for url in asset_urls(&app).await {
        let plain = fetch(&app, &url, &[]).await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get(CONTENT_ENCODING).is_none(), "{url}");
        assert_eq!(plain.headers()[VARY], "Accept-Encoding");
        let plain_tag = plain.headers()[ETAG].to_str().unwrap().to_owned();
        let plain_body = plain.bytes().await.unwrap();

        let gzipped = fetch(&app, &url, &[("Accept-Encoding", "br;q=1.0, gzip;q=0.8")]).await;
        assert_eq!(gzipped.status(), StatusCode::OK);
        assert_eq!(gzipped.headers()[CONTENT_ENCODING], "gzip", "{url}");
        assert_eq!(gzipped.headers()[VARY], "Accept-Encoding");
        assert!(gzipped.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        let gz_tag = gzipped.headers()[ETAG].to_str().unwrap().to_owned();
        assert_ne!(gz_tag, plain_tag, "each encoding has its own tag");
        let compressed = gzipped.bytes().await.unwrap();
        assert!(
            compressed.len() * 2 < plain_body.len(),
            "{url}: {} bytes gzipped of {}",
            compressed.len(),
            plain_body.len()
        );
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, plain_body, "{url} inflates to the same bytes");

        let refused = fetch(&app, &url, &[(ACCEPT_ENCODING.as_str(), "gzip;q=0, br")]).await;
        assert!(refused.headers().get(CONTENT_ENCODING).is_none());

        let cached = fetch(
            &app,
            &url,
            &[
                (ACCEPT_ENCODING.as_str(), "gzip"),
                (IF_NONE_MATCH.as_str(), &gz_tag),
            ],
        )
        .await;
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(cached.headers()[ETAG].to_str().unwrap(), gz_tag);
        assert_eq!(cached.headers()[VARY], "Accept-Encoding");
        assert!(cached.bytes().await.unwrap().is_empty());

        let other_encoding = fetch(&app, &url, &[(IF_NONE_MATCH.as_str(), &gz_tag)]).await;
        assert_eq!(
            other_encoding.status(),
            StatusCode::OK,
            "a gzip tag does not validate the plain bytes"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_console_page_fits_390_and_1440_px_in_chromium() {
    let app = spawn_app().await;
    let artifacts = chromium::artifacts_dir("layout");
    chromium::run_script("layout.mjs", &app.address, &artifacts, &[]).await;
}

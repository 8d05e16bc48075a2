//! The console's own assets (CSS, a little JavaScript, the icon), compiled into the binary and
//! served under a path that changes with their content, so browsers may cache them for good.
//! Text assets go out gzip-compressed to clients that accept it, compressed once per process.

use std::io::Write;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// One asset: its name, content type and bytes, and whether compressing it pays.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    compressible: bool,
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../../static/console.css"),
        compressible: true,
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../../static/console.js"),
        compressible: true,
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../../static/favicon.svg"),
        compressible: false,
    },
];

/// A short digest of every asset: the version segment of their URLs.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        for asset in &ASSETS {
            hasher.update(asset.bytes);
        }
        data_encoding::HEXLOWER.encode(&hasher.finalize()[..4])
    })
}

/// Each asset's gzip encoding (empty where it is not compressed), made at first use.
fn gzipped(index: usize) -> &'static [u8] {
    static GZIPPED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let all = GZIPPED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                if !asset.compressible {
                    return Vec::new();
                }
                let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::best());
                // Writing to a Vec cannot fail; an empty result means "send it as it is".
                match encoder.write_all(asset.bytes) {
                    Ok(()) => encoder.finish().unwrap_or_default(),
                    Err(_) => Vec::new(),
                }
            })
            .collect()
    });
    all.get(index).map_or(&[], Vec::as_slice)
}

/// The path the assets are served under, relative to the base, e.g. `/resources/console/1a2b3c4d`.
pub fn path_prefix() -> String {
    format!("/resources/console/{}", version())
}

/// Registers the asset route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resources/console/{version}/{file}", web::get().to(serve));
}

/// Whether an `Accept-Encoding` value accepts gzip (by name or `*`, with a non-zero weight).
fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').take(32).any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let named = ["gzip", "x-gzip", "*"]
            .iter()
            .any(|c| coding.eq_ignore_ascii_case(c));
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        named && weight > 0.0
    })
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .take(32)
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

async fn serve(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (asked_version, file) = path.into_inner();
    let Some(index) = ASSETS.iter().position(|asset| asset.name == file) else {
        return HttpResponse::NotFound()
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .finish();
    };
    let asset = &ASSETS[index];
    let cache = if asked_version == version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let text = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let compressed = gzipped(index);
    let gzip = !compressed.is_empty() && accepts_gzip(text(header::ACCEPT_ENCODING));
    // One tag per asset version and encoding: the two encodings are different bytes.
    let etag = format!(
        "\"{}-{}{}\"",
        version(),
        asset.name,
        if gzip { "-gz" } else { "" }
    );
    let not_modified = matches(text(header::IF_NONE_MATCH), &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if not_modified {
        return response.finish();
    }
    response.content_type(asset.content_type);
    if gzip {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(compressed)
    } else {
        response.body(asset.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_by_name_or_star_unless_weighed_zero() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("br, deflate"));
        assert!(!accepts_gzip(""));
        assert!(!accepts_gzip("identity"));
    }

    #[test]
    fn every_text_asset_compresses_and_inflates_back() {
        use std::io::Read;
        for (index, asset) in ASSETS.iter().enumerate() {
            if !asset.compressible {
                assert!(gzipped(index).is_empty());
                continue;
            }
            let compressed = gzipped(index);
            assert!(compressed.len() < asset.bytes.len(), "{}", asset.name);
            let mut inflated = Vec::new();
            flate2::read::GzDecoder::new(compressed)
                .read_to_end(&mut inflated)
                .unwrap();
            assert_eq!(inflated, asset.bytes);
        }
    }
}

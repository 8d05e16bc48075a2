//! The console's own assets (CSS, a little JavaScript, the icon), compiled into the binary and
//! served under a path that changes with their content, so browsers may cache them for good.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

/// Each asset: its name, content type and bytes.
const ASSETS: [(&str, &str, &[u8]); 3] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../static/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../static/console.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../../static/favicon.svg"),
    ),
];

/// A short digest of every asset: the version segment of their URLs.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        for (_, _, bytes) in ASSETS {
            hasher.update(bytes);
        }
        data_encoding::HEXLOWER.encode(&hasher.finalize()[..4])
    })
}

/// The path the assets are served under, relative to the base, e.g. `/resources/console/1a2b3c4d`.
pub fn path_prefix() -> String {
    format!("/resources/console/{}", version())
}

/// Registers the asset route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resources/console/{version}/{file}", web::get().to(serve));
}

async fn serve(path: web::Path<(String, String)>) -> HttpResponse {
    let (asked_version, file) = path.into_inner();
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return HttpResponse::NotFound()
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .finish();
    };
    let cache = if asked_version == version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(*bytes)
}

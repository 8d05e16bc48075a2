//! The HTTP ceiling for the token benchmark: a minimal actix-web server, with as many workers
//! as keywarden (actix's default, one per core), that reads each request's body and answers
//! 200 with a JSON body of a given size, like a token response without the work behind it.
//! bench/bench.py loads it with the same wrk command as the refresh path.
//!
//! Usage: http_ceiling PORT BODY_BYTES

use actix_web::{web, App, HttpResponse, HttpServer};

/// The most bytes an answer may have (a token response is a few KB).
const MAX_BODY_BYTES: usize = 1 << 20;

/// A JSON object of exactly `size` bytes (at least the 13 of its frame), shaped like a token
/// response: `{"token":"xxx...x"}`.
fn json_body(size: usize) -> String {
    let frame = r#"{"token":""}"#.len();
    format!(
        r#"{{"token":"{}"}}"#,
        "x".repeat(size.saturating_sub(frame))
    )
}

fn parse_args() -> Option<(u16, usize)> {
    let mut args = std::env::args().skip(1);
    let port = args.next()?.parse().ok()?;
    let size = args.next()?.parse().ok()?;
    (size <= MAX_BODY_BYTES).then_some((port, size))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let Some((port, size)) = parse_args() else {
        eprintln!("usage: http_ceiling PORT BODY_BYTES (at most {MAX_BODY_BYTES})");
        std::process::exit(2);
    };
    let body = web::Bytes::from(json_body(size));
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move |_request: web::Bytes| {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}

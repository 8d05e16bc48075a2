//! One tracing span per request, carrying its method and path (never the query, which may
//! hold credentials), so that anything a handler logs says which request it was about.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;

/// Middleware: runs the rest of the request inside a `request` span.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let span = tracing::info_span!("request", method = %req.method(), path = req.path());
    next.call(req).instrument(span).await
}

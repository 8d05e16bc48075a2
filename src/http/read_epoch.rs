//! Middleware giving each request its own view of the read cache's epoch, so that on
//! PostgreSQL a request checks the shared cache version once (see `store::cache`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Middleware: runs the rest of the request in its own read-cache scope.
pub async fn read_epoch(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    crate::store::cache::request_scope(next.call(req)).await
}

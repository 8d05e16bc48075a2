//! The admin REST API answers `/admin/realms/` like `/admin/realms`, as Keycloak does (the
//! official admin client sends collection URLs with a trailing slash). Only that API is
//! rewritten: the console's own URLs end in `/` on purpose.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;

/// Middleware: trims the trailing slash of admin REST paths before routing.
pub async fn trim_admin_api(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(trimmed) = trimmed_admin_path(req.path()) {
        let query = req.query_string();
        let path_and_query = if query.is_empty() {
            trimmed
        } else {
            format!("{trimmed}?{query}")
        };
        if let Ok(uri) = Uri::builder().path_and_query(path_and_query).build() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

fn trimmed_admin_path(path: &str) -> Option<String> {
    let is_admin_api = path.contains("/admin/realms/");
    (is_admin_api && path.len() > 1 && path.ends_with('/'))
        .then(|| path.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_api_paths_are_trimmed() {
        assert_eq!(
            trimmed_admin_path("/admin/realms/").as_deref(),
            Some("/admin/realms")
        );
        assert_eq!(
            trimmed_admin_path("/auth/admin/realms/x/users/").as_deref(),
            Some("/auth/admin/realms/x/users")
        );
        assert_eq!(trimmed_admin_path("/admin/realms/x/users"), None);
        assert_eq!(trimmed_admin_path("/admin/master/console/"), None);
        assert_eq!(trimmed_admin_path("/realms/x/"), None);
    }
}

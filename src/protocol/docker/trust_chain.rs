//! `GET {base}/realms/{realm}/protocol/docker-v2/trust-chain`: the realm's signing
//! certificates as a PEM bundle, ready to be a registry's `rootcertbundle`. Public, like the
//! JWKS that already carries them; it lets a deployment fetch the bundle at start-up.

use actix_web::{web, HttpResponse};

use super::DockerError;
use crate::state::AppState;
use crate::store;

pub async fn get(
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, DockerError> {
    let realm = store::realms::find_by_name(state.db.read(), &realm)
        .await?
        .filter(|r| r.enabled)
        .ok_or(DockerError::RealmNotFound)?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .body(keys.trust_chain_pem()))
}

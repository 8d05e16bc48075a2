//! The user profile: Keycloak 26's default configuration (`username`, `email`, `firstName`,
//! `lastName`, no unmanaged attributes policy), which keywarden's users follow, and the
//! metadata an admin form is built from.

use serde_json::{json, Value};

use super::access::{authorize, visible_realm, Actor, QueryUsers};
use super::OpsError;
use crate::state::AppState;

/// The four attributes of Keycloak's default profile, with their validations.
fn attributes() -> [(&'static str, Value, bool); 4] {
    let names = json!({"length": {"max": 255}, "person-name-prohibited-characters": {}});
    [
        (
            "username",
            json!({"length": {"min": 3, "max": 255}, "username-prohibited-characters": {},
                   "up-username-not-idn-homograph": {}}),
            false,
        ),
        ("email", json!({"email": {}, "length": {"max": 255}}), true),
        ("firstName", names.clone(), true),
        ("lastName", names, true),
    ]
}

fn groups() -> Value {
    json!([{
        "name": "user-metadata",
        "displayHeader": "User metadata",
        "displayDescription": "Attributes, which refer to user metadata"
    }])
}

/// `GET /users/profile`, for any administrator of the realm.
pub async fn config(state: &AppState, actor: &Actor, realm: &str) -> Result<Value, OpsError> {
    visible_realm(state, actor, realm).await?;
    let attributes: Vec<Value> = attributes()
        .into_iter()
        .map(|(name, validations, required_for_users)| {
            let mut attribute = json!({
                "name": name,
                "displayName": format!("${{{name}}}"),
                "validations": validations,
                "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
                "multivalued": false
            });
            if required_for_users {
                attribute["required"] = json!({"roles": ["user"]});
            }
            attribute
        })
        .collect();
    Ok(json!({"attributes": attributes, "groups": groups()}))
}

/// `GET /users/profile/metadata`: the attributes as an admin creates a user (only the
/// username is required of an admin).
pub async fn metadata(state: &AppState, actor: &Actor, realm: &str) -> Result<Value, OpsError> {
    authorize::<QueryUsers>(state, actor, realm).await?;
    let attributes: Vec<Value> = attributes()
        .into_iter()
        .map(|(name, validators, _)| {
            json!({
                "name": name,
                "displayName": format!("${{{name}}}"),
                "required": name == "username",
                "readOnly": false,
                "validators": validators,
                "multivalued": false
            })
        })
        .collect();
    Ok(json!({"attributes": attributes, "groups": groups()}))
}

//! `Strict<T>`: a JSON body whose top-level fields must all be fields of Keycloak's
//! representation `T`, as Keycloak refuses unknown fields with 400. Keycloak's fields that
//! keywarden does not store are accepted and ignored, so a representation read from Keycloak
//! (or from keywarden) can be sent back as it is.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::admin::repr::{ClientRepr, CredentialRepr, GroupRepr, RoleRepr, UserRepr};

/// A representation with Keycloak's list of its fields.
pub trait Representation: DeserializeOwned {
    /// Keycloak's class name, for the error message.
    const CLASS: &'static str;
    /// Every top-level field Keycloak's class has (and keywarden's own additions).
    const FIELDS: &'static [&'static str];
}

impl Representation for UserRepr {
    const CLASS: &'static str = "UserRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "self",
        "id",
        "origin",
        "createdTimestamp",
        "username",
        "enabled",
        "totp",
        "emailVerified",
        "firstName",
        "lastName",
        "email",
        "federationLink",
        "serviceAccountClientId",
        "attributes",
        "credentials",
        "disableableCredentialTypes",
        "requiredActions",
        "federatedIdentities",
        "realmRoles",
        "clientRoles",
        "clientConsents",
        "notBefore",
        "applicationRoles",
        "socialLinks",
        "groups",
        "access",
        "userProfileMetadata",
    ];
}

impl Representation for ClientRepr {
    const CLASS: &'static str = "ClientRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "clientId",
        "name",
        "description",
        "type",
        "rootUrl",
        "adminUrl",
        "baseUrl",
        "surrogateAuthRequired",
        "enabled",
        "alwaysDisplayInConsole",
        "clientAuthenticatorType",
        "secret",
        "registrationAccessToken",
        "defaultRoles",
        "redirectUris",
        "webOrigins",
        "notBefore",
        "bearerOnly",
        "consentRequired",
        "standardFlowEnabled",
        "implicitFlowEnabled",
        "directAccessGrantsEnabled",
        "serviceAccountsEnabled",
        "authorizationServicesEnabled",
        "directGrantsOnly",
        "publicClient",
        "frontchannelLogout",
        "protocol",
        "attributes",
        "authenticationFlowBindingOverrides",
        "fullScopeAllowed",
        "nodeReRegistrationTimeout",
        "registeredNodes",
        "protocolMappers",
        "clientTemplate",
        "useTemplateConfig",
        "useTemplateScope",
        "useTemplateMappers",
        "defaultClientScopes",
        "optionalClientScopes",
        "authorizationSettings",
        "access",
        "origin",
        "dockerAccessPolicy",
    ];
}

impl Representation for RoleRepr {
    const CLASS: &'static str = "RoleRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "scopeParamRequired",
        "composite",
        "composites",
        "clientRole",
        "containerId",
        "attributes",
    ];
}

impl Representation for GroupRepr {
    const CLASS: &'static str = "GroupRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "path",
        "parentId",
        "subGroupCount",
        "subGroups",
        "attributes",
        "realmRoles",
        "clientRoles",
        "access",
    ];
}

impl Representation for CredentialRepr {
    const CLASS: &'static str = "CredentialRepresentation";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "type",
        "userLabel",
        "createdDate",
        "secretData",
        "credentialData",
        "priority",
        "value",
        "temporary",
        "device",
        "hashedSaltedValue",
        "salt",
        "hashIterations",
        "counter",
        "algorithm",
        "digits",
        "period",
        "config",
        "federationLink",
    ];
}

/// The first field of `object` that `T` does not have.
pub fn unknown_field<T: Representation>(object: &Map<String, Value>) -> Option<&str> {
    object
        .keys()
        .map(String::as_str)
        .find(|key| !T::FIELDS.contains(key))
}

/// A JSON body of representation `T` with no unknown top-level field.
#[derive(Debug)]
pub struct Strict<T>(pub T);

impl<T> Strict<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Strict<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Representation + 'static> FromRequest for Strict<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Map<String, Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = body.await?.into_inner();
            if let Some(field) = unknown_field::<T>(&object) {
                return Err(ApiError::BadRequest(format!(
                    "Unrecognized field \"{field}\" (class org.keycloak.representations.idm.{}), not marked as ignorable",
                    T::CLASS
                ))
                .into());
            }
            serde_json::from_value(Value::Object(object))
                .map(Strict)
                .map_err(|e| ApiError::BadRequest(format!("Unable to read JSON: {e}")).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keycloak_fields_pass_and_others_are_named() {
        let Value::Object(known) = json!({"username": "a", "totp": false, "access": {}}) else {
            unreachable!()
        };
        assert_eq!(unknown_field::<UserRepr>(&known), None);
        let Value::Object(unknown) = json!({"username": "a", "isAdmin": true}) else {
            unreachable!()
        };
        assert_eq!(unknown_field::<UserRepr>(&unknown), Some("isAdmin"));
    }
}

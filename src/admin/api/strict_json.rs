//! `Strict<T>`: a JSON body whose top-level fields must all be fields of Keycloak's
//! representation `T`, as Keycloak refuses unknown fields with 400. Keycloak's fields that
//! keywarden does not store are accepted and ignored, so a representation read from Keycloak
//! (or from keywarden) can be sent back as it is.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
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

/// The first top-level field of the JSON object `body` (in document order) that `T` does not
/// have, with the line and column Keycloak's decoder reports for it: just past the start of
/// its value (a whole literal, or the opening quote or bracket).
pub fn unknown_field<T: Representation>(body: &[u8]) -> Option<(String, usize, usize)> {
    let mut scan = Scan { body, at: 0 };
    scan.skip_space();
    scan.expect(b'{')?;
    loop {
        scan.skip_space();
        if scan.peek()? == b'}' {
            return None;
        }
        let key_start = scan.at;
        scan.skip_string()?;
        let key: String = serde_json::from_slice(&body[key_start..scan.at]).ok()?;
        scan.skip_space();
        scan.expect(b':')?;
        scan.skip_space();
        let reported = scan.reported_end_of_value_start()?;
        if !T::FIELDS.contains(&key.as_str()) {
            let (line, column) = line_and_column(body, reported);
            return Some((key, line, column));
        }
        scan.skip_value()?;
        scan.skip_space();
        if scan.peek()? == b',' {
            scan.at += 1;
        }
    }
}

/// 1-based line and column of byte offset `at`.
fn line_and_column(body: &[u8], at: usize) -> (usize, usize) {
    let before = &body[..at.min(body.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |newline| newline + 1);
    (line, at - line_start + 1)
}

/// A cursor over a well-formed JSON text (the body has been parsed once already).
struct Scan<'a> {
    body: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.body.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    fn skip_string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                _ => self.at += 1,
            }
        }
    }

    fn skip_literal(&mut self) {
        while !matches!(
            self.peek(),
            None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
        ) {
            self.at += 1;
        }
    }

    /// Where the decoder stands once it has read the first token of the value at the cursor.
    fn reported_end_of_value_start(&self) -> Option<usize> {
        match self.peek()? {
            b'"' | b'{' | b'[' => Some(self.at + 1),
            _ => {
                let mut literal = Scan {
                    body: self.body,
                    at: self.at,
                };
                literal.skip_literal();
                Some(literal.at)
            }
        }
    }

    /// Skips one value, nested objects and arrays included, without recursion.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' | b' ' | b'\t' | b'\r' | b'\n' => self.at += 1,
                _ => self.skip_literal(),
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
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
        let json = req.mime_type().ok().flatten().is_some_and(|mime| {
            mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")
        });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::BadRequest(
                    "Expected a JSON body (Content-Type: application/json)".into(),
                )
                .into());
            }
            let body = body.await?;
            let object: Map<String, Value> =
                serde_json::from_slice(&body).map_err(|e| super::error::unparsable(&e))?;
            if let Some((field, line, column)) = unknown_field::<T>(&body) {
                return Err(ApiError::InvalidRepresentation(format!(
                    "Invalid json representation for {}. Unrecognized field \"{field}\" at line {line} column {column}.",
                    T::CLASS
                ))
                .into());
            }
            serde_json::from_value(Value::Object(object))
                .map(Strict)
                .map_err(|e| super::error::unparsable(&e).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycloak_fields_pass_and_others_are_named() {
        let known = br#"{"username": "a", "totp": false, "access": {"x": [1, "}"]}}"#;
        assert_eq!(unknown_field::<UserRepr>(known), None);
        let unknown = br#"{"username": "a\"}", "isAdmin": true, "zz": 1}"#;
        assert_eq!(
            unknown_field::<UserRepr>(unknown),
            Some(("isAdmin".to_owned(), 1, 37))
        );
    }

    #[test]
    fn the_position_is_where_keycloak_reports_it() {
        // Keycloak 26: `{"nosuchfield":true}` is reported at line 1 column 20.
        let body = br#"{"nosuchfield":true}"#;
        assert_eq!(
            unknown_field::<UserRepr>(body),
            Some(("nosuchfield".to_owned(), 1, 20))
        );
        let body = b"{\n  \"username\": \"a\",\n  \"bogus\": \"x\"\n}";
        assert_eq!(
            unknown_field::<UserRepr>(body),
            Some(("bogus".to_owned(), 3, 13))
        );
    }
}

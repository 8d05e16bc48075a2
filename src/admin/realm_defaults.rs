//! The realm representation's fields that keywarden keeps without implementing them, with
//! the values Keycloak 26 gives a new realm. `GET /admin/realms/{realm}` shows a realm's kept
//! values (from an import or a `PUT`) over these defaults; fields of the export only (flows,
//! client scopes, components...) are not part of that answer.

use std::sync::LazyLock;

use serde_json::{Map, Value};

/// Sections an export carries but the realm's own representation does not.
pub const EXPORT_ONLY: &[&str] = &[
    "authenticationFlows",
    "authenticatorConfig",
    "clientScopes",
    "clientScopeMappings",
    "components",
    "defaultDefaultClientScopes",
    "defaultOptionalClientScopes",
    "identityProviders",
    "identityProviderMappers",
    "keycloakVersion",
    "organizations",
    "requiredActions",
    "scopeMappings",
    "clientProfiles",
    "clientPolicies",
];

/// Keycloak 26's values for a new realm, by field name.
const KEYCLOAK_DEFAULTS: &str = r#"{
        "notBefore": 0,
        "defaultSignatureAlgorithm": "RS256",
        "revokeRefreshToken": false,
        "refreshTokenMaxReuse": 0,
        "accessTokenLifespanForImplicitFlow": 900,
        "ssoSessionIdleTimeoutRememberMe": 0,
        "ssoSessionMaxLifespanRememberMe": 0,
        "offlineSessionMaxLifespanEnabled": false,
        "offlineSessionMaxLifespan": 5184000,
        "clientSessionIdleTimeout": 0,
        "clientSessionMaxLifespan": 0,
        "clientOfflineSessionIdleTimeout": 0,
        "clientOfflineSessionMaxLifespan": 0,
        "accessCodeLifespan": 60,
        "accessCodeLifespanUserAction": 300,
        "accessCodeLifespanLogin": 1800,
        "actionTokenGeneratedByAdminLifespan": 43200,
        "actionTokenGeneratedByUserLifespan": 300,
        "oauth2DeviceCodeLifespan": 600,
        "oauth2DevicePollingInterval": 5,
        "sslRequired": "external",
        "registrationAllowed": false,
        "registrationEmailAsUsername": false,
        "rememberMe": false,
        "verifyEmail": false,
        "loginWithEmailAllowed": true,
        "duplicateEmailsAllowed": false,
        "resetPasswordAllowed": false,
        "editUsernameAllowed": false,
        "maxTemporaryLockouts": 0,
        "bruteForceStrategy": "MULTIPLE",
        "requiredCredentials": ["password"],
        "passwordPolicy": null,
        "otpPolicyType": "totp",
        "otpPolicyAlgorithm": "HmacSHA1",
        "otpPolicyInitialCounter": 0,
        "otpPolicyDigits": 6,
        "otpPolicyLookAheadWindow": 1,
        "otpPolicyPeriod": 30,
        "otpPolicyCodeReusable": false,
        "otpSupportedApplications": [
            "totpAppFreeOTPName",
            "totpAppGoogleName",
            "totpAppMicrosoftAuthenticatorName"
        ],
        "localizationTexts": {},
        "webAuthnPolicyRpEntityName": "keycloak",
        "webAuthnPolicySignatureAlgorithms": ["ES256", "RS256"],
        "webAuthnPolicyRpId": "",
        "webAuthnPolicyAttestationConveyancePreference": "not specified",
        "webAuthnPolicyAuthenticatorAttachment": "not specified",
        "webAuthnPolicyRequireResidentKey": "not specified",
        "webAuthnPolicyUserVerificationRequirement": "not specified",
        "webAuthnPolicyCreateTimeout": 0,
        "webAuthnPolicyAvoidSameAuthenticatorRegister": false,
        "webAuthnPolicyAcceptableAaguids": [],
        "webAuthnPolicyExtraOrigins": [],
        "webAuthnPolicyPasswordlessRpEntityName": "keycloak",
        "webAuthnPolicyPasswordlessSignatureAlgorithms": ["ES256", "RS256"],
        "webAuthnPolicyPasswordlessRpId": "",
        "webAuthnPolicyPasswordlessAttestationConveyancePreference": "not specified",
        "webAuthnPolicyPasswordlessAuthenticatorAttachment": "not specified",
        "webAuthnPolicyPasswordlessRequireResidentKey": "Yes",
        "webAuthnPolicyPasswordlessUserVerificationRequirement": "required",
        "webAuthnPolicyPasswordlessCreateTimeout": 0,
        "webAuthnPolicyPasswordlessAvoidSameAuthenticatorRegister": false,
        "webAuthnPolicyPasswordlessAcceptableAaguids": [],
        "webAuthnPolicyPasswordlessExtraOrigins": [],
        "browserSecurityHeaders": {
            "contentSecurityPolicyReportOnly": "",
            "xContentTypeOptions": "nosniff",
            "referrerPolicy": "no-referrer",
            "xRobotsTag": "none",
            "xFrameOptions": "SAMEORIGIN",
            "contentSecurityPolicy": "frame-src 'self'; frame-ancestors 'self'; object-src 'none';",
            "strictTransportSecurity": "max-age=31536000; includeSubDomains"
        },
        "smtpServer": {},
        "internationalizationEnabled": false,
        "supportedLocales": [],
        "browserFlow": "browser",
        "registrationFlow": "registration",
        "directGrantFlow": "direct grant",
        "resetCredentialsFlow": "reset credentials",
        "clientAuthenticationFlow": "clients",
        "dockerAuthenticationFlow": "docker auth",
        "firstBrokerLoginFlow": "first broker login",
        "attributes": {
            "cibaBackchannelTokenDeliveryMode": "poll",
            "cibaExpiresIn": "120",
            "cibaAuthRequestedUserHint": "login_hint",
            "oauth2DeviceCodeLifespan": "600",
            "oauth2DevicePollingInterval": "5",
            "parRequestUriLifespan": "60",
            "cibaInterval": "5",
            "realmReusableOtpCode": "false"
        },
        "userManagedAccessAllowed": false,
        "organizationsEnabled": false,
        "verifiableCredentialsEnabled": false,
        "adminPermissionsEnabled": false,
        "social": false,
        "updateProfileOnInitialSocialLogin": false
    }"#;

/// The defaults as a map (parsed once).
pub fn keycloak_defaults() -> Map<String, Value> {
    static DEFAULTS: LazyLock<Map<String, Value>> =
        LazyLock::new(|| serde_json::from_str(KEYCLOAK_DEFAULTS).unwrap_or_default());
    DEFAULTS.clone()
}

/// The realm's own fields: Keycloak's defaults with the realm's kept values over them.
pub fn realm_fields(kept: &Map<String, Value>) -> Map<String, Value> {
    let mut fields = keycloak_defaults();
    for (key, value) in kept {
        if !EXPORT_ONLY.contains(&key.as_str()) {
            fields.insert(key.clone(), value.clone());
        }
    }
    fields.retain(|_, v| !v.is_null());
    fields
}

/// What Keycloak shows in place of a secret.
const MASKED: &str = "**********";

/// Configuration keys that hold secrets in kept components and identity providers.
const SECRET_KEYS: &[&str] = &[
    "privateKey",
    "ecdsaPrivateKey",
    "secret",
    "bindCredential",
    "clientSecret",
    "password",
    "hmacSecret",
];

/// Masks the secrets a realm's kept fields may hold (the SMTP password, component and
/// identity provider secrets), as Keycloak does outside a full export.
pub fn mask_secrets(fields: &mut Map<String, Value>) {
    if let Some(Value::Object(smtp)) = fields.get_mut("smtpServer") {
        if smtp.get("password").is_some_and(|p| !p.is_null()) {
            smtp.insert("password".into(), Value::from(MASKED));
        }
    }
    if let Some(Value::Object(by_type)) = fields.get_mut("components") {
        for component in by_type
            .values_mut()
            .filter_map(Value::as_array_mut)
            .flatten()
        {
            mask_config(component.get_mut("config"), true);
            if let Some(Value::Object(sub)) = component.get_mut("subComponents") {
                for child in sub.values_mut().filter_map(Value::as_array_mut).flatten() {
                    mask_config(child.get_mut("config"), true);
                }
            }
        }
    }
    if let Some(Value::Array(providers)) = fields.get_mut("identityProviders") {
        for provider in providers {
            mask_config(provider.get_mut("config"), false);
        }
    }
}

/// Replaces secret values of a config object: component configs hold lists of strings.
fn mask_config(config: Option<&mut Value>, lists: bool) {
    let Some(Value::Object(config)) = config else {
        return;
    };
    for (key, value) in config.iter_mut() {
        if SECRET_KEYS.contains(&key.as_str()) {
            *value = if lists {
                Value::from(vec![MASKED])
            } else {
                Value::from(MASKED)
            };
        }
    }
}

/// Of the fields a `PUT` carries, those Keycloak's realm has (others are ignored, as before).
pub fn settable(fields: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    let known = keycloak_defaults();
    fields
        .iter()
        .filter(move |(key, _)| known.contains_key(key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_kept_sections_are_masked() {
        let mut fields = json!({
            "smtpServer": {"host": "mail", "password": "hunter2"},
            "components": {"org.keycloak.keys.KeyProvider": [
                {"name": "rsa", "config": {"privateKey": ["MIIE"], "priority": ["100"]}},
                {"name": "ec", "config": {"ecdsaPrivateKey": ["MIGH"], "ecdsaEllipticCurveKey": ["P-256"]}}
            ]},
            "identityProviders": [{"alias": "github", "config": {"clientId": "x", "clientSecret": "s"}}]
        })
        .as_object()
        .unwrap()
        .clone();
        mask_secrets(&mut fields);
        assert_eq!(fields["smtpServer"]["password"], MASKED);
        assert_eq!(fields["smtpServer"]["host"], "mail");
        let key = &fields["components"]["org.keycloak.keys.KeyProvider"][0]["config"];
        assert_eq!(key["privateKey"], json!([MASKED]));
        assert_eq!(key["priority"], json!(["100"]));
        let ec = &fields["components"]["org.keycloak.keys.KeyProvider"][1]["config"];
        assert_eq!(ec["ecdsaPrivateKey"], json!([MASKED]));
        assert_eq!(ec["ecdsaEllipticCurveKey"], json!(["P-256"]));
        assert_eq!(
            fields["identityProviders"][0]["config"]["clientSecret"],
            MASKED
        );
    }

    #[test]
    fn the_defaults_parse() {
        assert_eq!(keycloak_defaults()["sslRequired"], "external");
    }

    #[test]
    fn kept_values_win_and_export_sections_stay_out() {
        let kept = json!({"sslRequired": "none", "authenticationFlows": [{"alias": "x"}]});
        let fields = realm_fields(kept.as_object().unwrap());
        assert_eq!(fields["sslRequired"], "none");
        assert_eq!(fields["defaultSignatureAlgorithm"], "RS256");
        assert!(!fields.contains_key("authenticationFlows"));
        assert!(!fields.contains_key("passwordPolicy"));
    }
}

//! Realm files as Keycloak writes them: one realm with everything inside (`kc.sh export
//! --file`, the console's partial export), or a directory of `{realm}-realm.json` files with
//! their users in `{realm}-users-N.json` (`kc.sh export --dir`). JSON is read as Keycloak's
//! parser reads it: of a key given twice, the last wins. Every refusal names the JSON path of
//! what is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::repr::{ClientRepr, GroupRepr, RealmRepr, RoleRepr, RolesRepr, UserRepr};

/// The largest realm or users file read from disk.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A realm representation, and what it carries that an import leaves out.
#[derive(Debug, Clone, Default)]
pub struct RealmFile {
    pub repr: RealmRepr,
    /// One line per part left out, e.g. `users[2].federatedIdentities: 1 left out`.
    pub left_out: Vec<String>,
}

/// Parses a realm representation from JSON text.
pub fn parse(bytes: &[u8]) -> Result<RealmFile, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("Cannot parse the JSON: {e}"))?;
    from_value(value)
}

/// Reads a realm representation from a JSON value, section by section so that an error
/// names its path.
pub fn from_value(value: Value) -> Result<RealmFile, String> {
    let Value::Object(mut fields) = value else {
        return Err("a realm file must hold a JSON object".into());
    };
    let users = fields.remove("users");
    let clients = fields.remove("clients");
    let groups = fields.remove("groups");
    let roles = fields.remove("roles");
    let mut file = RealmFile {
        repr: at(Value::Object(fields), "")?,
        left_out: Vec::new(),
    };
    if let Some(users) = users.filter(|u| !u.is_null()) {
        file.repr.users = Some(parse_users(users, 0, &mut file.left_out)?);
    }
    file.repr.clients = list::<ClientRepr>(clients, "clients")?;
    file.repr.groups = list::<GroupRepr>(groups, "groups")?;
    if let Some(roles) = roles.filter(|r| !r.is_null()) {
        file.repr.roles = Some(parse_roles(roles)?);
    }
    Ok(file)
}

/// Parses a `{realm}-users-N.json` file: `{"realm": name, "users": [...]}`. Users are
/// numbered from `first` in error paths, as if they were in the realm file.
pub fn parse_users_file(
    bytes: &[u8],
    first: usize,
    left_out: &mut Vec<String>,
) -> Result<(String, Vec<UserRepr>), String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("Cannot parse the JSON: {e}"))?;
    let realm = value
        .get("realm")
        .and_then(Value::as_str)
        .ok_or("a users file must name its realm")?
        .to_owned();
    let users = value.get("users").cloned().unwrap_or(Value::Null);
    Ok((realm, parse_users(users, first, left_out)?))
}

fn parse_users(
    users: Value,
    first: usize,
    left_out: &mut Vec<String>,
) -> Result<Vec<UserRepr>, String> {
    let Value::Array(users) = users else {
        return Err("users: expected an array".into());
    };
    let mut parsed = Vec::with_capacity(users.len());
    for (offset, user) in users.into_iter().enumerate() {
        let path = format!("users[{}]", first + offset);
        note_left_out(&user, &path, left_out);
        parsed.push(at(user, &path)?);
    }
    Ok(parsed)
}

/// Records what keywarden does not import from a user: linked identities, consents, and
/// credentials other than passwords.
fn note_left_out(user: &Value, path: &str, left_out: &mut Vec<String>) {
    for key in ["federatedIdentities", "clientConsents", "socialLinks"] {
        let count = user.get(key).and_then(Value::as_array).map_or(0, Vec::len);
        if count > 0 {
            left_out.push(format!("{path}.{key}: {count} left out"));
        }
    }
    for (index, credential) in user
        .get("credentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = credential
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("password");
        if kind != "password" {
            left_out.push(format!(
                "{path}.credentials[{index}]: a {kind} credential is left out"
            ));
        }
    }
}

fn parse_roles(roles: Value) -> Result<RolesRepr, String> {
    let Value::Object(mut roles) = roles else {
        return Err("roles: expected an object".into());
    };
    let realm = list::<RoleRepr>(roles.remove("realm"), "roles.realm")?;
    let client = match roles.remove("client") {
        None | Some(Value::Null) => None,
        Some(Value::Object(by_client)) => {
            let mut parsed = BTreeMap::new();
            for (client_id, roles) in by_client {
                let path = format!("roles.client.{client_id}");
                parsed.insert(
                    client_id,
                    list::<RoleRepr>(Some(roles), &path)?.unwrap_or_default(),
                );
            }
            Some(parsed)
        }
        Some(_) => return Err("roles.client: expected an object".into()),
    };
    Ok(RolesRepr { realm, client })
}

fn list<T: DeserializeOwned>(value: Option<Value>, path: &str) -> Result<Option<Vec<T>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| at(item, &format!("{path}[{index}]")))
            .collect::<Result<Vec<T>, String>>()
            .map(Some),
        Some(_) => Err(format!("{path}: expected an array")),
    }
}

/// Deserializes `value`; on failure, finds the field that fails and names its path.
fn at<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, String> {
    T::deserialize(&value).map_err(|err| {
        let failing = value
            .as_object()
            .into_iter()
            .flatten()
            .find_map(|(key, field)| {
                let alone = Value::Object(Map::from_iter([(key.clone(), field.clone())]));
                T::deserialize(&alone).err().map(|e| (key.clone(), e))
            });
        match failing {
            Some((key, e)) if path.is_empty() => format!("{key}: {e}"),
            Some((key, e)) => format!("{path}.{key}: {e}"),
            None if path.is_empty() => err.to_string(),
            None => format!("{path}: {err}"),
        }
    })
}

/// The realms of a `kc.sh export --dir` directory (or `data/import`): every `*.json` file is
/// a realm, except `{realm}-users-N.json` and `{realm}-federated-users-N.json`, whose users
/// join their realm's. Files are read in name order.
pub fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, RealmFile)>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (users_files, realm_files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| is_users_file(p));
    let mut realms = Vec::new();
    for path in realm_files {
        let file = parse(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        realms.push((path, file));
    }
    for path in users_files {
        attach_users(&path, &mut realms)?;
    }
    Ok(realms)
}

/// Reads one realm file.
pub fn read_file(path: &Path) -> Result<RealmFile, String> {
    parse(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

fn attach_users(path: &Path, realms: &mut [(PathBuf, RealmFile)]) -> Result<(), String> {
    let bytes = read(path)?;
    let name = realm_name_of(&bytes);
    let Some((_, realm)) = realms
        .iter_mut()
        .find(|(_, f)| f.repr.realm.as_deref() == name.as_deref())
    else {
        return Err(format!("{}: no realm file for its users", path.display()));
    };
    let first = realm.repr.users.as_ref().map_or(0, Vec::len);
    let (_, users) = parse_users_file(&bytes, first, &mut realm.left_out)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    realm.repr.users.get_or_insert_with(Vec::new).extend(users);
    Ok(())
}

fn realm_name_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        realm: Option<String>,
    }
    serde_json::from_slice::<Named>(bytes).ok()?.realm
}

/// `{realm}-users-N.json` or `{realm}-federated-users-N.json`.
fn is_users_file(path: &Path) -> bool {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        return false;
    };
    let Some((head, number)) = stem.rsplit_once('-') else {
        return false;
    };
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && head.ends_with("-users")
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_duplicate_keys_wins() {
        let file = parse(br#"{"realm": "first", "realm": "second", "enabled": true}"#).unwrap();
        assert_eq!(file.repr.realm.as_deref(), Some("second"));
    }

    #[test]
    fn an_error_names_its_path() {
        let err = parse(br#"{"realm": "r", "users": [{"username": "a"}, {"username": "b", "enabled": "maybe"}]}"#)
            .unwrap_err();
        assert!(err.starts_with("users[1].enabled: "), "{err}");
        let err = parse(br#"{"realm": "r", "accessTokenLifespan": "long"}"#).unwrap_err();
        assert!(err.starts_with("accessTokenLifespan: "), "{err}");
        let err =
            parse(br#"{"realm": "r", "roles": {"client": {"app": [{"name": 3}]}}}"#).unwrap_err();
        assert!(err.starts_with("roles.client.app[0].name: "), "{err}");
    }

    #[test]
    fn unknown_sections_are_kept() {
        let file = parse(br#"{"realm": "r", "authenticationFlows": [{"alias": "browser"}], "sslRequired": "none"}"#)
            .unwrap();
        assert_eq!(file.repr.kept["sslRequired"], "none");
        assert_eq!(file.repr.kept["authenticationFlows"][0]["alias"], "browser");
    }

    #[test]
    fn users_files_are_told_apart_by_name() {
        assert!(is_users_file(Path::new("shop-users-0.json")));
        assert!(is_users_file(Path::new("shop-federated-users-12.json")));
        assert!(!is_users_file(Path::new("shop-realm.json")));
        assert!(!is_users_file(Path::new("users.json")));
        assert!(!is_users_file(Path::new("my-users-x.json")));
    }

    #[test]
    fn identities_and_other_credentials_are_reported() {
        let file = parse(
            br#"{"realm": "r", "users": [{"username": "a", "federatedIdentities": [{"identityProvider": "github"}],
                "credentials": [{"type": "otp", "secretData": "{}"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            file.left_out,
            vec![
                "users[0].federatedIdentities: 1 left out".to_owned(),
                "users[0].credentials[0]: a otp credential is left out".to_owned(),
            ]
        );
    }
}

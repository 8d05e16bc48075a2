//! Realm files as Keycloak writes them: one realm with everything inside (`kc.sh export
//! --file`, the console's partial export), or a directory of `{realm}-realm.json` files with
//! their users in `{realm}-users-N.json` (`kc.sh export --dir`). JSON is read as Keycloak's
//! parser reads it: of a key given twice, the last wins. Every refusal names the JSON path of
//! what is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
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
    stream(bytes, false)?
        .pop()
        .ok_or_else(|| "a realm file must hold a JSON object".into())
}

/// Parses a file of one realm or of an array of realms (an export of every realm).
pub fn parse_many(bytes: &[u8]) -> Result<Vec<RealmFile>, String> {
    stream(bytes, true)
}

/// Reads realms straight from the text, each user as it comes: a file of many users is never
/// held as one JSON tree, only one user at a time. A refusal found on the way is kept in
/// `failure` (serde's own error would bury it in a parse error).
fn stream(bytes: &[u8], many: bool) -> Result<Vec<RealmFile>, String> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Realms {
        many,
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|realms| de.end().map(|()| realms));
    match (parsed, failure) {
        (_, Some(message)) => Err(message),
        (Ok(realms), None) => Ok(realms),
        (Err(e), None) => Err(format!("Cannot parse the JSON: {e}")),
    }
}

/// One realm object, or (when `many`) an array of them.
struct Realms<'a> {
    many: bool,
    failure: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Realms<'_> {
    type Value = Vec<RealmFile>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Realms<'_> {
    type Value = Vec<RealmFile>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a realm object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(vec![visit_realm(map, self.failure)?])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.many {
            return refuse(self.failure, "a realm file must hold a JSON object".into());
        }
        let mut realms = Vec::new();
        while let Some(realm) = seq.next_element_seed(OneRealm(&mut *self.failure))? {
            realms.push(realm);
        }
        Ok(realms)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        refuse(self.failure, "a realm file must hold a JSON object".into())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.visit_unit()
    }
}

/// One realm of an array of realms.
struct OneRealm<'a>(&'a mut Option<String>);

impl<'de> DeserializeSeed<'de> for OneRealm<'_> {
    type Value = RealmFile;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Realms {
            many: false,
            failure: self.0,
        }
        .deserialize(de)?
        .pop()
        .ok_or_else(|| de::Error::custom("a realm file must hold a JSON object"))
    }
}

/// The realm's fields: `users` read user by user, everything else as JSON for `from_fields`.
fn visit_realm<'de, A: MapAccess<'de>>(
    mut map: A,
    failure: &mut Option<String>,
) -> Result<RealmFile, A::Error> {
    let mut fields = Map::new();
    let mut users = None;
    let mut left_out = Vec::new();
    while let Some(key) = map.next_key::<String>()? {
        if key == "users" {
            left_out.clear();
            users = map.next_value_seed(Users {
                first: 0,
                left_out: &mut left_out,
                failure: &mut *failure,
            })?;
        } else {
            fields.insert(key, map.next_value::<Value>()?);
        }
    }
    match from_fields(fields, users, left_out) {
        Ok(file) => Ok(file),
        Err(message) => refuse(failure, message),
    }
}

/// A `users` array, each user checked as it is read; `null` is no users.
struct Users<'a> {
    first: usize,
    left_out: &'a mut Vec<String>,
    failure: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Users<'_> {
    type Value = Option<Vec<UserRepr>>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Users<'_> {
    type Value = Option<Vec<UserRepr>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of users")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut users = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(user) = seq.next_element::<Value>()? {
            let path = format!("users[{}]", self.first + users.len());
            note_left_out(&user, &path, self.left_out);
            match at(user, &path) {
                Ok(user) => users.push(user),
                Err(message) => return refuse(self.failure, message),
            }
        }
        Ok(Some(users))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        refuse(self.failure, "users: expected an array".into())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        refuse(self.failure, "users: expected an array".into())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        refuse(self.failure, "users: expected an array".into())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        refuse(self.failure, "users: expected an array".into())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        refuse(self.failure, "users: expected an array".into())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        refuse(self.failure, "users: expected an array".into())
    }
}

/// Records `message` as the reason and stops the parse.
fn refuse<T, E: de::Error>(failure: &mut Option<String>, message: String) -> Result<T, E> {
    *failure = Some(message.clone());
    Err(E::custom(message))
}

/// A realm from its fields other than `users`, and its users read already.
fn from_fields(
    mut fields: Map<String, Value>,
    users: Option<Vec<UserRepr>>,
    left_out: Vec<String>,
) -> Result<RealmFile, String> {
    let clients = fields.remove("clients");
    let groups = fields.remove("groups");
    let roles = fields.remove("roles");
    let mut file = RealmFile {
        repr: at(Value::Object(fields), "")?,
        left_out,
    };
    file.repr.users = users;
    file.repr.clients = list::<ClientRepr>(clients, "clients")?;
    file.repr.groups = list::<GroupRepr>(groups, "groups")?;
    if let Some(roles) = roles.filter(|r| !r.is_null()) {
        file.repr.roles = Some(parse_roles(roles)?);
    }
    Ok(file)
}

/// Parses a `{realm}-users-N.json` file: `{"realm": name, "users": [...]}`, user by user.
/// Users are numbered from `first` in error paths, as if they were in the realm file.
pub fn parse_users_file(
    bytes: &[u8],
    first: usize,
    left_out: &mut Vec<String>,
) -> Result<(String, Vec<UserRepr>), String> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = UsersFile {
        first,
        left_out,
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|file| de.end().map(|()| file));
    let (realm, users) = match (parsed, failure) {
        (_, Some(message)) => return Err(message),
        (Ok(file), None) => file,
        (Err(e), None) => return Err(format!("Cannot parse the JSON: {e}")),
    };
    Ok((realm.ok_or("a users file must name its realm")?, users))
}

/// A users file's realm name and users.
struct UsersFile<'a> {
    first: usize,
    left_out: &'a mut Vec<String>,
    failure: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for UsersFile<'_> {
    type Value = (Option<String>, Vec<UserRepr>);

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UsersFile<'_> {
    type Value = (Option<String>, Vec<UserRepr>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a users file object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut realm, mut users) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "realm" => realm = map.next_value::<Value>()?.as_str().map(str::to_owned),
                "users" => {
                    users = map.next_value_seed(Users {
                        first: self.first,
                        left_out: &mut *self.left_out,
                        failure: &mut *self.failure,
                    })?
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok((realm, users.unwrap_or_default()))
    }
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
    fn a_file_of_several_realms_reads_each_and_names_a_bad_user() {
        let realms =
            parse_many(br#"[{"realm": "a", "users": [{"username": "x"}]}, {"realm": "b"}]"#)
                .unwrap();
        assert_eq!(realms.len(), 2);
        assert_eq!(
            realms[0].repr.users.as_ref().unwrap()[0]
                .username
                .as_deref(),
            Some("x")
        );
        let err =
            parse_many(br#"[{"realm": "a"}, {"realm": "b", "users": [{}, {"enabled": []}]}]"#)
                .unwrap_err();
        assert!(err.starts_with("users[1].enabled: "), "{err}");
        assert!(parse(br#"[{"realm": "a"}]"#).is_err());
        assert!(parse_many(br#"{"realm": "a"} trailing"#)
            .unwrap_err()
            .starts_with("Cannot parse"));
    }

    #[test]
    fn a_users_file_numbers_its_users_from_first() {
        let mut left_out = Vec::new();
        let (realm, users) = parse_users_file(
            br#"{"users": [{"username": "u"}], "realm": "shop"}"#,
            50,
            &mut left_out,
        )
        .unwrap();
        assert_eq!((realm.as_str(), users.len()), ("shop", 1));
        let err = parse_users_file(
            br#"{"realm": "shop", "users": [{"username": 7}]}"#,
            50,
            &mut left_out,
        )
        .unwrap_err();
        assert!(err.starts_with("users[50].username: "), "{err}");
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

//! A JSON object that keeps its keys in the order they were written or read, for answers
//! whose key order Keycloak fixes (introspection echoes a token's claims in their order).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// An ordered JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered(Vec<(String, Value)>);

impl Ordered {
    /// Reads a JSON object, keeping its key order (`None` for anything else).
    pub fn parse(json: &[u8]) -> Option<Ordered> {
        serde_json::from_slice(json).ok()
    }

    /// Serializes a value (a struct keeps its field order) into an ordered object.
    pub fn of<T: Serialize>(value: &T) -> Option<Ordered> {
        Ordered::parse(&serde_json::to_vec(value).ok()?)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Replaces a key's value where it stands, or appends the key.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Ordered, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    entries.retain(|(k, _)| *k != key);
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_through_a_round_trip() {
        let mut object = Ordered::parse(br#"{"z":1,"a":{"y":2,"b":3},"m":null}"#).unwrap();
        object.set("a", Value::from(4));
        object.set("c", Value::from(5));
        object.remove("m");
        assert_eq!(
            serde_json::to_string(&object).unwrap(),
            r#"{"z":1,"a":4,"c":5}"#
        );
        assert!(Ordered::parse(b"[1]").is_none());
    }
}

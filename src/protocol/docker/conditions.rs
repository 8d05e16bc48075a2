//! Conditions a policy rule may add to who it applies to: the client's address (a list of
//! CIDR networks, IPv4 and IPv6) and the user's attributes (each named attribute must hold
//! one of the listed values, as docker_auth's `labels`). Both are bounded when written, so
//! checking them costs at most a few comparisons per listed network or value.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// The most networks one rule may list.
pub const MAX_NETWORKS_PER_RULE: usize = 32;
/// The most attributes one rule may name.
pub const MAX_ATTRIBUTES_PER_RULE: usize = 8;
/// The most values one attribute condition may list.
pub const MAX_VALUES_PER_ATTRIBUTE: usize = 32;
/// The longest attribute name or value a rule may hold, in characters.
pub const MAX_ATTRIBUTE_CHARS: usize = 255;

/// A network: an address and how many leading bits of it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    source: String,
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a single address (all its bits must match).
    /// Bits past the prefix are ignored, as Go's `net.ParseCIDR` does.
    pub fn parse(raw: &str) -> Result<Network, String> {
        let source = raw.trim();
        let (address, prefix) = match source.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (source, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("'{}' is not an IP address or network", shorten(source)))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(bits) => bits
                .parse::<u8>()
                .ok()
                .filter(|bits| *bits <= max)
                .ok_or_else(|| {
                    format!(
                        "'{}' has a prefix length other than 0 to {max}",
                        shorten(source)
                    )
                })?,
        };
        Ok(Network {
            source: source.to_owned(),
            address,
            prefix,
        })
    }

    /// The network as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `address` is in the network; an IPv4 address written as IPv6
    /// (`::ffff:127.0.0.1`) counts as the IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

/// A client address as the server derives it (see `login::client_ip`): an IP, possibly
/// with a port (`1.2.3.4:5`, `[::1]:5`) or in quotes, as a `Forwarded` header writes it.
pub fn parse_client_address(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = raw.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = raw.strip_prefix('[')?;
    bracketed.split_once(']')?.0.parse().ok()
}

/// Each named attribute must hold one of its listed values.
pub type AttributeConditions = BTreeMap<String, Vec<String>>;

/// Refuses attribute conditions beyond the limits, or with an empty name or value list.
pub fn check_attributes(conditions: &AttributeConditions) -> Result<(), String> {
    if conditions.len() > MAX_ATTRIBUTES_PER_RULE {
        return Err(format!(
            "a rule names at most {MAX_ATTRIBUTES_PER_RULE} attributes"
        ));
    }
    for (name, values) in conditions {
        if name.trim().is_empty() {
            return Err("an attribute condition needs a name".into());
        }
        if values.is_empty() {
            return Err(format!(
                "the attribute '{}' needs at least one value",
                shorten(name)
            ));
        }
        if values.len() > MAX_VALUES_PER_ATTRIBUTE {
            return Err(format!(
                "an attribute condition lists at most {MAX_VALUES_PER_ATTRIBUTE} values"
            ));
        }
        let too_long = |s: &String| s.chars().count() > MAX_ATTRIBUTE_CHARS;
        if too_long(name) || values.iter().any(too_long) {
            return Err(format!(
                "an attribute name or value is at most {MAX_ATTRIBUTE_CHARS} characters"
            ));
        }
    }
    Ok(())
}

/// Whether `held` (a user's attributes) meets every condition.
pub fn attributes_match(
    conditions: &AttributeConditions,
    held: &BTreeMap<String, Vec<String>>,
) -> bool {
    conditions.iter().all(|(name, wanted)| {
        held.get(name)
            .is_some_and(|values| values.iter().any(|v| wanted.contains(v)))
    })
}

/// At most 64 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn net(raw: &str) -> Network {
        Network::parse(raw).unwrap()
    }

    #[test]
    fn ipv4_networks_include_their_edges_and_nothing_past_them() {
        let n = net("10.1.0.0/16");
        assert!(n.contains(ip("10.1.0.0")));
        assert!(n.contains(ip("10.1.255.255")));
        assert!(!n.contains(ip("10.0.255.255")));
        assert!(!n.contains(ip("10.2.0.0")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!net("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(net("127.0.0.1/32").contains(ip("127.0.0.1")));
        assert!(net("192.168.1.77/24").contains(ip("192.168.1.1")));
    }

    #[test]
    fn ipv6_networks_include_their_edges_and_nothing_past_them() {
        let n = net("2001:db8::/32");
        assert!(n.contains(ip("2001:db8::")));
        assert!(n.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!n.contains(ip("2001:db9::")));
        assert!(net("::/0").contains(ip("fe80::1")));
        assert!(net("::1").contains(ip("::1")));
        assert!(!net("::1/128").contains(ip("::2")));
        assert!(net("2001:db8::1/127").contains(ip("2001:db8::")));
    }

    #[test]
    fn families_do_not_mix_except_mapped_ipv4() {
        assert!(!net("0.0.0.0/0").contains(ip("::1")));
        assert!(!net("::/0").contains(ip("127.0.0.1")));
        assert!(net("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn bad_networks_are_refused_in_words() {
        assert!(Network::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("0 to 32"));
        assert!(Network::parse("::/129").unwrap_err().contains("0 to 128"));
        assert!(Network::parse("10.0.0/8")
            .unwrap_err()
            .contains("not an IP"));
        assert!(Network::parse("").is_err());
        assert!(Network::parse("10.0.0.0/-1").is_err());
        let long = "x".repeat(10_000);
        assert!(Network::parse(&long).unwrap_err().chars().count() < 120);
    }

    #[test]
    fn client_addresses_are_read_with_or_without_ports() {
        assert_eq!(parse_client_address("127.0.0.1"), Some(ip("127.0.0.1")));
        assert_eq!(
            parse_client_address("127.0.0.1:5000"),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(parse_client_address("[::1]:5000"), Some(ip("::1")));
        assert_eq!(
            parse_client_address("\"[2001:db8::1]\""),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(parse_client_address("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_client_address("unknown"), None);
        assert_eq!(parse_client_address("[::1"), None);
    }

    #[test]
    fn attributes_need_one_listed_value_of_each_named_attribute() {
        let conditions = AttributeConditions::from([
            ("team".into(), vec!["web".into(), "ops".into()]),
            ("tier".into(), vec!["gold".into()]),
        ]);
        let held = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        assert!(attributes_match(
            &conditions,
            &held(&[("team", &["db", "ops"]), ("tier", &["gold"])])
        ));
        assert!(!attributes_match(&conditions, &held(&[("team", &["ops"])])));
        assert!(!attributes_match(
            &conditions,
            &held(&[("team", &["OPS"]), ("tier", &["gold"])])
        ));
        assert!(attributes_match(&AttributeConditions::new(), &held(&[])));
    }

    #[test]
    fn attribute_conditions_are_bounded() {
        let one =
            |name: &str, values: Vec<String>| AttributeConditions::from([(name.into(), values)]);
        assert!(check_attributes(&one("team", vec!["a".into()])).is_ok());
        assert!(check_attributes(&one("team", vec![])).is_err());
        assert!(check_attributes(&one(" ", vec!["a".into()])).is_err());
        assert!(check_attributes(&one("team", vec!["a".into(); 33])).is_err());
        assert!(check_attributes(&one("team", vec!["a".repeat(256)])).is_err());
        let many: AttributeConditions = (0..9)
            .map(|i| (format!("a{i}"), vec!["v".into()]))
            .collect();
        assert!(check_attributes(&many).is_err());
    }
}

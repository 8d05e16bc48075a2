//! Repository globs of the access policy, matched in time linear in pattern x name.
//!
//! `*` and `?` stay within one path segment, `**` crosses `/`; `${username}`, `${group}` and
//! `${attr:NAME}` stand for a value that is taken literally (never as glob characters). A
//! pattern binds at most one of `${group}` and `${attr:NAME}`, tried with each of the user's
//! groups or each value of the attribute. Matching walks the
//! pattern once, token by token, over the set of name positions reachable so far, kept as a
//! bit set: every token costs a few word operations per 64 characters of the name. There is
//! no recursion and no backtracking, so no pattern can make a match slow or deep.

/// The longest repository pattern a policy may hold, in characters.
pub const MAX_PATTERN_CHARS: usize = 512;

/// A compiled repository glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyInSegment,
    AnyAcrossSegments,
    OneChar,
    Username,
    Group,
    Attribute(String),
}

/// The longest attribute name a `${attr:NAME}` placeholder may hold.
const MAX_ATTRIBUTE_NAME: usize = 64;

/// What a pattern's one multi-valued placeholder is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    /// No `${group}` nor `${attr:NAME}`.
    None,
    /// `${group}`: each of the user's group names.
    Group,
    /// `${attr:NAME}`: each value of the user's attribute NAME.
    Attribute(&'a str),
}

impl Pattern {
    /// Compiles a glob; `${...}` must be `${username}`, `${group}` or `${attr:NAME}` (NAME of
    /// letters, digits, `_`, `-` and `.`), and a pattern binds at most one of the latter two.
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let source = source.trim();
        if source.is_empty() {
            return Err("a repository pattern must not be empty".into());
        }
        let mut tokens = Vec::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("${username}") {
                tokens.push(Token::Username);
                rest = after;
            } else if let Some(after) = rest.strip_prefix("${group}") {
                tokens.push(Token::Group);
                rest = after;
            } else if let Some(after) = rest.strip_prefix("${attr:") {
                let (name, after) = attribute_name(after)
                    .ok_or_else(|| format!("'{source}': ${{attr:NAME}} needs NAME of up to {MAX_ATTRIBUTE_NAME} letters, digits, '_', '-' or '.'"))?;
                tokens.push(Token::Attribute(name.to_owned()));
                rest = after;
            } else if rest.starts_with("${") {
                return Err(format!(
                    "unknown placeholder in '{source}': only ${{username}}, ${{group}} and ${{attr:NAME}} exist"
                ));
            } else if let Some(after) = rest.strip_prefix("**") {
                tokens.push(Token::AnyAcrossSegments);
                rest = after;
            } else {
                tokens.push(match c {
                    '*' => Token::AnyInSegment,
                    '?' => Token::OneChar,
                    other => Token::Literal(other),
                });
                rest = &rest[c.len_utf8()..];
            }
        }
        let pattern = Pattern {
            source: source.to_owned(),
            tokens,
        };
        let bindings = pattern.tokens.iter().filter_map(Token::binding);
        if bindings.clone().any(|b| Some(b) != bindings.clone().next()) {
            return Err(format!(
                "'{source}' binds more than one of ${{group}} and ${{attr:NAME}}: a pattern uses one"
            ));
        }
        Ok(pattern)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Refuses a pattern longer than [`MAX_PATTERN_CHARS`].
    pub fn check_length(&self) -> Result<(), String> {
        if self.source.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "a repository pattern is at most {MAX_PATTERN_CHARS} characters"
            ));
        }
        Ok(())
    }

    /// The pattern's multi-valued placeholder, if any.
    pub fn binding(&self) -> Binding<'_> {
        self.tokens
            .iter()
            .find_map(Token::binding)
            .unwrap_or(Binding::None)
    }

    /// Matches `name` with the placeholders bound (`bound` is the value of the pattern's
    /// [`Binding`]); a pattern with a placeholder whose value is missing or empty never
    /// matches.
    pub fn matches(&self, name: &Name, username: Option<&str>, bound: Option<&str>) -> bool {
        let mut reached = Positions::start(name);
        for token in &self.tokens {
            match token {
                Token::Literal(c) => reached.step_char(name, *c),
                Token::OneChar => reached.step_masked(&name.not_slash),
                Token::AnyInSegment => reached.extend_within_segment(&name.not_slash),
                Token::AnyAcrossSegments => reached.extend_to_end(name.len),
                Token::Username | Token::Group | Token::Attribute(_) => {
                    let value = if *token == Token::Username {
                        username
                    } else {
                        bound
                    };
                    let Some(value) = value.filter(|v| !v.is_empty()) else {
                        return false;
                    };
                    for c in value.chars() {
                        reached.step_char(name, c);
                    }
                }
            }
            if reached.is_empty() {
                return false;
            }
        }
        reached.contains(name.len)
    }
}

impl Token {
    fn binding(&self) -> Option<Binding<'_>> {
        match self {
            Token::Group => Some(Binding::Group),
            Token::Attribute(name) => Some(Binding::Attribute(name)),
            _ => None,
        }
    }
}

/// The attribute name at the start of `rest` (up to its `}`), and what follows the `}`.
fn attribute_name(rest: &str) -> Option<(&str, &str)> {
    let (name, after) = rest.split_once('}')?;
    let valid = !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then_some((name, after))
}

/// A repository name prepared for matching against many patterns: for each character
/// present, the set of positions holding it.
#[derive(Debug)]
pub struct Name {
    chars: Vec<char>,
    len: usize,
    words: usize,
    /// Positions `j < len` whose character is not `/`.
    not_slash: Vec<u64>,
    /// For an ASCII character, 1 + its slot in `ascii_masks` (0: absent from the name).
    ascii_slot: [u8; 128],
    ascii_masks: Vec<u64>,
}

impl Name {
    /// Prepares `name`; costs O(length + distinct ASCII characters x length / 64).
    pub fn new(name: &str) -> Name {
        let chars: Vec<char> = name.chars().collect();
        let len = chars.len();
        let words = len / 64 + 1;
        let mut not_slash = vec![0u64; words];
        let mut ascii_slot = [0u8; 128];
        let mut ascii_masks = Vec::new();
        for (j, c) in chars.iter().enumerate() {
            if *c != '/' {
                set_bit(&mut not_slash, j);
            }
            if let Ok(byte) = u8::try_from(*c) {
                if let Some(slot) = ascii_slot.get_mut(usize::from(byte)) {
                    if *slot == 0 {
                        ascii_masks.resize(ascii_masks.len() + words, 0);
                        *slot = u8::try_from(ascii_masks.len() / words).unwrap_or(u8::MAX);
                    }
                    let start = (usize::from(*slot) - 1) * words;
                    set_bit(&mut ascii_masks[start..start + words], j);
                }
            }
        }
        Name {
            chars,
            len,
            words,
            not_slash,
            ascii_slot,
            ascii_masks,
        }
    }

    /// The positions holding the ASCII character `c`, or `None` when `c` is not ASCII.
    fn ascii_mask(&self, c: char) -> Option<Option<&[u64]>> {
        let byte = u8::try_from(c).ok().filter(u8::is_ascii)?;
        let slot = usize::from(self.ascii_slot[usize::from(byte)]);
        Some((slot > 0).then(|| &self.ascii_masks[(slot - 1) * self.words..slot * self.words]))
    }
}

/// The set of name positions `j` such that the tokens seen so far match `name[..j]`.
struct Positions {
    bits: Vec<u64>,
}

impl Positions {
    fn start(name: &Name) -> Positions {
        let mut bits = vec![0u64; name.words];
        bits[0] = 1;
        Positions { bits }
    }

    fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    fn contains(&self, position: usize) -> bool {
        self.bits
            .get(position / 64)
            .is_some_and(|w| w >> (position % 64) & 1 == 1)
    }

    /// Consumes one character equal to `c`.
    fn step_char(&mut self, name: &Name, c: char) {
        match name.ascii_mask(c) {
            Some(Some(mask)) => self.step_masked(mask),
            Some(None) => self.bits.fill(0),
            None => self.step_non_ascii(name, c),
        }
    }

    /// Consumes one character at the positions in `mask`: `j` becomes `j + 1`.
    fn step_masked(&mut self, mask: &[u64]) {
        let mut carry = 0;
        for (word, m) in self.bits.iter_mut().zip(mask) {
            let kept = *word & m;
            *word = (kept << 1) | carry;
            carry = kept >> 63;
        }
    }

    /// Like `step_masked` for a character with no precomputed mask: visits reached positions.
    fn step_non_ascii(&mut self, name: &Name, c: char) {
        let mut carry = 0;
        for (index, word) in self.bits.iter_mut().enumerate() {
            let mut kept = 0u64;
            let mut rest = *word;
            while rest != 0 {
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if name.chars.get(index * 64 + bit) == Some(&c) {
                    kept |= 1 << bit;
                }
            }
            *word = (kept << 1) | carry;
            carry = kept >> 63;
        }
    }

    /// `*`: from each reached position, every later one up to the next `/` (or the end).
    /// Adding the reached positions to the runs of non-`/` characters carries each one to
    /// the end of its run; the bits that flipped are the positions crossed.
    fn extend_within_segment(&mut self, not_slash: &[u64]) {
        let mut carry = 0u64;
        for (word, run) in self.bits.iter_mut().zip(not_slash) {
            let starts = *word & run;
            let (sum, overflow_a) = run.overflowing_add(starts);
            let (sum, overflow_b) = sum.overflowing_add(carry);
            carry = u64::from(overflow_a || overflow_b);
            *word |= (sum ^ run) | starts;
        }
    }

    /// `**`: every position from the first reached one to the end of the name.
    fn extend_to_end(&mut self, len: usize) {
        let Some(first) = self.bits.iter().position(|w| *w != 0) else {
            return;
        };
        let lowest = self.bits[first] & self.bits[first].wrapping_neg();
        self.bits[first] |= !(lowest - 1);
        for word in &mut self.bits[first + 1..] {
            *word = u64::MAX;
        }
        let last = self.bits.len() - 1;
        let used = len % 64 + 1;
        if used < 64 {
            self.bits[last] &= (1u64 << used) - 1;
        }
    }
}

fn set_bit(bits: &mut [u64], position: usize) {
    bits[position / 64] |= 1 << (position % 64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::parse(pattern)
            .unwrap()
            .matches(&Name::new(name), None, None)
    }

    /// The plain backtracking definition, exponential but obviously right on small inputs.
    fn reference(
        tokens: &[Token],
        name: &[char],
        username: Option<&str>,
        group: Option<&str>,
    ) -> bool {
        let Some((token, rest)) = tokens.split_first() else {
            return name.is_empty();
        };
        let literal = |value: Option<&str>| {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                return false;
            };
            let value: Vec<char> = value.chars().collect();
            name.starts_with(&value) && reference(rest, &name[value.len()..], username, group)
        };
        match token {
            Token::Literal(c) => {
                name.first() == Some(c) && reference(rest, &name[1..], username, group)
            }
            Token::OneChar => {
                name.first().is_some_and(|c| *c != '/')
                    && reference(rest, &name[1..], username, group)
            }
            Token::AnyInSegment => {
                let end = name.iter().position(|c| *c == '/').unwrap_or(name.len());
                (0..=end).any(|skip| reference(rest, &name[skip..], username, group))
            }
            Token::AnyAcrossSegments => {
                (0..=name.len()).any(|skip| reference(rest, &name[skip..], username, group))
            }
            Token::Username => literal(username),
            Token::Group | Token::Attribute(_) => literal(group),
        }
    }

    #[test]
    fn globs_keep_their_meaning() {
        assert!(matches("library/*", "library/alpine"));
        assert!(!matches("library/*", "library/a/b"));
        assert!(matches("library/**", "library/a/b"));
        assert!(matches("**", ""));
        assert!(matches("*", ""));
        assert!(!matches("?", ""));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "a/c"));
        assert!(matches("**/cache/**/latest", "x/cache/y/z/latest"));
        assert!(!matches("**/cache/**/latest", "x/cache/latest"));
        assert!(matches("é*/ü", "ééé/ü"));
    }

    #[test]
    fn placeholders_are_literal_not_globs() {
        let p = Pattern::parse("${username}/app").unwrap();
        assert!(!p.matches(&Name::new("xx/app"), Some("*"), None));
        assert!(p.matches(&Name::new("*/app"), Some("*"), None));
        assert!(!p.matches(&Name::new("/app"), Some(""), None));
        assert!(!p.matches(&Name::new("x/app"), None, None));
    }

    #[test]
    fn an_attribute_placeholder_binds_one_value_at_a_time() {
        let p = Pattern::parse("${attr:team}/**").unwrap();
        assert_eq!(p.binding(), Binding::Attribute("team"));
        assert!(p.matches(&Name::new("web/app"), Some("alice"), Some("web")));
        assert!(!p.matches(&Name::new("web/app"), Some("alice"), Some("w*")));
        assert!(!p.matches(&Name::new("/app"), Some("alice"), Some("")));
        let twice = Pattern::parse("${attr:team}/${attr:team}-*").unwrap();
        assert!(twice.matches(&Name::new("ops/ops-db"), None, Some("ops")));
        assert_eq!(
            Pattern::parse("${group}/*").unwrap().binding(),
            Binding::Group
        );
        assert_eq!(Pattern::parse("lib/*").unwrap().binding(), Binding::None);
    }

    #[test]
    fn attribute_placeholders_are_checked_when_written() {
        for bad in ["${attr:}/x", "${attr:a b}/x", "${attr:team", "${attr:t/x}"] {
            let err = Pattern::parse(bad).unwrap_err();
            assert!(err.contains("${attr:NAME} needs NAME"), "{bad}: {err}");
        }
        let long = format!("${{attr:{}}}", "a".repeat(MAX_ATTRIBUTE_NAME + 1));
        assert!(Pattern::parse(&long).is_err());
        for both in ["${group}/${attr:team}", "${attr:a}/${attr:b}"] {
            let err = Pattern::parse(both).unwrap_err();
            assert!(err.contains("binds more than one"), "{both}: {err}");
        }
        let err = Pattern::parse("${labels:team}").unwrap_err();
        assert!(err.contains("${attr:NAME}"), "{err}");
    }

    #[test]
    fn positions_cross_word_boundaries() {
        let long = format!("{}/{}", "a".repeat(100), "b".repeat(100));
        assert!(matches("*/*", &long));
        assert!(matches("**b", &long));
        assert!(!matches("*", &long));
        assert!(matches(&format!("{}/**", "?".repeat(100)), &long));
        assert!(!matches(&format!("{}/**", "?".repeat(99)), &long));
    }

    #[test]
    fn patterns_that_backtrack_exponentially_answer_at_once() {
        let started = Instant::now();
        let name = format!("{}y", "a/".repeat(159));
        assert!(!matches("**/**/**/**/**/x", &name));
        let huge = format!("{}x", "cache/".repeat(224 * 1024 / 6));
        assert!(!matches("**/cache/**/latest", &huge));
        let stars = "*".repeat(40_000);
        assert!(matches(&stars, "a"));
        assert!(!matches(
            &format!("{}b", "*a".repeat(256)),
            &"a".repeat(255)
        ));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn long_patterns_are_refused_when_written() {
        let p = Pattern::parse(&"*".repeat(MAX_PATTERN_CHARS + 1)).unwrap();
        assert!(p.check_length().unwrap_err().contains("at most 512"));
        assert!(Pattern::parse(&"é".repeat(MAX_PATTERN_CHARS))
            .unwrap()
            .check_length()
            .is_ok());
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(
            pattern in "([ab/?é]|\\*|\\*\\*|\\$\\{username\\}|\\$\\{group\\}){1,8}",
            name in "[ab/é*]{0,10}",
            username in proptest::option::of("[ab/*]{0,2}"),
            group in proptest::option::of("[ab/?]{0,2}"),
        ) {
            let compiled = Pattern::parse(&pattern).unwrap();
            let chars: Vec<char> = name.chars().collect();
            let expected = reference(&compiled.tokens, &chars, username.as_deref(), group.as_deref());
            let got = compiled.matches(&Name::new(&name), username.as_deref(), group.as_deref());
            prop_assert_eq!(got, expected, "{} vs {}", pattern, name);
        }

        #[test]
        fn agrees_with_the_reference_past_one_word(
            pattern in "([a/?]|\\*|\\*\\*){1,6}",
            name in "[a/]{60,70}",
        ) {
            let compiled = Pattern::parse(&pattern).unwrap();
            let chars: Vec<char> = name.chars().collect();
            let expected = reference(&compiled.tokens, &chars, None, None);
            prop_assert_eq!(compiled.matches(&Name::new(&name), None, None), expected);
        }

        #[test]
        fn star_never_crosses_a_slash(a in "[a-z]{1,5}", b in "[a-z]{1,5}") {
            prop_assert!(matches("*", &a));
            let joined = format!("{a}/{b}");
            prop_assert!(!matches("*", &joined));
        }
    }
}

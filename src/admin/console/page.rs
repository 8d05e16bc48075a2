//! What every console page shares: the layout (header, realm switcher, navigation, flash
//! banner), rendering with the right headers, paging links, and readable dates and durations.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

use super::error::ConsoleError;
use super::session::{Console, Flash};
use crate::admin::ops::access::{
    ManageClients, ManageEvents, ManageRealm, ManageUsers, ViewClients, ViewEvents, ViewRealm,
    ViewUsers,
};
use crate::domain::Realm;
use crate::http::Base;

/// Root-relative paths the pages link to.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The console of the realm signed in to, e.g. `/auth/admin/master/console`.
    pub root: String,
    /// Where the console's CSS, JS and images are served, e.g. `/auth/resources/console/1a2b3c4d`.
    pub assets: String,
}

impl Paths {
    /// The paths of `home`'s console under the request's base.
    pub fn of(base: &Base, home: &str) -> Paths {
        let prefix = url::Url::parse(base.as_str())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Paths {
            root: format!("{prefix}/admin/{home}/console"),
            assets: format!("{prefix}{}", super::assets::path_prefix()),
        }
    }

    /// The console's pages about realm `target`.
    pub fn realm(&self, target: &str) -> String {
        format!("{}/{target}", self.root)
    }
}

/// The realm a page is about, and which sections the signed-in admin may open there.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The display name, else the name.
    pub title: String,
    /// `{root}/{realm}`, the prefix of every page about the realm.
    pub path: String,
    pub view_realm: bool,
    pub manage_realm: bool,
    pub view_users: bool,
    pub manage_users: bool,
    pub view_clients: bool,
    pub manage_clients: bool,
    pub view_events: bool,
    pub manage_events: bool,
}

impl Target {
    /// The target with the actor's rights over it.
    pub fn new(console: &Console, realm: &Realm) -> Target {
        let actor = &console.actor;
        Target {
            name: realm.name.to_string(),
            title: realm
                .display_name
                .clone()
                .unwrap_or_else(|| realm.name.to_string()),
            path: console.paths.realm(realm.name.as_str()),
            view_realm: actor.may::<ViewRealm>(realm),
            manage_realm: actor.may::<ManageRealm>(realm),
            view_users: actor.may::<ViewUsers>(realm),
            manage_users: actor.may::<ManageUsers>(realm),
            view_clients: actor.may::<ViewClients>(realm),
            manage_clients: actor.may::<ManageClients>(realm),
            view_events: actor.may::<ViewEvents>(realm),
            manage_events: actor.may::<ManageEvents>(realm),
        }
    }
}

/// The frame around every signed-in page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub paths: Paths,
    pub csrf: String,
    pub username: String,
    pub home_realm: String,
    /// The realms the admin can switch to.
    pub realms: Vec<String>,
    pub may_create_realms: bool,
    /// The realm the page is about, if any.
    pub target: Option<Target>,
    /// Which navigation entry is current (`settings`, `users`, `clients`, ...).
    pub section: &'static str,
    pub flash: Option<Flash>,
}

impl Layout {
    /// The current target; pages about a realm always have one.
    pub fn realm(&self) -> &Target {
        self.target
            .as_ref()
            .expect("a realm page is built with its target")
    }
}

/// Renders a page with status 200.
pub fn render(console: &Console, page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    render_status(console, page, StatusCode::OK)
}

/// Renders a page: HTML, never cached, and the flash message consumed.
pub fn render_status(
    console: &Console,
    page: &impl Template,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let body = page
        .render()
        .map_err(|e| ConsoleError::Internal(e.into()))?;
    let mut response = html(status, body);
    if console.flash.is_some() {
        crate::http::cookies::set(&mut response, &console.flash_removal());
    }
    Ok(response)
}

/// An HTML response that no cache keeps.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// `303 See Other` to a path (after a POST, or to the sign-in page).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Links to the previous and next page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// 1-based.
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Rows to skip and rows to fetch for page `page` of `size` (one more than shown, to
    /// learn whether a next page exists without counting).
    pub fn window(page: Option<i64>, size: i64) -> (i64, i64, i64) {
        let page = page.unwrap_or(1).clamp(1, 1_000_000);
        ((page - 1) * size, size + 1, page)
    }

    /// The pager for `page`, trimming the look-ahead row from `rows`. `query` holds the
    /// listing's other parameters, kept in the links.
    pub fn build<T>(
        path: &str,
        query: &[(&str, &str)],
        page: i64,
        size: i64,
        rows: &mut Vec<T>,
    ) -> Pager {
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let link = |page: i64| {
            let mut serializer = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in query.iter().filter(|(_, v)| !v.is_empty()) {
                serializer.append_pair(name, value);
            }
            if page > 1 {
                serializer.append_pair("page", &page.to_string());
            }
            let query = serializer.finish();
            if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            }
        };
        Pager {
            page,
            prev: (page > 1).then(|| link(page - 1)),
            next: more.then(|| link(page + 1)),
        }
    }

    /// Whether there is more than one page.
    pub fn shown(&self) -> bool {
        self.prev.is_some() || self.next.is_some()
    }
}

/// A readable UTC date and time for epoch milliseconds, e.g. `2025-01-31 14:05 UTC`.
pub fn datetime_ms(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// A readable UTC date and time to the second for epoch milliseconds, e.g.
/// `2026-11-30 22:20:05 UTC`: what tells two sign-ins or events of one minute apart.
pub fn moment_ms(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// [`moment_ms`] for epoch seconds.
pub fn moment(secs: i64) -> String {
    moment_ms(secs.saturating_mul(1000))
}

/// A readable UTC date and time for epoch seconds.
pub fn datetime(secs: i64) -> String {
    datetime_ms(secs.saturating_mul(1000))
}

/// A duration in words, e.g. `5 minutes`, `1 hour 30 minutes`, `30 days`.
pub fn duration(secs: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if secs <= 0 {
        return "0 seconds".into();
    }
    let mut rest = secs;
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let count = rest / size;
        if count > 0 && parts.len() < 2 {
            parts.push(format!(
                "{count} {name}{}",
                if count == 1 { "" } else { "s" }
            ));
            rest %= size;
        }
    }
    parts.join(" ")
}

/// Units a typed duration may use, largest first, with their length in seconds.
const DURATION_UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
/// The longest duration typed into a form: ten years.
const MAX_TYPED_DURATION: i64 = crate::domain::setting_ranges::TEN_YEARS_SECS;

/// A duration as the console's forms show it, e.g. `5m`, `1h30m`, `2d`, `45s`, `0`.
pub fn short_duration(secs: i64) -> String {
    if secs <= 0 {
        return "0".into();
    }
    let mut rest = secs;
    let mut out = String::new();
    for (unit, size) in DURATION_UNITS {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Parses a typed duration into seconds: plain seconds (`300`) or numbers with units
/// (`30s`, `5m`, `1h`, `2d`, `1h30m`, spaces allowed between parts), at most ten years.
pub fn parse_duration(raw: &str) -> Option<i64> {
    let text: String = raw.trim().to_lowercase();
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().filter(|s| *s <= MAX_TYPED_DURATION);
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut last_unit = usize::MAX;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let index = DURATION_UNITS.iter().position(|(u, _)| *u == c)?;
        // Each unit once, largest first (`1h30m`, not `30m1h`).
        if number.is_empty() || (last_unit != usize::MAX && index <= last_unit) {
            return None;
        }
        last_unit = index;
        let count: i64 = number.parse().ok()?;
        total = total.checked_add(count.checked_mul(DURATION_UNITS[index].1)?)?;
        number.clear();
    }
    (number.is_empty() && total <= MAX_TYPED_DURATION).then_some(total)
}

/// Parses an HTML date input (`YYYY-MM-DD`) into the epoch millisecond its UTC day starts.
pub fn parse_date_ms(raw: &str) -> Option<i64> {
    let mut parts = raw.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(300), "5 minutes");
        assert_eq!(duration(5400), "1 hour 30 minutes");
        assert_eq!(duration(2_592_000), "30 days");
        assert_eq!(duration(61), "1 minute 1 second");
    }

    #[test]
    fn typed_durations_take_units_or_plain_seconds() {
        for (typed, secs) in [
            ("300", 300),
            ("30s", 30),
            ("5m", 300),
            ("1h", 3600),
            ("2d", 172_800),
            ("1h30m", 5400),
            (" 1d 2h ", 93_600),
            ("5M", 300),
            ("0", 0),
        ] {
            assert_eq!(parse_duration(typed), Some(secs), "{typed}");
        }
        for bad in [
            "", "5x", "m", "30m1h", "1h1h", "-5", "1.5h", "99999d", "5m3",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_are_shown_back_in_the_form_they_are_typed() {
        for secs in [0, 30, 300, 3600, 5400, 172_800, 93_661, 36_000] {
            let shown = short_duration(secs);
            assert_eq!(parse_duration(&shown), Some(secs), "{shown}");
        }
        assert_eq!(short_duration(300), "5m");
        assert_eq!(short_duration(5400), "1h30m");
        assert_eq!(short_duration(172_800), "2d");
    }

    #[test]
    fn dates_are_utc_and_readable() {
        assert_eq!(datetime_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(moment_ms(61_999), "1970-01-01 00:01:01 UTC");
        assert_eq!(moment(86_399), "1970-01-01 23:59:59 UTC");
        assert_eq!(parse_date_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date_ms("1970-13-02"), None);
        assert_eq!(parse_date_ms("yesterday"), None);
    }

    #[test]
    fn pager_looks_one_row_ahead_and_keeps_the_query() {
        let (first, max, page) = Pager::window(Some(2), 20);
        assert_eq!((first, max, page), (20, 21, 2));
        let mut rows: Vec<i32> = (0..21).collect();
        let pager = Pager::build("/u", &[("q", "a b"), ("x", "")], page, 20, &mut rows);
        assert_eq!(rows.len(), 20);
        assert_eq!(pager.prev.as_deref(), Some("/u?q=a+b"));
        assert_eq!(pager.next.as_deref(), Some("/u?q=a+b&page=3"));
    }
}

//! Passwords of connection strings are never printed: [`redact_url`] is the
//! form of a `--store` URL that messages show, and [`Secrets`] scrubs the
//! passwords a process was given out of any text (an error a client library
//! made from the URL, a log line) before it is written.
//!
//! A password is found where libpq and the KurrentDB client take it from:
//! the user info (`scheme://user:password@host`) and a `password=` parameter.

use std::fmt;

/// What a password is shown as.
const HIDDEN: &str = "***";

/// The parts of `url` that hold its password: `(start, end)` byte ranges.
fn password_ranges(url: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return ranges };
    let query_start = url[scheme_end..].find('?').map_or(url.len(), |i| scheme_end + i);
    if let Some(at) = url[scheme_end..query_start].rfind('@').map(|i| scheme_end + i)
        && let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i)
    {
        ranges.push((colon + 1, at));
    }
    let mut start = query_start + 1;
    while start < url.len() {
        let end = url[start..].find('&').map_or(url.len(), |i| start + i);
        if let Some(value) = url[start..end].strip_prefix("password=") {
            ranges.push((end - value.len(), end));
        }
        start = end + 1;
    }
    ranges
}

/// `url` with its password (if any) shown as `***`: the form every message
/// and log line names a store by.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut from = 0;
    for (start, end) in password_ranges(url) {
        out.push_str(&url[from..start]);
        out.push_str(HIDDEN);
        from = end;
    }
    out.push_str(&url[from..]);
    out
}

/// `%XX` sequences decoded (the form a client library may echo a password in).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The passwords a process must never print, as given and percent-decoded.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// The passwords of these connection strings (other values have none).
    pub fn of_urls<'a>(urls: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets = Vec::new();
        for url in urls {
            for (start, end) in password_ranges(url) {
                let raw = &url[start..end];
                for secret in [raw.to_owned(), percent_decoded(raw)] {
                    if !secret.is_empty() && !secrets.contains(&secret) {
                        secrets.push(secret);
                    }
                }
            }
        }
        // The longest first, so that a password containing another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Secrets(secrets)
    }

    /// `text` with every occurrence of a password shown as `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), HIDDEN);
            }
        }
        text
    }

    /// Whether there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} hidden)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_lose_their_password_in_user_info_and_parameters() {
        assert_eq!(redact_url("postgres://gl:s3cret@db:5432/city?schema=x"), "postgres://gl:***@db:5432/city?schema=x");
        assert_eq!(
            redact_url("postgresql://gl@db/city?sslmode=disable&password=s3cret&schema=x"),
            "postgresql://gl@db/city?sslmode=disable&password=***&schema=x"
        );
        assert_eq!(redact_url("postgres://gl@db/city"), "postgres://gl@db/city", "no password, nothing changes");
        assert_eq!(redact_url("postgres://g%40l:p%40ss%3Aw@db/city"), "postgres://g%40l:***@db/city");
        assert_eq!(redact_url("embedded"), "embedded");
    }

    #[test]
    fn kurrentdb_urls_lose_their_password_with_several_hosts() {
        assert_eq!(
            redact_url("kurrentdb+discover://admin:changeit@node1:2113,node2:2113?tls=true&stream=city"),
            "kurrentdb+discover://admin:***@node1:2113,node2:2113?tls=true&stream=city"
        );
        assert_eq!(redact_url("esdb://node1:2113?tls=false"), "esdb://node1:2113?tls=false");
    }

    #[test]
    fn secrets_are_scrubbed_from_any_text_as_given_and_decoded() {
        let secrets = Secrets::of_urls([
            "postgres://gl:p%40ss-w0rd@db/city",
            "kurrentdb://admin:changeit@node1:2113?tls=false",
            "postgres://gl@db/city?password=other-secret",
            "/var/lib/govledger",
        ]);
        let text = "auth failed for p%40ss-w0rd (p@ss-w0rd); kurrentdb://admin:changeit@node1 other-secret";
        let scrubbed = secrets.scrub(text);
        assert_eq!(scrubbed, "auth failed for *** (***); kurrentdb://admin:***@node1 ***");
        assert_eq!(format!("{secrets:?}"), "Secrets(4 hidden)");
        assert!(Secrets::of_urls(["postgres://gl@db/city"]).is_empty());
        assert_eq!(Secrets::default().scrub("unchanged"), "unchanged");
    }
}

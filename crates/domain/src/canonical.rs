//! The canonical byte layout of a stored event (SPEC 2.2): RFC 8785 of the
//! envelope without `hash`, the bytes that are hashed and that every store
//! keeps. Written here ([`write_prefix`], [`write_value`], [`write_tail`])
//! and read back here without a JSON parser ([`Tail`], [`EventView`]), so the
//! layout has one owner.
//!
//! RFC 8785 orders an object's members by key, so the envelope's fixed keys
//! always come in the order `actor, data, id, occurred_at, prev_hash,
//! recorded_at, seq, type`; its values are written with serde_json's string
//! and integer writers, whose escaping and number forms are those of RFC 8785
//! (lowercase `\u00xx` for control characters, nothing else escaped; integers
//! below 2^53 in plain decimal). Only `data`, whose keys vary, needs
//! canonicalizing ([`write_value`]). The body up to the value of
//! `occurred_at` does not depend on the event's place in the chain, which is
//! why it is written apart from the rest.
//!
//! This module knows the bytes only; hashing them is the ledger's.

use uuid::Uuid;

/// Writes `s` as a JSON string: serde_json's escaping is RFC 8785's.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes the start of a canonical body, up to and including the value of
/// `occurred_at` (`{"actor":…,"data":…,"id":…,"occurred_at":…`): the part
/// that does not depend on the event's place in the chain.
pub fn write_prefix(out: &mut Vec<u8>, actor: &str, data: &serde_json::Value, id: Uuid, occurred_at: &str) {
    out.extend_from_slice(b"{\"actor\":");
    write_json_string(out, actor);
    out.extend_from_slice(b",\"data\":");
    write_value(out, data);
    out.extend_from_slice(b",\"id\":\"");
    out.extend_from_slice(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes());
    out.extend_from_slice(b"\",\"occurred_at\":");
    write_json_string(out, occurred_at);
}

/// Writes the end of a canonical body, from `prev_hash` on (the keys after
/// `occurred_at`, in RFC 8785 order), closing the object.
pub fn write_tail(out: &mut Vec<u8>, prev_hash: &str, recorded_at: &str, seq: u64, event_type: &str) {
    out.extend_from_slice(b",\"prev_hash\":");
    write_json_string(out, prev_hash);
    out.extend_from_slice(b",\"recorded_at\":");
    write_json_string(out, recorded_at);
    out.extend_from_slice(b",\"seq\":");
    // serde_json writes integers in plain decimal; a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &seq);
    out.extend_from_slice(b",\"type\":");
    write_json_string(out, event_type);
    out.push(b'}');
}

/// Writes `value` in its RFC 8785 form.
///
/// For most values serde_json's compact writer already writes exactly those
/// bytes: it escapes strings as RFC 8785 section 3.2.2.2 asks and writes
/// integers in plain decimal. What it does not do is sort keys by UTF-16 code
/// units or write numbers as ECMAScript doubles. So a value whose objects
/// have ASCII keys (where UTF-16 order is byte order) already in ascending
/// order, and whose numbers are integers within ±2^53 (exact as doubles,
/// which ECMAScript writes in plain decimal), is written by serde_json, much
/// faster; catalog payloads always qualify. Anything else is written by
/// `serde_json_canonicalizer`.
pub fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    // Writing into a Vec cannot fail, nor can canonicalizing a Value (its
    // numbers are finite and its keys strings).
    if serde_json_writes_canonically(value) {
        let _ = serde_json::to_writer(&mut *out, value);
    } else {
        let _ = serde_json_canonicalizer::to_writer(value, &mut *out);
    }
}

/// Whether serde_json's compact form of `value` is its RFC 8785 form (see
/// [`write_value`]).
pub fn serde_json_writes_canonically(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    /// 2^53: integers up to this magnitude are exact as doubles.
    const EXACT: u64 = 1 << 53;
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => {
            n.as_u64().is_some_and(|u| u <= EXACT) || n.as_i64().is_some_and(|i| i.unsigned_abs() <= EXACT)
        }
        Value::Array(items) => items.iter().all(serde_json_writes_canonically),
        Value::Object(map) => {
            let mut previous: Option<&str> = None;
            map.iter().all(|(key, item)| {
                let in_order = key.is_ascii() && previous.is_none_or(|p| p < key.as_str());
                previous = Some(key);
                in_order && serde_json_writes_canonically(item)
            })
        }
    }
}

/// The fields at the end of a canonical body. RFC 8785 sorts keys, so a body
/// always ends `"id":…,"occurred_at":…,"prev_hash":…,"recorded_at":…,"seq":N,"type":…}`
/// with values that contain no quotes; reading them from the end avoids
/// parsing the payload, which keeps a chain check close to the speed of
/// hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail<'a> {
    pub id: &'a str,
    pub prev_hash: &'a str,
    pub recorded_at: &'a str,
    pub seq: u64,
    pub event_type: &'a str,
}

impl<'a> Tail<'a> {
    /// Reads the tail of a canonical body; `None` if it is not of that shape.
    pub fn parse(body: &'a [u8]) -> Option<Tail<'a>> {
        split_tail(body).map(|(_, _, tail)| tail)
    }
}

/// A canonical body read in place: every envelope field borrowed from the
/// body, and `data` as its canonical JSON text, unparsed. What a reader of
/// many stored events (a projection's rebuild) starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventView<'a> {
    pub actor: &'a str,
    /// The payload's canonical JSON text.
    pub data: &'a str,
    pub id: &'a str,
    pub occurred_at: &'a str,
    pub prev_hash: &'a str,
    pub recorded_at: &'a str,
    pub seq: u64,
    pub event_type: &'a str,
}

impl<'a> EventView<'a> {
    /// Reads a canonical body; `None` if it is not of that shape, or if an
    /// envelope string holds an escape (no event govledger writes has one:
    /// agency ids, event ids, timestamps, hashes and type names are plain
    /// ASCII), so that every field is the value itself. `data` is not
    /// checked beyond being UTF-8 text.
    pub fn parse(body: &'a [u8]) -> Option<EventView<'a>> {
        let (front, occurred_at, tail) = split_tail(body)?;
        let rest = front.strip_prefix(b"{\"actor\":\"")?;
        let actor_len = memchr::memchr2(b'"', b'\\', rest)?;
        let (actor, rest) = rest.split_at(actor_len);
        let data = rest.strip_prefix(b"\",\"data\":")?;
        let plain = |text: &'a str| (!text.contains('\\')).then_some(text);
        Some(EventView {
            actor: std::str::from_utf8(actor).ok()?,
            data: std::str::from_utf8(data).ok().filter(|d| !d.is_empty())?,
            id: plain(tail.id)?,
            occurred_at: plain(std::str::from_utf8(occurred_at).ok()?)?,
            prev_hash: plain(tail.prev_hash)?,
            recorded_at: plain(tail.recorded_at)?,
            seq: tail.seq,
            event_type: plain(tail.event_type)?,
        })
    }
}

/// Splits a canonical body at its tail: the bytes before `,"id":` (the
/// actor and data), the value of `occurred_at`, and the [`Tail`].
fn split_tail(body: &[u8]) -> Option<(&[u8], &[u8], Tail<'_>)> {
    // Each key is found as `memmem::rfind` finds it (its last occurrence),
    // but by looking back with `memrchr` for its leading comma, which the
    // tail's values do not contain, so the first candidate is nearly always
    // it (cheaper than a reverse substring search; BENCHMARKS.md, verify).
    const KEYS: [&[u8]; 6] = [
        b",\"type\":\"",
        b",\"seq\":",
        b",\"recorded_at\":\"",
        b",\"prev_hash\":\"",
        b",\"occurred_at\":\"",
        b",\"id\":\"",
    ];
    let mut rest = body.strip_suffix(b"\"}")?;
    let mut values: [&[u8]; 6] = [&[]; 6];
    for (key, value) in KEYS.iter().zip(&mut values) {
        let at = rfind(rest, key)?;
        *value = &rest[at + key.len()..];
        rest = &rest[..at];
    }
    let [event_type, seq, recorded_at, prev_hash, occurred_at, id] = values;
    let text = |b| std::str::from_utf8(b).ok();
    let tail = Tail {
        id: text(id.strip_suffix(b"\"")?)?,
        prev_hash: text(prev_hash.strip_suffix(b"\"")?)?,
        recorded_at: text(recorded_at.strip_suffix(b"\"")?)?,
        seq: text(seq)?.parse().ok()?,
        event_type: text(event_type)?,
    };
    Some((rest, occurred_at.strip_suffix(b"\"")?, tail))
}

/// Where the last occurrence of `needle` (not empty) in `haystack` starts.
fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut end = (haystack.len() + 1).checked_sub(needle.len())?;
    while let Some(at) = memchr::memrchr(first, &haystack[..end]) {
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        end = at;
    }
    None
}

#[cfg(test)]
mod tests;

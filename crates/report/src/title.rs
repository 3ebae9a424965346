//! A report's title page: who issues it, the period (named in the report's
//! time zone and as exact instants), the issue date, and the ledger position
//! and signed checkpoint the figures stand on. Every fact comes from the
//! input, none from the clock: the issue date is the `recorded_at` of the
//! event at `as_of_seq`, so the report stays reproducible byte for byte.
//! The dashboard has no title page.

use std::fmt::Write as _;

use maud::{Markup, html};

use crate::{Lang, Locale, ReportInput, TitlePage};

/// The print rules of the title page: a page of its own.
pub(crate) const CSS: &str = r#"
.title-page { margin: 0 0 24px; }
.title-page h1 { font-size: 28px; margin: 48px 0 6px; }
.title-page .period-name { font-size: 20px; margin: 0 0 28px; }
@media print { .title-page { break-after: page; } .title-page h1 { margin-top: 60mm; } }
"#;

/// One fact of the title page: its label and its text (and, for the HTML,
/// whether the text is a hash to be set in monospace).
struct Fact {
    label: String,
    text: String,
    hash: bool,
}

/// The facts, in order.
fn facts(input: &ReportInput<'_>, title: &TitlePage) -> Vec<Fact> {
    let a = input.assessment;
    let Locale { lang, zone } = input.locale;
    let t = |id: &str, args: &[(&str, &str)]| lang.t(id, args);
    let fact = |label: &str, text: String| Fact { label: t(label, &[]), text, hash: false };
    let issuer = match &title.issuer {
        Some(id) => match a.agencies.iter().find(|ag| &ag.agency_id == id) {
            Some(ag) => t("title-issuer-value", &[("name", &ag.name), ("id", id)]),
            None => t("title-issuer-unregistered", &[("id", id), ("seq", &a.as_of_seq.to_string())]),
        },
        None => t("title-issuer-none", &[]),
    };
    let period = t(
        "title-period-value",
        &[
            ("from", &crate::shown(zone, &a.period.from)),
            ("to", &crate::shown(zone, &a.period.to)),
            ("from_utc", &a.period.from),
            ("to_utc", &a.period.to),
        ],
    );
    let issued = t(
        "title-issued-value",
        &[("date", &issue_date(zone, &title.issued_at)), ("at", &title.issued_at), ("seq", &a.as_of_seq.to_string())],
    );
    let checkpoint = match &input.proven {
        Some(p) => {
            let size = p.size.to_string();
            // The stamp keeps the count, not the log's quorum, so the page
            // states the count; "witnessed" (SPEC 6.4: a quorum) is not claimed.
            let cosigned = if p.cosignatures > 0 {
                t("title-cosigned", &[("count", &p.cosignatures.to_string())])
            } else {
                t("title-not-cosigned", &[])
            };
            t("title-checkpoint-value", &[("size", &size), ("root", &p.root), ("cosigned", &cosigned)])
        }
        None => t("title-checkpoint-none", &[("seq", &a.as_of_seq.to_string())]),
    };
    vec![
        fact("title-issuer", issuer),
        fact("title-period", period),
        fact("title-issued", issued),
        fact("title-position", t("title-position-value", &[("seq", &a.as_of_seq.to_string())])),
        Fact { label: t("summary-head", &[]), text: a.head_hash.clone(), hash: true },
        Fact { hash: input.proven.is_some(), ..fact("title-checkpoint", checkpoint) },
    ]
}

/// The date of an RFC 3339 instant in `zone` (`YYYY-MM-DD`; the text as it is when it does not parse).
fn issue_date(zone: crate::Zone, rfc3339: &str) -> String {
    govledger_domain::Timestamp::parse(rfc3339)
        .map_or_else(|_| rfc3339.to_owned(), |ts| zone.date(ts.micros()).format("%Y-%m-%d").to_string())
}

/// The title page in HTML.
pub(crate) fn html(input: &ReportInput<'_>, title: &TitlePage) -> Markup {
    let lang: Lang = input.locale.lang;
    html! {
        section.title-page {
            h1 { (lang.t("report-heading", &[])) }
            p.period-name { (crate::period_name(input.locale, input.assessment)) }
            p.muted { (lang.t("report-subtitle", &[])) }
            dl.summary {
                @for f in facts(input, title) {
                    dt { (f.label) }
                    @if f.hash { dd.hash { (f.text) } } @else { dd { (f.text) } }
                }
            }
        }
    }
}

/// The title block in Markdown (`md` escapes text).
pub(crate) fn markdown(input: &ReportInput<'_>, title: &TitlePage, md: fn(&str) -> String) -> String {
    let lang = input.locale.lang;
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md(&lang.t("report-heading", &[])));
    let _ = writeln!(o, "**{}**\n", md(&crate::period_name(input.locale, input.assessment)));
    let _ = writeln!(o, "| | |\n|---|---|");
    for f in facts(input, title) {
        let _ = writeln!(o, "| {} | {} |", md(&f.label), md(&f.text));
    }
    o.push('\n');
    o
}

//! govledger's glossary and its two languages: every user-facing word of the
//! report, the dashboard, the CLI tables and the HTML error pages is a
//! message of the Fluent catalogs in `locales/<lang>/*.ftl`, zh-CN and en,
//! embedded at build time (nothing is read from disk at run time). Codes
//! (agency kinds, roles, indicators, grades, penalties) have a message each,
//! `kind-<code>`, `indicator-<code>` and so on; [`Lang::term`] looks them up.
//!
//! The time zone pages and reports use lives here too ([`Zone`]): dates
//! entered by a person mean midnight in it, times are shown in it and months
//! and quarters are counted in it. Periods themselves stay exact instants.
//!
//! Architecture invariant: pure. No IO, no clock; the same language, zone
//! and arguments always give the same text (reports are reproduced byte for
//! byte from them).

mod zone;

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

pub use zone::{Period, Zone};

/// A language of the pages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese, the default: the users are Chinese offices.
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];
    /// The language when nothing (flag, config, browser) says otherwise.
    pub const DEFAULT: Lang = Lang::ZhCn;

    /// The BCP 47 tag, as in `<html lang>`, `--lang` and a report's parameters.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// A tag as people write it: `zh-CN`, `zh`, `zh-Hans`, `zh_CN`, `en`,
    /// `en-US` (any case). `None` for a language without a catalog.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = tag.split('-').next().unwrap_or_default();
        match primary {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a browser prefers (`Accept-Language`, RFC 9110 12.5.4)
    /// among those with a catalog; `None` when it names none of them.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u32, usize, Lang)> = None;
        for (position, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // Thousandths, so that the order is exact; q=0 means "not this one".
            let q = (quality.clamp(0.0, 1.0) * 1000.0).round() as u32;
            if q == 0 {
                continue;
            }
            // The higher quality wins; between equals, the one listed first.
            if best.is_none_or(|(bq, bp, _)| q > bq || (q == bq && position < bp)) {
                best = Some((q, position, lang));
            }
        }
        best.map(|(_, _, lang)| lang)
    }

    /// The message `id` with its arguments. A message missing from this
    /// language's catalog falls back to English, then to the id itself (a
    /// test keeps both catalogs holding the same messages).
    pub fn t(self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        let args = (!args.is_empty()).then_some(&fluent_args);
        for lang in [self, Lang::En] {
            let bundle = bundle(lang);
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, args, &mut errors).into_owned();
            }
        }
        id.to_owned()
    }

    /// The translated name of a code: `term("kind", "public_security")` is
    /// the message `kind-public_security`; a code with no message (a grade
    /// named by a custom model) is shown as it is.
    pub fn term(self, group: &str, code: &str) -> String {
        // Fluent ids have no `/`: `zone-Asia_Shanghai` names `Asia/Shanghai`.
        let id = format!("{group}-{}", code.replace('/', "_"));
        if has_message(self, &id) || has_message(Lang::En, &id) { self.t(&id, &[]) } else { code.to_owned() }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// The language and the time zone of a page or report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Locale {
    pub lang: Lang,
    pub zone: Zone,
}

impl Default for Lang {
    fn default() -> Lang {
        Lang::DEFAULT
    }
}

/// The catalog files of each language, embedded at build time.
const CATALOGS: [(Lang, &[&str]); 2] = [
    (
        Lang::ZhCn,
        &[
            include_str!("../locales/zh-CN/glossary.ftl"),
            include_str!("../locales/zh-CN/report.ftl"),
            include_str!("../locales/zh-CN/pages.ftl"),
            include_str!("../locales/zh-CN/explain.ftl"),
            include_str!("../locales/zh-CN/cli.ftl"),
        ],
    ),
    (
        Lang::En,
        &[
            include_str!("../locales/en/glossary.ftl"),
            include_str!("../locales/en/report.ftl"),
            include_str!("../locales/en/pages.ftl"),
            include_str!("../locales/en/explain.ftl"),
            include_str!("../locales/en/cli.ftl"),
        ],
    ),
];

static BUNDLES: LazyLock<HashMap<Lang, FluentBundle<FluentResource>>> = LazyLock::new(|| {
    CATALOGS
        .iter()
        .map(|(lang, files)| {
            let id: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // No Unicode isolation marks around arguments: they would end up
            // in HTML attributes, CSV cells and terminal tables.
            bundle.set_use_isolating(false);
            for text in *files {
                // The catalogs are checked by the tests below; a broken entry
                // is skipped rather than taking the pages down.
                let resource = FluentResource::try_new((*text).to_owned()).unwrap_or_else(|(partial, _)| partial);
                let _ = bundle.add_resource(resource);
            }
            (*lang, bundle)
        })
        .collect()
});

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    // Every language has a bundle: BUNDLES is built from CATALOGS, which lists them all.
    &BUNDLES[&lang]
}

fn has_message(lang: Lang, id: &str) -> bool {
    bundle(lang).has_message(id)
}

/// The ids of the messages of `lang`'s catalog files, in file order (for the tests).
pub fn message_ids(lang: Lang) -> Vec<String> {
    let files = CATALOGS.iter().find(|(l, _)| *l == lang).map(|(_, f)| *f).unwrap_or_default();
    let mut ids = Vec::new();
    for text in files {
        let resource = FluentResource::try_new((*text).to_owned()).unwrap_or_else(|(partial, _)| partial);
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                ids.push(m.id.name.to_owned());
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_parses_and_both_languages_hold_the_same_messages() {
        for (lang, files) in CATALOGS {
            for text in files {
                if let Err((_, errors)) = FluentResource::try_new(text.to_string()) {
                    panic!("{lang}: {errors:?}");
                }
            }
        }
        let mut zh = message_ids(Lang::ZhCn);
        let mut en = message_ids(Lang::En);
        zh.sort();
        en.sort();
        let only_zh: Vec<_> = zh.iter().filter(|id| !en.contains(id)).collect();
        let only_en: Vec<_> = en.iter().filter(|id| !zh.contains(id)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
        let mut unique = zh.clone();
        unique.dedup();
        assert_eq!(unique.len(), zh.len(), "a message is defined twice");
    }

    #[test]
    fn messages_format_their_arguments_without_isolation_marks() {
        let text = Lang::En.t("summary-events-value", &[("seq", "42")]);
        assert_eq!(text, "42 events in the ledger as of seq 42");
        assert!(!text.contains('\u{2068}'));
        assert_eq!(Lang::ZhCn.t("summary-events-value", &[("seq", "42")]), "截至第 42 号事件，账本共 42 个事件");
    }

    #[test]
    fn codes_are_translated_and_unknown_ones_shown_as_they_are() {
        assert_eq!(Lang::ZhCn.term("kind", "public_security"), "公安机关");
        assert_eq!(Lang::En.term("kind", "public_security"), "Public security");
        assert_eq!(Lang::ZhCn.term("grade", "excellent"), "优秀");
        assert_eq!(Lang::ZhCn.term("grade", "gold-star"), "gold-star", "a custom model's grade");
        assert_eq!(Lang::ZhCn.t("no-such-message", &[]), "no-such-message");
    }

    #[test]
    fn accept_language_picks_the_preferred_language_with_a_catalog() {
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.5, zh;q=0.7"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("fr-FR,de"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, zh;q=0.1"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(Lang::parse("zh_cn"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("ja"), None);
    }
}

//! Translations with Fluent. Every request carries its own [`Locale`]; there is no global locale.
//! Catalogues are compiled in from `locales/<lang>/*.ftl`, one file per area.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Locale> {
        let t = tag.trim().to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh-") || t.starts_with("zh_") {
            Some(Locale::ZhCn)
        } else if t == "en" || t.starts_with("en-") || t.starts_with("en_") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// The first supported language of an Accept-Language header.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        header.split(',').filter_map(|part| Locale::parse(part.split(';').next().unwrap_or(""))).next()
    }
}

/// The FTL sources of every area, in load order. Areas add their files here.
const SOURCES: &[(Locale, &str, &str)] = &[
    (Locale::ZhCn, "kernel.ftl", include_str!("../../../locales/zh-CN/kernel.ftl")),
    (Locale::ZhCn, "directory.ftl", include_str!("../../../locales/zh-CN/directory.ftl")),
    (Locale::ZhCn, "roster.ftl", include_str!("../../../locales/zh-CN/roster.ftl")),
    (Locale::ZhCn, "library.ftl", include_str!("../../../locales/zh-CN/library.ftl")),
    (Locale::ZhCn, "classroom.ftl", include_str!("../../../locales/zh-CN/classroom.ftl")),
    (Locale::ZhCn, "timetable.ftl", include_str!("../../../locales/zh-CN/timetable.ftl")),
    (Locale::ZhCn, "messaging.ftl", include_str!("../../../locales/zh-CN/messaging.ftl")),
    (Locale::En, "kernel.ftl", include_str!("../../../locales/en/kernel.ftl")),
    (Locale::En, "directory.ftl", include_str!("../../../locales/en/directory.ftl")),
    (Locale::En, "roster.ftl", include_str!("../../../locales/en/roster.ftl")),
    (Locale::En, "library.ftl", include_str!("../../../locales/en/library.ftl")),
    (Locale::En, "classroom.ftl", include_str!("../../../locales/en/classroom.ftl")),
    (Locale::En, "timetable.ftl", include_str!("../../../locales/en/timetable.ftl")),
    (Locale::En, "messaging.ftl", include_str!("../../../locales/en/messaging.ftl")),
];

/// All catalogues, loaded once and shared.
#[derive(Clone)]
pub struct I18n {
    bundles: Arc<Vec<(Locale, FluentBundle<FluentResource>)>>,
}

impl I18n {
    pub fn load() -> I18n {
        let bundles = Locale::ALL
            .iter()
            .map(|&locale| {
                let lang: unic_langid::LanguageIdentifier = locale.tag().parse().expect("valid language tag");
                let mut bundle = FluentBundle::new_concurrent(vec![lang]);
                // Isolation marks would show up as stray characters inside HTML attributes.
                bundle.set_use_isolating(false);
                for (l, file, text) in SOURCES.iter().filter(|(l, ..)| *l == locale) {
                    let resource = FluentResource::try_new(text.to_string())
                        .unwrap_or_else(|(_, errs)| panic!("syntax error in locales/{}/{file}: {errs:?}", l.tag()));
                    bundle
                        .add_resource(resource)
                        .unwrap_or_else(|errs| panic!("duplicate message in locales/{}/{file}: {errs:?}", l.tag()));
                }
                (locale, bundle)
            })
            .collect();
        I18n { bundles: Arc::new(bundles) }
    }

    fn bundle(&self, locale: Locale) -> &FluentBundle<FluentResource> {
        &self.bundles.iter().find(|(l, _)| *l == locale).expect("every locale is loaded").1
    }

    /// The message `key` in `locale`; a missing key shows as the key itself (and a test fails).
    pub fn t(&self, locale: Locale, key: &str) -> String {
        self.format(locale, key, None)
    }

    pub fn t_args(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            match v.parse::<f64>() {
                Ok(n) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') => {
                    fa.set(*k, FluentValue::from(n))
                }
                _ => fa.set(*k, FluentValue::from(v.clone())),
            }
        }
        self.format(locale, key, Some(&fa))
    }

    fn format(&self, locale: Locale, key: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle(locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, locale = locale.tag(), "missing translation");
            return key.to_string();
        };
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, args, &mut errors).into_owned()
    }

    /// Message ids of a locale, for the test that both locales have the same keys.
    pub fn keys(locale: Locale) -> std::collections::BTreeSet<String> {
        SOURCES
            .iter()
            .filter(|(l, ..)| *l == locale)
            .flat_map(|(_, _, text)| {
                text.lines()
                    .filter(|line| line.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
                    .filter_map(|line| line.split_once('=').map(|(k, _)| k.trim().to_string()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_keys() {
        let zh = I18n::keys(Locale::ZhCn);
        let en = I18n::keys(Locale::En);
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
        assert!(zh.len() > 20);
    }

    #[test]
    fn every_audit_action_has_a_label() {
        for locale in Locale::ALL {
            let keys = I18n::keys(locale);
            for action in crate::audit::ACTIONS {
                assert!(keys.contains(&format!("audit-action-{action}")), "audit-action-{action} in {}", locale.tag());
            }
        }
    }

    #[test]
    fn every_message_formats_in_both_locales() {
        let i18n = I18n::load();
        for locale in Locale::ALL {
            for key in I18n::keys(locale) {
                assert_ne!(i18n.t(locale, &key), key, "{key} in {}", locale.tag());
            }
        }
    }

    #[test]
    fn accept_language_picks_first_supported() {
        assert_eq!(Locale::from_accept_language("fr-FR,en-US;q=0.8,zh;q=0.5"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("zh-TW"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_accept_language("de"), None);
    }
}

//! A resource's metadata in the two formats harvesters ask for: Dublin Core (`oai_dc`, which
//! OAI-PMH requires) and IEEE LOM (`lom`, the learning-object standard education platforms use).

use super::xml::esc;
use crate::resources::store::Resource;
use crate::vocab;
use kernel::i18n::Locale;

pub struct Format {
    pub prefix: &'static str,
    pub schema: &'static str,
    pub namespace: &'static str,
}

pub const FORMATS: [Format; 2] = [
    Format {
        prefix: "oai_dc",
        schema: "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        namespace: "http://www.openarchives.org/OAI/2.0/oai_dc/",
    },
    Format { prefix: "lom", schema: "http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd", namespace: "http://ltsc.ieee.org/xsd/LOM" },
];

pub fn format(prefix: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.prefix == prefix)
}

/// The record's metadata element in the format `prefix` (one of [`FORMATS`]).
pub fn render(prefix: &str, r: &Resource, page_url: &str) -> String {
    if prefix == "lom" { lom(r, page_url) } else { dublin_core(r, page_url) }
}

fn zh(list: &'static [vocab::Term], code: &str) -> &'static str {
    vocab::name(list, code, Locale::ZhCn)
}

fn keywords(r: &Resource) -> Vec<String> {
    crate::resources::model::split_list(&r.keywords)
}

fn creator(r: &Resource) -> &str {
    if r.authors.trim().is_empty() { &r.owner_name } else { &r.authors }
}

fn date(seconds: i64) -> String {
    super::xml::datestamp(seconds * 1000)[..10].to_string()
}

fn dublin_core(r: &Resource, page_url: &str) -> String {
    let mut x = String::from(
        "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">",
    );
    let mut el = |name: &str, value: &str| {
        if !value.trim().is_empty() {
            x.push_str(&format!("<dc:{name}>{}</dc:{name}>", esc(value.trim())));
        }
    };
    el("title", &r.title);
    el("creator", creator(r));
    el("subject", zh(vocab::SUBJECTS, &r.subject));
    for k in keywords(r) {
        el("subject", &k);
    }
    el("description", &r.description);
    el("publisher", &r.unit_name);
    el("date", &date(r.published_at.unwrap_or(r.created_at)));
    el("type", zh(vocab::RESOURCE_TYPES, &r.resource_type));
    el("format", &r.mime);
    el("identifier", page_url);
    el("language", &r.language);
    el("coverage", &stage_and_grade(r));
    el("rights", zh(vocab::LICENCES, &r.licence));
    x.push_str("</oai_dc:dc>");
    x
}

fn stage_and_grade(r: &Resource) -> String {
    let stage = directory::codes::stage_name(&r.stage, Locale::ZhCn);
    match r.grade {
        Some(g) => format!("{stage} {}", directory::codes::grade_name(&r.stage, g, Locale::ZhCn)),
        None => stage.to_string(),
    }
}

/// A LOM string in Chinese (`langstring` in the standard's words).
fn langstring(text: &str) -> String {
    format!("<string language=\"zh\">{}</string>", esc(text))
}

fn vocabulary(value: &str) -> String {
    format!("<source>LOMv1.0</source><value>{}</value>", esc(value))
}

/// The LOMv1.0 learning-resource type nearest each of ours.
fn lom_type(code: &str) -> &'static str {
    match code {
        "courseware" | "lesson-talk" => "slide",
        "exercise" | "homework-design" => "exercise",
        "test-paper" => "exam",
        "simulation" => "simulation",
        "micro-lecture" | "lesson-video" => "lecture",
        "material" => "figure",
        "extended-reading" | "study-guide" => "narrative text",
        _ => "narrative text",
    }
}

fn lom(r: &Resource, page_url: &str) -> String {
    let mut x = String::from(
        "<lom xmlns=\"http://ltsc.ieee.org/xsd/LOM\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://ltsc.ieee.org/xsd/LOM http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd\">",
    );
    x.push_str("<general>");
    x.push_str(&format!("<identifier><catalog>URI</catalog><entry>{}</entry></identifier>", esc(page_url)));
    x.push_str(&format!("<title>{}</title>", langstring(&r.title)));
    x.push_str(&format!("<language>{}</language>", esc(&r.language)));
    if !r.description.trim().is_empty() {
        x.push_str(&format!("<description>{}</description>", langstring(&r.description)));
    }
    for k in keywords(r) {
        x.push_str(&format!("<keyword>{}</keyword>", langstring(&k)));
    }
    x.push_str(&format!("<coverage>{}</coverage>", langstring(&stage_and_grade(r))));
    x.push_str("</general>");

    x.push_str("<lifeCycle><contribute>");
    x.push_str(&format!("<role>{}</role>", vocabulary("author")));
    x.push_str(&format!(
        "<entity>{}</entity>",
        esc(&format!("BEGIN:VCARD\nVERSION:3.0\nFN:{}\nORG:{}\nEND:VCARD", creator(r), r.unit_name))
    ));
    x.push_str(&format!("<date><dateTime>{}</dateTime></date>", date(r.created_at)));
    x.push_str("</contribute>");
    if let Some(published) = r.published_at {
        x.push_str(&format!(
            "<contribute><role>{}</role><entity>{}</entity><date><dateTime>{}</dateTime></date></contribute>",
            vocabulary("publisher"),
            esc(&format!("BEGIN:VCARD\nVERSION:3.0\nFN:{}\nEND:VCARD", r.unit_name)),
            date(published)
        ));
    }
    x.push_str("</lifeCycle>");

    x.push_str("<technical>");
    x.push_str(&format!("<format>{}</format><size>{}</size>", esc(&r.mime), r.size));
    x.push_str(&format!("<location>{}</location>", esc(page_url)));
    if let Some(s) = r.duration_seconds {
        x.push_str(&format!("<duration><duration>PT{s}S</duration></duration>"));
    }
    x.push_str("</technical>");

    x.push_str("<educational>");
    x.push_str(&format!("<learningResourceType>{}</learningResourceType>", vocabulary(lom_type(&r.resource_type))));
    x.push_str(&format!("<context>{}</context>", vocabulary("school")));
    x.push_str(&format!("<description>{}</description>", langstring(zh(vocab::RESOURCE_TYPES, &r.resource_type))));
    x.push_str("</educational>");

    let restricted = if r.licence == "cc0-1.0" { "no" } else { "yes" };
    x.push_str(&format!(
        "<rights><copyrightAndOtherRestrictions>{}</copyrightAndOtherRestrictions><description>{}</description></rights>",
        vocabulary(restricted),
        langstring(zh(vocab::LICENCES, &r.licence))
    ));

    // Classified by discipline: the subject, with its JY/T 1001 code where the table has one.
    x.push_str(&format!("<classification><purpose>{}</purpose><taxonPath>", vocabulary("discipline")));
    match vocab::zxxkc(&r.stage, &r.subject) {
        Some(code) => x.push_str(&format!(
            "<source>{}</source><taxon><id>{code}</id><entry>{}</entry></taxon>",
            langstring("JY/T 1001 中小学课程代码"),
            langstring(zh(vocab::SUBJECTS, &r.subject))
        )),
        None => x.push_str(&format!(
            "<source>{}</source><taxon><id>{}</id><entry>{}</entry></taxon>",
            langstring("翰林学科"),
            esc(&r.subject),
            langstring(zh(vocab::SUBJECTS, &r.subject))
        )),
    }
    x.push_str("</taxonPath></classification>");
    x.push_str("</lom>");
    x
}

//! One metadata structure for every resource (资源基本属性), checked against the code lists.

use crate::vocab::{self, Term};
use kernel::error::FieldError;
use kernel::web::{Checks, Validate};
use serde::{Deserialize, Deserializer};

/// What an author fills in. Forms send every value as text, JSON may send numbers: both are read.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ResourceInput {
    pub title: String,
    pub description: String,
    pub stage: String,
    #[serde(deserialize_with = "number")]
    pub grade: Option<i64>,
    pub subject: String,
    pub edition: String,
    pub volume: String,
    #[serde(deserialize_with = "number")]
    pub chapter_id: Option<i64>,
    pub resource_type: String,
    pub language: String,
    pub keywords: String,
    pub authors: String,
    pub licence: String,
    #[serde(deserialize_with = "number")]
    pub duration_seconds: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub page_count: Option<i64>,
}

/// A whole number sent as a JSON number or as text; empty text is none. Anything else is an error
/// that names the field.
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
        Null,
    }
    match Raw::deserialize(d)? {
        Raw::Int(i) => Ok(Some(i)),
        Raw::Null => Ok(None),
        Raw::Text(t) if t.trim().is_empty() => Ok(None),
        Raw::Text(t) => t.trim().parse().map(Some).map_err(|_| serde::de::Error::custom("not a whole number")),
    }
}

fn coded(v: &mut Checks, field: &str, value: &str, list: &'static [Term], required: bool) {
    if value.is_empty() {
        if required {
            v.add(field, "error-field-required");
        }
    } else if vocab::find(list, value).is_none() {
        v.push(FieldError::new(field, "library-error-code").arg("value", value));
    }
}

impl Validate for ResourceInput {
    fn validate(&self, v: &mut Checks) {
        v.required("title", &self.title).max_chars("title", &self.title, 120);
        v.max_chars("description", &self.description, 4000);
        v.max_chars("keywords", &self.keywords, 200).max_chars("authors", &self.authors, 200);
        classification(v, &self.stage, self.grade, &self.subject);
        coded(v, "edition", &self.edition, vocab::EDITIONS, false);
        coded(v, "volume", &self.volume, vocab::VOLUMES, false);
        coded(v, "resource_type", &self.resource_type, vocab::RESOURCE_TYPES, true);
        coded(v, "language", &self.language, vocab::LANGUAGES, true);
        coded(v, "licence", &self.licence, vocab::LICENCES, true);
        for (field, value) in [("duration_seconds", self.duration_seconds), ("page_count", self.page_count)] {
            if value.is_some_and(|n| !(0..=1_000_000).contains(&n)) {
                v.add(field, "error-field-malformed");
            }
        }
    }
}

/// Stage, grade within it, and a subject taught at that stage: what places a resource (or a
/// lesson package) in the curriculum.
pub(crate) fn classification(v: &mut Checks, stage: &str, grade: Option<i64>, subject: &str) {
    match kernel_stage_years(stage) {
        None if stage.is_empty() => {
            v.add("stage", "error-field-required");
        }
        None => {
            v.push(FieldError::new("stage", "library-error-code").arg("value", stage));
        }
        Some(years) => {
            if let Some(g) = grade
                && !(1..=years).contains(&g)
            {
                v.push(FieldError::new("grade", "library-error-grade").arg("max", years));
            }
        }
    }
    coded(v, "subject", subject, vocab::SUBJECTS, true);
    if !subject.is_empty()
        && kernel_stage_years(stage).is_some()
        && vocab::find(vocab::SUBJECTS, subject).is_some()
        && !vocab::subjects_of_stage(stage).contains(&subject)
    {
        v.add("subject", "library-error-subject-stage");
    }
}

/// Stages and their number of grades, as the org tree knows them.
fn kernel_stage_years(stage: &str) -> Option<i64> {
    directory::codes::stage_years(stage)
}

impl ResourceInput {
    pub fn keyword_list(&self) -> Vec<String> {
        split_list(&self.keywords)
    }
}

/// Keywords and authors are typed as one line, separated by commas (either width), semicolons or 、.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', ';', '；', '、']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ResourceInput {
        ResourceInput {
            title: "勾股定理的证明".into(),
            stage: "junior".into(),
            grade: Some(2),
            subject: "math".into(),
            resource_type: "courseware".into(),
            language: "zh".into(),
            licence: "platform".into(),
            ..Default::default()
        }
    }

    fn fields(input: &ResourceInput) -> Vec<String> {
        let mut c = Checks::default();
        input.validate(&mut c);
        c.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn values_outside_the_code_lists_are_named() {
        assert!(fields(&valid()).is_empty(), "{:?}", fields(&valid()));
        let bad = ResourceInput { subject: "alchemy".into(), grade: Some(4), edition: "pirate".into(), ..valid() };
        assert_eq!(fields(&bad), ["grade", "subject", "edition"]);
        let empty = ResourceInput::default();
        assert_eq!(fields(&empty), ["title", "stage", "subject", "resource_type", "language", "licence"]);
    }

    #[test]
    fn numbers_come_as_text_or_numbers() {
        let a: ResourceInput = serde_json::from_str(r#"{"grade": 3, "chapter_id": "12", "page_count": ""}"#).unwrap();
        assert_eq!((a.grade, a.chapter_id, a.page_count), (Some(3), Some(12), None));
        assert!(serde_json::from_str::<ResourceInput>(r#"{"grade": "三"}"#).is_err());
        assert_eq!(split_list("勾股定理，证明、 面积;"), ["勾股定理", "证明", "面积"]);
    }
}

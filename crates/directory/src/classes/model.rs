use crate::codes;
use kernel::i18n::Locale;
use kernel::web::{Checks, Validate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Class {
    pub id: i64,
    pub school_id: i64,
    pub kind: String,
    pub stage: String,
    pub entry_year: i64,
    pub number: i64,
    pub name: String,
    pub subject: Option<String>,
}

impl Class {
    pub fn grade(&self, school_year: i64) -> Option<i64> {
        codes::grade_of(&self.stage, self.entry_year, school_year)
    }

    /// 三年级2班 / Grade 3 Class 2; a teaching class shows its own name; graduated classes their entry year.
    pub fn display_name(&self, school_year: i64, locale: Locale) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        match (self.grade(school_year), locale) {
            (Some(g), Locale::ZhCn) => format!("{}{}班", codes::grade_name(&self.stage, g, locale), self.number),
            (Some(g), Locale::En) => format!("{} Class {}", codes::grade_name(&self.stage, g, locale), self.number),
            (None, Locale::ZhCn) => format!("{}级{}{}班", self.entry_year, codes::stage_name(&self.stage, locale), self.number),
            (None, Locale::En) => {
                format!("{} {} intake, class {}", codes::stage_name(&self.stage, locale), self.entry_year, self.number)
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassInput {
    #[serde(default = "administrative")]
    pub kind: String,
    pub stage: String,
    pub entry_year: i64,
    pub number: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub subject: String,
}

fn administrative() -> String {
    "administrative".into()
}

impl Validate for ClassInput {
    fn validate(&self, v: &mut Checks) {
        if !["administrative", "teaching", "elective"].contains(&self.kind.as_str()) {
            v.add("kind", "error-field-malformed");
        }
        if codes::stage_years(&self.stage).is_none() {
            v.add("stage", "error-field-malformed");
        }
        if !(1990..=2100).contains(&self.entry_year) {
            v.add("entry_year", "error-field-malformed");
        }
        if !(1..=99).contains(&self.number) {
            v.add("number", "error-field-malformed");
        }
        v.max_chars("name", &self.name, 50).max_chars("subject", &self.subject, 30);
        if self.kind != "administrative" && self.name.trim().is_empty() {
            v.add("name", "error-field-required");
        }
    }
}

use crate::codes;
use kernel::error::FieldError;
use kernel::web::{Checks, Validate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    City,
    District,
    School,
    TeachingPoint,
    Office,
}

impl UnitKind {
    pub const ALL: [UnitKind; 6] =
        [UnitKind::Province, UnitKind::City, UnitKind::District, UnitKind::School, UnitKind::TeachingPoint, UnitKind::Office];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::City => "city",
            UnitKind::District => "district",
            UnitKind::School => "school",
            UnitKind::TeachingPoint => "teaching_point",
            UnitKind::Office => "office",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            UnitKind::Province => "unit-kind-province",
            UnitKind::City => "unit-kind-city",
            UnitKind::District => "unit-kind-district",
            UnitKind::School => "unit-kind-school",
            UnitKind::TeachingPoint => "unit-kind-teaching_point",
            UnitKind::Office => "unit-kind-office",
        }
    }

    pub fn is_bureau(self) -> bool {
        matches!(self, UnitKind::Province | UnitKind::City | UnitKind::District)
    }

    pub fn is_school(self) -> bool {
        matches!(self, UnitKind::School | UnitKind::TeachingPoint)
    }

    /// Whether a unit of this kind may sit directly under a unit of kind `parent`.
    pub fn fits_under(self, parent: UnitKind) -> bool {
        match self {
            UnitKind::Province => false,
            UnitKind::City => parent == UnitKind::Province,
            UnitKind::District => matches!(parent, UnitKind::Province | UnitKind::City),
            // Cities and provinces run schools of their own, besides the districts'.
            UnitKind::School => parent.is_bureau(),
            UnitKind::TeachingPoint => parent == UnitKind::School,
            UnitKind::Office => parent.is_bureau(),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrgUnit {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: Option<String>,
    pub school_type: Option<String>,
    pub urban_rural: Option<String>,
    pub stages: String,
    pub path: String,
    pub depth: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OrgUnit {
    pub fn kind(&self) -> UnitKind {
        UnitKind::parse(&self.kind).unwrap_or(UnitKind::Office)
    }

    pub fn stage_list(&self) -> Vec<&str> {
        self.stages.split(',').filter(|s| !s.is_empty()).collect()
    }
}

/// The editable fields of a unit, from a form or JSON. Strings are trimmed by [`UnitInput::normalised`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub school_type: String,
    #[serde(default)]
    pub urban_rural: String,
}

impl UnitInput {
    pub fn normalised(mut self) -> UnitInput {
        for f in [&mut self.kind, &mut self.name, &mut self.code, &mut self.school_type, &mut self.urban_rural] {
            *f = f.trim().to_string();
        }
        self
    }

    pub fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
}

impl Validate for UnitInput {
    fn validate(&self, v: &mut Checks) {
        v.required("name", &self.name).max_chars("name", &self.name, 100);
        let Some(kind) = UnitKind::parse(&self.kind) else {
            v.add("kind", "error-field-malformed");
            return;
        };
        if kind == UnitKind::School {
            if !codes::valid_school_code(&self.code) {
                v.push(FieldError::new("code", "org-error-school-code"));
            }
            if codes::find(codes::SCHOOL_TYPES, &self.school_type).is_none() {
                v.push(FieldError::new("school_type", "org-error-school-type"));
            }
        } else if kind.is_bureau() {
            if !codes::valid_division_code(&self.code) {
                v.push(FieldError::new("code", "org-error-division-code"));
            }
        } else if !self.code.is_empty() && !codes::valid_school_code(&self.code) {
            v.push(FieldError::new("code", "org-error-school-code"));
        }
        if kind.is_school() && codes::find(codes::URBAN_RURAL, &self.urban_rural).is_none() {
            v.push(FieldError::new("urban_rural", "org-error-urban-rural"));
        }
    }
}

use kernel::auth::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub gender: Option<String>,
    pub login: Option<String>,
    #[serde(skip)]
    pub phone: Option<String>,
    pub student_number: Option<String>,
    pub staff_number: Option<String>,
    pub locale: Option<String>,
    pub status: String,
    pub created_at: i64,
}

impl Person {
    /// A phone number as others may see it: never whole.
    pub fn masked_phone(&self) -> Option<String> {
        self.phone.as_ref().map(|p| {
            let chars: Vec<char> = p.chars().collect();
            if chars.len() >= 7 {
                format!("{}****{}", chars[..3].iter().collect::<String>(), chars[chars.len() - 4..].iter().collect::<String>())
            } else {
                "****".into()
            }
        })
    }
}

/// A role assignment with the names of where it is held.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Assignment {
    pub id: i64,
    pub person_id: i64,
    pub role: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_path: String,
    pub class_id: Option<i64>,
    pub class_stage: Option<String>,
    pub class_entry_year: Option<i64>,
    pub class_number: Option<i64>,
    pub class_name: Option<String>,
    pub subject: Option<String>,
    pub starts_on: time::Date,
    pub ends_on: Option<time::Date>,
}

impl Assignment {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Student)
    }

    pub fn is_current(&self, today: time::Date) -> bool {
        self.starts_on <= today && self.ends_on.is_none_or(|e| e > today)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Father,
    Mother,
    Grandfather,
    Grandmother,
    Guardian,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Father => "father",
            Relation::Mother => "mother",
            Relation::Grandfather => "grandfather",
            Relation::Grandmother => "grandmother",
            Relation::Guardian => "guardian",
        }
    }
}

/// A new person record. Identifiers are optional but unique where given.
#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    pub name: String,
    pub gender: Option<String>,
    pub login: Option<String>,
    pub phone: Option<String>,
    pub student_number: Option<String>,
    pub staff_number: Option<String>,
    pub password_hash: Option<String>,
}

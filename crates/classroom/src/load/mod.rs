//! The 双减 guard: the estimated minutes of homework due each day are added up per class and
//! compared with the configured limit for the class's stage and grade (by default the 2021
//! policy's: none in grades 1–2, 60 minutes in grades 3–6, 90 in junior secondary). Teachers are
//! warned before publishing; bureau staff see each school's daily load.

pub mod http;

use crate::homework::store;
use directory::classes::model::Class;
use kernel::i18n::Locale;
use kernel::{App, AppError};

/// A class whose homework due on `day` would exceed its limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Overload {
    pub class_id: i64,
    pub class_name: String,
    pub day: time::Date,
    pub minutes: i64,
    pub limit: i64,
}

/// The limit of `class` in the school year of `day`, if its grade has one.
pub async fn limit_of(app: &App, class: &Class, day: time::Date) -> Result<Option<i64>, AppError> {
    let year = directory::calendar::store::school_year(&app.db, day).await?;
    Ok(class.grade(year).and_then(|g| app.config.classroom.load_limit(&class.stage, g)))
}

/// The classes that `extra` more minutes due on `day` would take over their limit.
pub async fn check(app: &App, classes: &[Class], day: time::Date, extra: i64, locale: Locale) -> Result<Vec<Overload>, AppError> {
    let ids: Vec<i64> = classes.iter().map(|c| c.id).collect();
    let due = store::minutes_due(&app.db, &ids, day).await?;
    let year = directory::calendar::store::school_year(&app.db, day).await?;
    let mut over = Vec::new();
    for class in classes {
        let Some(limit) = class.grade(year).and_then(|g| app.config.classroom.load_limit(&class.stage, g)) else { continue };
        let minutes = due.iter().find(|(id, _)| *id == class.id).map(|d| d.1).unwrap_or(0) + extra;
        if extra > 0 && minutes > limit {
            over.push(Overload { class_id: class.id, class_name: class.display_name(year, locale), day, minutes, limit });
        }
    }
    Ok(over)
}

//! What the load generators share: the app on the configured database, and the school they seed —
//! a city, one junior school, and its classes, each with a maths teacher and its students, written
//! straight through the directory's store in the caller's transaction.

use anyhow::Context;
use directory::classes::model::ClassInput;
use directory::org::model::UnitInput;
use directory::people::model::NewPerson;
use kernel::auth::Role;
use kernel::db::Tx;

pub async fn open_app() -> anyhow::Result<kernel::App> {
    let config = kernel::config::Config::load(None)?;
    let db = kernel::db::Db::open(&config.database_url()).await?;
    db.migrate().await?;
    server::app(config, db)
}

pub struct SeededClass {
    pub id: i64,
    pub teacher: i64,
    pub students: Vec<i64>,
}

/// The city `(name, code)`, its school `(name, 10-digit code)` and `classes` classes of `students`;
/// the school's id and its classes.
pub async fn seed(
    tx: &mut Tx,
    city: (&str, &str),
    school: (&str, &str),
    classes: usize,
    students: usize,
    today: time::Date,
) -> anyhow::Result<(i64, Vec<SeededClass>)> {
    let year = directory::codes::school_year_of(today);
    let unit = |kind: &str, name: &str, code: &str, school_type: &str| UnitInput {
        kind: kind.into(),
        name: name.into(),
        code: code.into(),
        school_type: school_type.into(),
        urban_rural: if kind == "school" { "111".into() } else { String::new() },
    };
    let city = directory::org::store::create(tx, None, &unit("city", city.0, city.1, "")).await?;
    let city = directory::org::store::get_in(tx, city).await?.context("city")?;
    let school = directory::org::store::create(tx, Some(&city), &unit("school", school.0, school.1, "311")).await?;
    let mut out = Vec::with_capacity(classes);
    for c in 0..classes {
        let input = ClassInput {
            kind: "administrative".into(),
            stage: "junior".into(),
            entry_year: year - (c % 3) as i64,
            number: (c / 3 + 1) as i64,
            name: String::new(),
            subject: String::new(),
        };
        let class = directory::classes::store::create(tx, school, &input).await?;
        let teacher = directory::people::store::create(tx, &NewPerson { name: format!("教师{c}"), ..Default::default() }).await?;
        directory::people::store::assign(tx, teacher, Role::Teacher, school, Some(class), Some("数学"), today).await?;
        let mut members = Vec::with_capacity(students);
        for s in 0..students {
            let id =
                directory::people::store::create(tx, &NewPerson { name: format!("学生{c}-{s}"), ..Default::default() }).await?;
            directory::people::store::assign(tx, id, Role::Student, school, Some(class), None, today).await?;
            members.push(id);
        }
        out.push(SeededClass { id: class, teacher, students: members });
    }
    Ok((school, out))
}

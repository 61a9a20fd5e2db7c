//! A small region for tests: a city with two districts, three schools, classes and one person per role.
//!
//! 城市 (city) ├ 东区 (d1) ├ 东区一小 (s1: classes a1, a2) └ 东区二中 (s2: class b1)
//!             └ 西区 (d2) └ 西区一小 (s3: class c1)

use crate::harness::TestApp;
use directory::classes::model::ClassInput;
use directory::org::model::UnitInput;
use directory::people::model::{NewPerson, Relation};
use directory::{classes, org, people};
use kernel::auth::Role;
use kernel::db::Tx;
use std::sync::OnceLock;

pub const PASSWORD: &str = "test-password-2026";

fn hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| directory::accounts::password::hash_blocking(PASSWORD)).clone()
}

#[derive(Debug, Clone, Default)]
pub struct Region {
    pub city: i64,
    pub d1: i64,
    pub d2: i64,
    pub s1: i64,
    pub s2: i64,
    pub s3: i64,
    pub a1: i64,
    pub a2: i64,
    pub b1: i64,
    pub c1: i64,
    pub student: i64,
    pub other_student: i64,
    pub west_student: i64,
    pub parent: i64,
    pub teacher: i64,
}

async fn unit(tx: &mut Tx, parent: Option<i64>, kind: &str, name: &str, code: &str, school_type: &str) -> i64 {
    let parent = match parent {
        Some(id) => org::store::get_in(tx, id).await.unwrap(),
        None => None,
    };
    let input = UnitInput {
        kind: kind.into(),
        name: name.into(),
        code: code.into(),
        school_type: school_type.into(),
        urban_rural: if kind == "school" { "111".into() } else { String::new() },
    };
    org::store::create(tx, parent.as_ref(), &input).await.unwrap()
}

async fn class(tx: &mut Tx, school: i64, stage: &str, entry_year: i64, number: i64) -> i64 {
    let input = ClassInput {
        kind: "administrative".into(),
        stage: stage.into(),
        entry_year,
        number,
        name: String::new(),
        subject: String::new(),
    };
    classes::store::create(tx, school, &input).await.unwrap()
}

async fn person(tx: &mut Tx, login: &str, name: &str, student_number: Option<&str>) -> i64 {
    let p = NewPerson {
        name: name.into(),
        login: Some(login.into()),
        student_number: student_number.map(str::to_string),
        password_hash: Some(hash()),
        ..Default::default()
    };
    people::store::create(tx, &p).await.unwrap()
}

pub async fn region(t: &TestApp) -> Region {
    let db = &t.app.db;
    let today = kernel::today(480);
    let year = directory::codes::school_year_of(today);
    let mut tx = db.begin().await.unwrap();
    let mut r = Region { city: unit(&mut tx, None, "city", "测试市", "429900", "").await, ..Default::default() };
    r.d1 = unit(&mut tx, Some(r.city), "district", "东区", "429901", "").await;
    r.d2 = unit(&mut tx, Some(r.city), "district", "西区", "429902", "").await;
    r.s1 = unit(&mut tx, Some(r.d1), "school", "东区一小", "2142990101", "211").await;
    r.s2 = unit(&mut tx, Some(r.d1), "school", "东区二中", "2142990102", "311").await;
    r.s3 = unit(&mut tx, Some(r.d2), "school", "西区一小", "2142990201", "211").await;
    r.a1 = class(&mut tx, r.s1, "primary", year - 2, 1).await;
    r.a2 = class(&mut tx, r.s1, "primary", year - 2, 2).await;
    r.b1 = class(&mut tx, r.s2, "junior", year, 1).await;
    r.c1 = class(&mut tx, r.s3, "primary", year, 1).await;
    let assign = |p, role, unit, class| (p, role, unit, class);
    let mut roles = Vec::new();
    let city_admin = person(&mut tx, "city-admin", "市管理员", None).await;
    roles.push(assign(city_admin, Role::RegionAdmin, r.city, None));
    let d1 = person(&mut tx, "d1-admin", "东区管理员", None).await;
    roles.push(assign(d1, Role::RegionAdmin, r.d1, None));
    let d2 = person(&mut tx, "d2-admin", "西区管理员", None).await;
    roles.push(assign(d2, Role::RegionAdmin, r.d2, None));
    let auditor = person(&mut tx, "auditor", "审计员", None).await;
    roles.push(assign(auditor, Role::Auditor, r.city, None));
    let s1 = person(&mut tx, "s1-admin", "一小管理员", None).await;
    roles.push(assign(s1, Role::SchoolAdmin, r.s1, None));
    let s3 = person(&mut tx, "s3-admin", "西一小管理员", None).await;
    roles.push(assign(s3, Role::SchoolAdmin, r.s3, None));
    r.teacher = person(&mut tx, "teacher", "王老师", None).await;
    roles.push(assign(r.teacher, Role::Teacher, r.s1, None));
    roles.push(assign(r.teacher, Role::Teacher, r.s1, Some(r.a1)));
    let head = person(&mut tx, "head", "李老师", None).await;
    roles.push(assign(head, Role::Teacher, r.s1, None));
    roles.push(assign(head, Role::HeadTeacher, r.s1, Some(r.a2)));
    r.student = person(&mut tx, "student", "张小明", Some("G420000000000000001")).await;
    roles.push(assign(r.student, Role::Student, r.s1, Some(r.a1)));
    r.other_student = person(&mut tx, "student2", "赵小红", Some("G420000000000000002")).await;
    roles.push(assign(r.other_student, Role::Student, r.s1, Some(r.a2)));
    r.west_student = person(&mut tx, "student3", "钱小军", Some("G420000000000000003")).await;
    roles.push(assign(r.west_student, Role::Student, r.s3, Some(r.c1)));
    r.parent = person(&mut tx, "parent", "张爸爸", None).await;
    roles.push(assign(r.parent, Role::Parent, r.s1, None));
    for (p, role, unit, class) in roles {
        people::store::assign(&mut tx, p, role, unit, class, None, today).await.unwrap();
    }
    people::store::link_guardian(&mut tx, r.parent, r.student, Relation::Father).await.unwrap();
    org::counts::refresh(&mut tx, &[r.s1, r.s2, r.s3], year).await.unwrap();
    tx.commit().await.unwrap();
    r
}

/// Signs `login` in with a fresh client (its own cookie jar).
pub async fn signed_in(t: &TestApp, login: &str) -> reqwest::Client {
    let c = t.client();
    let r = c
        .post(t.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login of {login}: {}", r.text().await.unwrap());
    c
}

/// The CSRF token of a signed-in client, read from a page's form as a browser would.
pub async fn csrf(t: &TestApp, c: &reqwest::Client) -> String {
    let html = c.get(t.url("/account")).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Adds a person holding `role` at `unit` (and `class`), signing in with `login` and the test password.
pub async fn add_person(t: &TestApp, login: &str, name: &str, role: Role, unit: i64, class: Option<i64>) -> i64 {
    let mut tx = t.app.db.begin().await.unwrap();
    let id = person(&mut tx, login, name, None).await;
    people::store::assign(&mut tx, id, role, unit, class, None, kernel::today(480)).await.unwrap();
    tx.commit().await.unwrap();
    id
}

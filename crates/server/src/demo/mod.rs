//! The demo region: a fictitious city (江汉市) with three districts, eleven schools and teaching
//! points, about 1,500 students with their parents, and their teachers.
//!
//! Everything is planned in memory first from a small seeded PRNG (so the region is the same on
//! every machine), then written in one transaction. Only the accounts printed at start-up get a
//! login and a password, each its own random one; everybody else has no password at all.

mod classroom;
pub mod files;
mod library;
mod messaging;
mod timetable;

use anyhow::{Context, bail};
use directory::classes::model::{Class, ClassInput};
use directory::codes;
use directory::org::model::{OrgUnit, UnitInput};
use directory::people::model::{NewPerson, Relation};
use kernel::auth::Role;
use kernel::db::sql;
use kernel::i18n::Locale;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The file, in the demo directory, that lists the demo logins and marks the database as a demo.
pub const ACCOUNTS_FILE: &str = "demo-accounts.json";

/// A login of the demo region, printed at start-up and kept in `demo-accounts.json`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct DemoAccount {
    pub role: String,
    pub login: String,
    pub password: String,
    pub name: String,
    pub scope: String,
}

/// Seeds the demo region into an empty database (or reuses an already seeded demo), writes
/// DIR/demo-accounts.json, returns the accounts.
pub async fn prepare(app: &kernel::App, dir: &Path) -> anyhow::Result<Vec<DemoAccount>> {
    let file = dir.join(ACCOUNTS_FILE);
    let accounts = if unit_count(app).await? > 0 { reuse(&file)? } else { seed(app, dir).await? };
    // Also fills the library of a demo seeded before the library existed.
    library::seed(app).await.context("cannot seed the demo library")?;
    classroom::seed(app).await.context("cannot seed the demo classroom")?;
    timetable::seed(app).await.context("cannot seed the demo timetables")?;
    messaging::seed(app).await.context("cannot seed the demo messaging")?;
    Ok(accounts)
}

async fn unit_count(app: &kernel::App) -> anyhow::Result<i64> {
    let (n,): (i64,) = app.db.fetch_one(sql("SELECT COUNT(*) FROM org_units")).await.context("cannot count org units")?;
    Ok(n)
}

fn reuse(file: &Path) -> anyhow::Result<Vec<DemoAccount>> {
    if !file.exists() {
        bail!(
            "the database already holds org units but {} is missing: this data directory holds a non-demo database. \
             Start the demo with an empty data directory (or without --demo to serve this database)",
            file.display()
        );
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a demo account list", file.display()))
}

async fn seed(app: &kernel::App, dir: &Path) -> anyhow::Result<Vec<DemoAccount>> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = codes::school_year_of(today);
    let starts_on = time::Date::from_calendar_date(school_year as i32, time::Month::September, 1)
        .context("the school year's first day is not a date")?;
    let plan = plan(school_year);

    // Hash on the blocking pool while the region is being written.
    let bytes = password_bytes(app.config.password.min_length);
    let passwords: Vec<String> = plan.logins.iter().map(|_| new_password(bytes)).collect();
    let to_hash = passwords.clone();
    let hashing = tokio::task::spawn_blocking(move || hash_all(&to_hash));

    let mut tx = app.db.begin().await?;
    let (existing,): (i64,) = tx.fetch_one(sql("SELECT COUNT(*) FROM org_units")).await?;
    if existing > 0 {
        drop(tx);
        return reuse(&dir.join(ACCOUNTS_FILE));
    }

    let mut units: Vec<OrgUnit> = Vec::with_capacity(plan.units.len());
    for u in &plan.units {
        let input = UnitInput {
            kind: u.kind.into(),
            name: u.name.clone(),
            code: u.code.clone(),
            school_type: u.school_type.into(),
            urban_rural: u.urban_rural.into(),
        };
        let id = directory::org::store::create(&mut tx, u.parent.map(|p| &units[p]), &input)
            .await
            .with_context(|| format!("cannot create {}", u.name))?;
        let unit = directory::org::store::get_in(&mut tx, id).await?.context("a unit just created is missing")?;
        units.push(unit);
    }

    let mut class_ids = Vec::with_capacity(plan.classes.len());
    for c in &plan.classes {
        let input = ClassInput {
            kind: "administrative".into(),
            stage: c.stage.into(),
            entry_year: c.entry_year,
            number: c.number,
            name: String::new(),
            subject: String::new(),
        };
        class_ids.push(directory::classes::store::create(&mut tx, units[c.unit].id, &input).await?);
    }

    // Everyone without a login first, while the passwords are still being hashed.
    let login_of: HashMap<usize, usize> = plan.logins.iter().enumerate().map(|(i, l)| (l.person, i)).collect();
    let mut person_ids = vec![0i64; plan.people.len()];
    for (i, p) in plan.people.iter().enumerate() {
        if !login_of.contains_key(&i) {
            person_ids[i] = directory::people::store::create(&mut tx, &p.new_person(None, None)).await?;
        }
    }
    let hashes = hashing.await.context("password hashing failed")?;
    for (l, hash) in plan.logins.iter().zip(hashes) {
        let p = &plan.people[l.person];
        person_ids[l.person] = directory::people::store::create(&mut tx, &p.new_person(Some(l.login.clone()), Some(hash)))
            .await
            .with_context(|| format!("cannot create the demo account {}", l.login))?;
    }

    for a in &plan.assignments {
        directory::people::store::assign(
            &mut tx,
            person_ids[a.person],
            a.role,
            units[a.unit].id,
            a.class.map(|c| class_ids[c]),
            a.subject,
            starts_on,
        )
        .await?;
    }
    for g in &plan.guardians {
        directory::people::store::link_guardian(&mut tx, person_ids[g.parent], person_ids[g.student], g.relation).await?;
    }

    let accounts: Vec<DemoAccount> = plan
        .logins
        .iter()
        .zip(passwords)
        .map(|(l, password)| DemoAccount {
            role: l.role.as_str().to_string(),
            login: l.login.clone(),
            password,
            name: plan.people[l.person].name.clone(),
            scope: l.scope.clone(),
        })
        .collect();
    // Written before the commit: should the commit fail, the next start finds an empty database
    // and seeds (and writes) again; the other way round would leave a demo nobody can log in to.
    write_accounts(dir, &accounts)?;
    tx.commit().await.context("cannot commit the demo region")?;
    tracing::info!(units = plan.units.len(), classes = plan.classes.len(), people = plan.people.len(), "demo region seeded");
    Ok(accounts)
}

fn write_accounts(dir: &Path, accounts: &[DemoAccount]) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join(ACCOUNTS_FILE);
    let tmp = dir.join(format!("{ACCOUNTS_FILE}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600); // it holds passwords
    }
    let mut out = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    out.write_all(serde_json::to_string_pretty(accounts)?.as_bytes())?;
    out.write_all(b"\n")?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, &file).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

/// Enough random bytes for the configured minimum length (base64: 4 characters per 3 bytes).
fn password_bytes(min_length: usize) -> usize {
    min_length.div_ceil(4).saturating_mul(3).max(9)
}

/// A random password with lower case, upper case and a digit or symbol, so that it also meets the
/// 等保 profile's three character classes.
fn new_password(bytes: usize) -> String {
    loop {
        let p = kernel::secret::random_token(bytes);
        let lower = p.chars().any(|c| c.is_ascii_lowercase());
        let upper = p.chars().any(|c| c.is_ascii_uppercase());
        let other = p.chars().any(|c| !c.is_ascii_alphabetic());
        if lower && upper && other {
            return p;
        }
    }
}

/// Hashes on every core at once: Argon2 is single-threaded per hash.
fn hash_all(passwords: &[String]) -> Vec<String> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
    let chunk = passwords.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|p| directory::accounts::password::hash_blocking(p)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a hashing thread panicked")).collect()
    })
}

// ---------------------------------------------------------------------------------------------
// The plan: the whole region as plain data, indices instead of ids.

struct UnitPlan {
    parent: Option<usize>,
    kind: &'static str,
    name: String,
    code: String,
    school_type: &'static str,
    urban_rural: &'static str,
}

struct ClassPlan {
    unit: usize,
    stage: &'static str,
    grade: i64,
    number: i64,
    entry_year: i64,
}

impl ClassPlan {
    fn display_name(&self, school_year: i64) -> String {
        let class = Class {
            id: 0,
            school_id: 0,
            kind: "administrative".into(),
            stage: self.stage.into(),
            entry_year: self.entry_year,
            number: self.number,
            name: String::new(),
            subject: None,
        };
        class.display_name(school_year, Locale::ZhCn)
    }
}

struct PersonPlan {
    name: String,
    gender: &'static str,
    phone: Option<String>,
    student_number: Option<String>,
    staff_number: Option<String>,
}

impl PersonPlan {
    fn new_person(&self, login: Option<String>, password_hash: Option<String>) -> NewPerson {
        NewPerson {
            name: self.name.clone(),
            gender: Some(self.gender.to_string()),
            login,
            phone: self.phone.clone(),
            student_number: self.student_number.clone(),
            staff_number: self.staff_number.clone(),
            password_hash,
        }
    }
}

struct AssignmentPlan {
    person: usize,
    role: Role,
    unit: usize,
    class: Option<usize>,
    subject: Option<&'static str>,
}

struct GuardianPlan {
    parent: usize,
    student: usize,
    relation: Relation,
}

struct LoginPlan {
    person: usize,
    role: Role,
    login: String,
    scope: String,
}

struct Plan {
    units: Vec<UnitPlan>,
    classes: Vec<ClassPlan>,
    people: Vec<PersonPlan>,
    assignments: Vec<AssignmentPlan>,
    guardians: Vec<GuardianPlan>,
    logins: Vec<LoginPlan>,
}

const CITY: (&str, &str) = ("江汉市", "429900");
const DISTRICTS: [(&str, &str); 3] = [("文澜区", "429902"), ("青禾区", "429903"), ("白鹭县", "429921")];

/// Where a school sits: the city, a district (index into DISTRICTS) or another school (index into SCHOOLS).
#[derive(Clone, Copy)]
enum Under {
    City,
    District(usize),
    School(usize),
}

struct SchoolSpec {
    under: Under,
    name: &'static str,
    school_type: &'static str,
    urban_rural: &'static str,
    classes_per_grade: i64,
    /// Teaching points only teach the lower grades.
    max_grade: Option<i64>,
    class_size: i64,
}

const fn school(
    under: Under,
    name: &'static str,
    school_type: &'static str,
    urban_rural: &'static str,
    classes_per_grade: i64,
    max_grade: Option<i64>,
    class_size: i64,
) -> SchoolSpec {
    SchoolSpec { under, name, school_type, urban_rural, classes_per_grade, max_grade, class_size }
}

const SCHOOLS: &[SchoolSpec] = &[
    school(Under::District(0), "文澜区实验小学", "211", "111", 2, None, 24),
    school(Under::District(0), "文澜区第二初级中学", "311", "111", 2, None, 24),
    school(Under::District(1), "青禾区明德小学", "211", "112", 2, None, 18),
    school(Under::District(1), "青禾区育才学校", "312", "112", 1, None, 18),
    school(Under::District(1), "青禾区青禾中学", "341", "121", 1, None, 20),
    school(Under::District(2), "白鹭县实验小学", "211", "121", 2, None, 16),
    school(Under::District(2), "白鹭县城关初级中学", "311", "121", 1, None, 18),
    school(Under::District(2), "白鹭县第一高级中学", "342", "121", 2, None, 20),
    school(Under::District(2), "白鹭县石桥镇中心小学", "211", "210", 1, None, 8),
    school(Under::School(8), "白鹭县石桥镇柳湾村教学点", "218", "220", 1, Some(3), 5),
    school(Under::City, "江汉市第一中学", "342", "111", 2, None, 26),
];

/// Subjects taught in a stage: (subject, classes per teacher, first grade, last grade).
fn subjects(stage: &str) -> &'static [(&'static str, usize, i64, i64)] {
    match stage {
        "primary" => &[("语文", 2, 1, 6), ("数学", 2, 1, 6), ("英语", 4, 3, 6), ("科学", 6, 1, 6)],
        "junior" => &[("语文", 2, 1, 3), ("数学", 2, 1, 3), ("英语", 2, 1, 3), ("物理", 3, 2, 3), ("化学", 3, 3, 3)],
        _ => &[("语文", 2, 1, 3), ("数学", 2, 1, 3), ("英语", 2, 1, 3), ("物理", 3, 1, 3), ("化学", 3, 1, 3), ("生物", 3, 1, 3)],
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高", "郑",
    "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜",
    "叶", "程", "魏", "苏", "吕", "丁", "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖", "石", "金", "韦",
    "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦", "邱", "侯", "江", "尹", "薛", "段", "雷", "龙", "黎", "史", "陶", "贺",
    "毛", "郝", "顾", "龚", "邵", "万", "覃", "武", "戴", "严", "欧阳",
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯",
    "健", "俊", "帆", "旭", "宁", "龙", "林", "阳", "晨", "睿", "博", "轩", "泽", "昊", "然", "哲", "航", "铭", "诚", "毅", "峰",
    "远", "翔", "嘉", "子", "文", "志", "建", "国", "海", "振", "德", "立", "成", "天", "一", "思", "锦", "宏",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "燕", "玲", "桂", "丹", "萍", "红", "琳", "雪", "婷", "颖", "慧", "倩",
    "晶", "欣", "悦", "妍", "涵", "琪", "萱", "怡", "瑶", "佳", "梦", "雨", "诗", "语", "可", "心", "彤", "晴", "蕾", "薇", "月",
    "馨", "洁", "云", "菲", "楠", "思", "子", "嘉",
];

/// xorshift64*: small, fast and the same everywhere, which is all the demo needs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 16) % n.max(1) as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn gender(&mut self, female_percent: usize) -> &'static str {
        if self.percent(female_percent) { "female" } else { "male" }
    }

    fn surname(&mut self) -> &'static str {
        self.pick(SURNAMES)
    }

    fn given_name(&mut self, gender: &str) -> String {
        let chars = if gender == "female" { FEMALE_CHARS } else { MALE_CHARS };
        let first = self.pick(chars);
        if self.percent(25) {
            return first.to_string();
        }
        loop {
            let second = self.pick(chars);
            if second != first {
                return format!("{first}{second}");
            }
        }
    }

    fn name(&mut self, surname: &str, gender: &str) -> String {
        format!("{surname}{}", self.given_name(gender))
    }
}

/// Builds the whole region for the school year starting in `school_year`. Deterministic: the
/// same year gives the same region.
fn plan(school_year: i64) -> Plan {
    let mut rng = Rng::new(0x4841_4E4C_494E); // "HANLIN"
    let mut p = Plan {
        units: Vec::new(),
        classes: Vec::new(),
        people: Vec::new(),
        assignments: Vec::new(),
        guardians: Vec::new(),
        logins: Vec::new(),
    };
    let mut phones = 0u32;
    let mut next_phone = move || {
        phones += 1;
        format!("1990{phones:07}")
    };

    // The bureaus and their people.
    p.units.push(UnitPlan {
        parent: None,
        kind: "city",
        name: CITY.0.into(),
        code: CITY.1.into(),
        school_type: "",
        urban_rural: "",
    });
    let city_admin = person(&mut p, &mut rng, 50);
    p.assignments.push(AssignmentPlan { person: city_admin, role: Role::RegionAdmin, unit: 0, class: None, subject: None });
    p.logins.push(LoginPlan { person: city_admin, role: Role::RegionAdmin, login: "city-admin".into(), scope: CITY.0.into() });
    let mut district_units = Vec::new();
    for (i, (name, code)) in DISTRICTS.iter().enumerate() {
        p.units.push(UnitPlan {
            parent: Some(0),
            kind: "district",
            name: (*name).into(),
            code: (*code).into(),
            school_type: "",
            urban_rural: "",
        });
        let unit = p.units.len() - 1;
        district_units.push(unit);
        let admin = person(&mut p, &mut rng, 50);
        p.assignments.push(AssignmentPlan { person: admin, role: Role::RegionAdmin, unit, class: None, subject: None });
        p.logins.push(LoginPlan {
            person: admin,
            role: Role::RegionAdmin,
            login: format!("district{}-admin", i + 1),
            scope: (*name).into(),
        });
    }

    // The schools, their classes and teachers, students and parents.
    let mut school_units = Vec::new();
    let mut class_teachers: Vec<Vec<(usize, &'static str)>> = Vec::new();
    let mut class_head: Vec<usize> = Vec::new();
    let mut class_students: Vec<Vec<usize>> = Vec::new();
    let mut parent_of: HashMap<usize, usize> = HashMap::new();
    let mut children: HashMap<usize, usize> = HashMap::new();
    for (s, spec) in SCHOOLS.iter().enumerate() {
        let parent = match spec.under {
            Under::City => 0,
            Under::District(d) => district_units[d],
            Under::School(k) => school_units[k],
        };
        let code = format!("342990{:04}", s + 1);
        let kind = if spec.school_type == "218" { "teaching_point" } else { "school" };
        p.units.push(UnitPlan {
            parent: Some(parent),
            kind,
            name: spec.name.into(),
            code: code.clone(),
            school_type: spec.school_type,
            urban_rural: spec.urban_rural,
        });
        let unit = p.units.len() - 1;
        school_units.push(unit);

        let admin = person(&mut p, &mut rng, 50);
        p.assignments.push(AssignmentPlan { person: admin, role: Role::SchoolAdmin, unit, class: None, subject: None });
        p.logins.push(LoginPlan {
            person: admin,
            role: Role::SchoolAdmin,
            login: format!("school{:02}-admin", s + 1),
            scope: spec.name.into(),
        });

        // Administrative classes of every stage the school teaches.
        let first_class = p.classes.len();
        for stage in codes::stages_of_school_type(spec.school_type) {
            let years = codes::stage_years(stage).unwrap_or(0).min(spec.max_grade.unwrap_or(i64::MAX));
            for grade in 1..=years {
                for number in 1..=spec.classes_per_grade {
                    p.classes.push(ClassPlan { unit, stage, grade, number, entry_year: school_year - grade + 1 });
                    class_teachers.push(Vec::new());
                    class_students.push(Vec::new());
                }
            }
        }
        let classes: Vec<usize> = (first_class..p.classes.len()).collect();

        // Subject teachers, each with a few classes of one subject.
        let mut staff = 0;
        let mut next_staff = || {
            staff += 1;
            format!("{code}{staff:03}")
        };
        for stage in codes::stages_of_school_type(spec.school_type) {
            for &(subject, per_teacher, from, to) in subjects(stage) {
                let eligible: Vec<usize> = classes
                    .iter()
                    .copied()
                    .filter(|&c| p.classes[c].stage == *stage && (from..=to).contains(&p.classes[c].grade))
                    .collect();
                // A teaching point has one teacher per subject for all its grades (复式教学).
                let per_teacher = if kind == "teaching_point" { eligible.len().max(1) } else { per_teacher };
                for group in eligible.chunks(per_teacher) {
                    let female = if *stage == "primary" { 75 } else { 55 };
                    let t = person(&mut p, &mut rng, female);
                    p.people[t].phone = Some(next_phone());
                    p.people[t].staff_number = Some(next_staff());
                    p.assignments.push(AssignmentPlan { person: t, role: Role::Teacher, unit, class: None, subject: None });
                    for &c in group {
                        p.assignments.push(AssignmentPlan {
                            person: t,
                            role: Role::Teacher,
                            unit,
                            class: Some(c),
                            subject: Some(subject),
                        });
                        class_teachers[c].push((t, subject));
                    }
                }
            }
        }

        // A head teacher for each class: one of its teachers who heads no other class yet.
        let mut heads: HashSet<usize> = HashSet::new();
        for &c in &classes {
            let teachers = &class_teachers[c];
            let head = teachers.iter().map(|t| t.0).find(|t| !heads.contains(t)).unwrap_or(teachers[0].0);
            heads.insert(head);
            p.assignments.push(AssignmentPlan { person: head, role: Role::HeadTeacher, unit, class: Some(c), subject: None });
            class_head.push(head);
        }

        // Students, each with a parent; some parents have a second child in another class.
        let mut open_parents: Vec<(usize, &'static str, usize, Relation)> = Vec::new();
        let mut seq = 0;
        for &c in &classes {
            let size = (spec.class_size + rng.below(5) as i64 - 2).max(3);
            for _ in 0..size {
                let sibling = if rng.percent(8) { open_parents.iter().position(|o| o.2 != c) } else { None };
                let (parent, surname, relation, new_parent) = match sibling {
                    Some(i) => {
                        let o = open_parents.remove(i);
                        (o.0, o.1, o.3, false)
                    }
                    None => {
                        let surname = rng.surname();
                        let relation = match rng.below(100) {
                            0..=44 => Relation::Father,
                            45..=84 => Relation::Mother,
                            85..=92 => Relation::Grandmother,
                            93..=97 => Relation::Grandfather,
                            _ => Relation::Guardian,
                        };
                        let (gender, parent_surname) = match relation {
                            Relation::Father | Relation::Grandfather => ("male", surname),
                            Relation::Mother | Relation::Grandmother => ("female", rng.surname()),
                            Relation::Guardian => (rng.gender(50), surname),
                        };
                        let name = rng.name(parent_surname, gender);
                        p.people.push(PersonPlan {
                            name,
                            gender,
                            phone: Some(next_phone()),
                            student_number: None,
                            staff_number: None,
                        });
                        let parent = p.people.len() - 1;
                        (parent, surname, relation, true)
                    }
                };
                let gender = rng.gender(48);
                let name = rng.name(surname, gender);
                seq += 1;
                let number = format!("G{code}{:04}{seq:04}", p.classes[c].entry_year);
                p.people.push(PersonPlan { name, gender, phone: None, student_number: Some(number), staff_number: None });
                let student = p.people.len() - 1;
                p.assignments.push(AssignmentPlan { person: student, role: Role::Student, unit, class: Some(c), subject: None });
                if new_parent {
                    p.assignments.push(AssignmentPlan { person: parent, role: Role::Parent, unit, class: None, subject: None });
                    open_parents.push((parent, surname, c, relation));
                }
                p.guardians.push(GuardianPlan { parent, student, relation });
                class_students[c].push(student);
                parent_of.insert(student, parent);
                *children.entry(parent).or_default() += 1;
            }
        }
    }

    // The auditor, and a teacher, a head teacher, a student and a parent of one class.
    let auditor = person(&mut p, &mut rng, 50);
    p.assignments.push(AssignmentPlan { person: auditor, role: Role::Auditor, unit: 0, class: None, subject: None });
    p.logins.push(LoginPlan { person: auditor, role: Role::Auditor, login: "auditor01".into(), scope: CITY.0.into() });

    let class_of = |p: &Plan, school: usize, stage: &str, grade: i64| {
        p.classes
            .iter()
            .position(|c| c.unit == school_units[school] && c.stage == stage && c.grade == grade && c.number == 1)
            .expect("the demo class exists")
    };
    let c = class_of(&p, 0, "primary", 3);
    let school_name = SCHOOLS[0].name;
    let class_scope = format!("{school_name} {}", p.classes[c].display_name(school_year));
    let head = class_head[c];
    let teacher =
        class_teachers[c].iter().find(|t| t.0 != head && t.1 == "英语").or(class_teachers[c].iter().find(|t| t.0 != head));
    if let Some(&(t, _)) = teacher {
        p.logins.push(LoginPlan { person: t, role: Role::Teacher, login: "teacher01".into(), scope: school_name.into() });
    }
    let senior = class_of(&p, SCHOOLS.len() - 1, "senior", 1);
    if let Some(&(t, _)) = class_teachers[senior].iter().find(|t| t.1 == "物理") {
        p.logins.push(LoginPlan {
            person: t,
            role: Role::Teacher,
            login: "teacher02".into(),
            scope: SCHOOLS[SCHOOLS.len() - 1].name.into(),
        });
    }
    p.logins.push(LoginPlan { person: head, role: Role::HeadTeacher, login: "headteacher01".into(), scope: class_scope.clone() });
    // Preferably a student whose parent has two children in the demo.
    let students = &class_students[c];
    let student = students.iter().copied().find(|s| children[&parent_of[s]] > 1).unwrap_or(students[0]);
    p.logins.push(LoginPlan { person: student, role: Role::Student, login: "student01".into(), scope: class_scope.clone() });
    p.logins.push(LoginPlan { person: parent_of[&student], role: Role::Parent, login: "parent01".into(), scope: class_scope });
    p
}

/// A new adult with a fictitious name.
fn person(p: &mut Plan, rng: &mut Rng, female_percent: usize) -> usize {
    let gender = rng.gender(female_percent);
    let surname = rng.surname();
    let name = rng.name(surname, gender);
    p.people.push(PersonPlan { name, gender, phone: None, student_number: None, staff_number: None });
    p.people.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn students(p: &Plan) -> Vec<usize> {
        p.assignments.iter().filter(|a| a.role == Role::Student).map(|a| a.person).collect()
    }

    #[test]
    fn the_region_is_deterministic() {
        let (a, b) = (plan(2025), plan(2025));
        assert_eq!(a.people.len(), b.people.len());
        assert!(a.people.iter().zip(&b.people).all(|(x, y)| x.name == y.name && x.gender == y.gender));
        let mut r1 = Rng::new(7);
        let mut r2 = Rng::new(7);
        let n1: Vec<String> = (0..50).map(|_| r1.name("王", "female")).collect();
        let n2: Vec<String> = (0..50).map(|_| r2.name("王", "female")).collect();
        assert_eq!(n1, n2);
        assert!(n1.iter().collect::<HashSet<_>>().len() > 40, "names vary");
    }

    #[test]
    fn students_numbers_phones_and_codes_are_unique() {
        let p = plan(2025);
        let students = students(&p);
        assert!((1400..=1600).contains(&students.len()), "{} students", students.len());
        let numbers: HashSet<&str> = students.iter().map(|&s| p.people[s].student_number.as_deref().unwrap()).collect();
        assert_eq!(numbers.len(), students.len());
        assert!(numbers.iter().all(|n| n.len() == 19 && n.starts_with('G') && n[1..].bytes().all(|b| b.is_ascii_digit())));
        let phones: Vec<&str> = p.people.iter().filter_map(|x| x.phone.as_deref()).collect();
        assert_eq!(phones.iter().collect::<HashSet<_>>().len(), phones.len());
        assert!(phones.iter().all(|x| x.len() == 11 && x.starts_with('1')));
        let staff: Vec<&str> = p.people.iter().filter_map(|x| x.staff_number.as_deref()).collect();
        assert_eq!(staff.iter().collect::<HashSet<_>>().len(), staff.len());
        let codes: Vec<&str> = p.units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len());
        for u in &p.units {
            let ok = if u.kind == "city" || u.kind == "district" {
                codes::valid_division_code(&u.code)
            } else {
                codes::valid_school_code(&u.code)
            };
            assert!(ok, "{} {}", u.name, u.code);
        }
        let keys: HashSet<(usize, &str, i64, i64)> =
            p.classes.iter().map(|c| (c.unit, c.stage, c.entry_year, c.number)).collect();
        assert_eq!(keys.len(), p.classes.len());
    }

    #[test]
    fn every_class_has_a_head_and_every_student_a_parent() {
        let p = plan(2025);
        for c in 0..p.classes.len() {
            assert!(p.assignments.iter().any(|a| a.role == Role::HeadTeacher && a.class == Some(c)), "class {c}");
            assert!(p.assignments.iter().any(|a| a.role == Role::Student && a.class == Some(c)), "class {c}");
        }
        let students = students(&p);
        let linked: HashSet<usize> = p.guardians.iter().map(|g| g.student).collect();
        assert_eq!(linked.len(), students.len());
        let mut per_parent: HashMap<usize, usize> = HashMap::new();
        for g in &p.guardians {
            *per_parent.entry(g.parent).or_default() += 1;
        }
        assert!(per_parent.values().any(|&n| n == 2), "some parents have two children");
        let parent01 = p.logins.iter().find(|l| l.login == "parent01").unwrap();
        assert_eq!(per_parent[&parent01.person], 2, "parent01 shows a family with two children");
    }

    #[test]
    fn logins_are_unique_and_cover_every_unit_admin() {
        let p = plan(2025);
        let logins: HashSet<&str> = p.logins.iter().map(|l| l.login.as_str()).collect();
        assert_eq!(logins.len(), p.logins.len());
        assert!(logins.iter().all(|l| l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
        assert!(p.logins.len() <= 25, "{} passwords to hash", p.logins.len());
        for role in [
            "city-admin",
            "district3-admin",
            "school11-admin",
            "auditor01",
            "teacher01",
            "headteacher01",
            "student01",
            "parent01",
        ] {
            assert!(logins.contains(role), "{role}");
        }
        let admins = p.logins.iter().filter(|l| l.role.is_admin()).count();
        assert_eq!(admins, p.units.len());
        let head = p.logins.iter().find(|l| l.login == "headteacher01").unwrap();
        assert_eq!(head.scope, "文澜区实验小学 三年级1班");
        assert!(p.assignments.iter().any(|a| a.person == head.person && a.role == Role::Teacher && a.class.is_none()));
    }

    #[test]
    fn passwords_meet_both_policies() {
        assert_eq!(password_bytes(12), 9);
        assert!(password_bytes(20) * 4 / 3 >= 20);
        let p = new_password(9);
        assert_eq!(p.len(), 12);
        assert_ne!(p, new_password(9));
    }
    /// Seeds a temporary SQLite database, reuses it on the second start, and refuses a database
    /// that is not a demo.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seeds_then_reuses_and_refuses_other_databases() {
        let dir = std::env::temp_dir().join(format!("hanlin-demo-{}", kernel::secret::random_token(6)));
        let config = kernel::config::Config { data_dir: dir.clone(), ..Default::default() };
        let db = kernel::db::Db::open(&config.database_url()).await.unwrap();
        db.migrate().await.unwrap();
        let app = crate::app(config, db.clone()).unwrap();

        let started = std::time::Instant::now();
        let accounts = prepare(&app, &dir).await.unwrap();
        let took = started.elapsed();
        // A guard against seeding gone quadratic, not a timing: this is a debug build sharing the
        // cores with the rest of the suite (browsers included). The release build is ready in
        // about 8 s (README).
        assert!(took.as_secs() < 60, "seeding took {took:?}");
        assert_eq!(accounts.len(), plan(2025).logins.len());
        let passwords: HashSet<&str> = accounts.iter().map(|a| a.password.as_str()).collect();
        assert_eq!(passwords.len(), accounts.len(), "every account has its own password");

        let (students,): (i64,) =
            db.fetch_one(sql("SELECT COUNT(*) FROM role_assignments WHERE role = 'student'")).await.unwrap();
        assert!((1400..=1600).contains(&students), "{students}");
        let (hashed,): (i64,) = db.fetch_one(sql("SELECT COUNT(*) FROM people WHERE password_hash IS NOT NULL")).await.unwrap();
        assert_eq!(hashed as usize, accounts.len());
        let parent = accounts.iter().find(|a| a.login == "parent01").unwrap();
        let (kids,): (i64,) = db
            .fetch_one(
                sql("SELECT COUNT(*) FROM guardianships g JOIN people p ON p.id = g.parent_id WHERE p.login = $1")
                    .bind("parent01"),
            )
            .await
            .unwrap();
        assert_eq!(kids, 2, "{}", parent.name);

        // A living library: resources in every state, published at every level up to the city.
        let states: Vec<(String, i64)> =
            db.fetch_all(sql("SELECT status, COUNT(*) FROM resources GROUP BY status ORDER BY status")).await.unwrap();
        let count = |s: &str| states.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        assert!(count("approved") >= 200 && count("submitted") > 0 && count("rejected") > 0 && count("draft") > 0, "{states:?}");
        let (levels,): (i64,) =
            db.fetch_one(sql("SELECT COUNT(DISTINCT level) FROM publications WHERE status = 'approved'")).await.unwrap();
        assert_eq!(levels, 3, "school, district and city");
        let (nodes,): (i64,) = db.fetch_one(sql("SELECT COUNT(*) FROM catalogue_nodes")).await.unwrap();
        assert!(nodes > 263, "the catalogue's textbooks, chapters and sections");
        for table in ["ratings", "comments", "lesson_packages", "lesson_package_items"] {
            let (n,): (i64,) = db.fetch_one(sql(format!("SELECT COUNT(*) FROM {table}"))).await.unwrap();
            assert!(n > 0, "the demo has {table}");
        }

        let again = prepare(&app, &dir).await.unwrap();
        assert_eq!(
            again.iter().map(|a| &a.password).collect::<Vec<_>>(),
            accounts.iter().map(|a| &a.password).collect::<Vec<_>>()
        );

        std::fs::remove_file(dir.join(ACCOUNTS_FILE)).unwrap();
        let refused = prepare(&app, &dir).await.unwrap_err().to_string();
        assert!(refused.contains("non-demo database"), "{refused}");
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

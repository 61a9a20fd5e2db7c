//! Pass one: every row checked against the file (duplicates) and the database (references,
//! scope, conflicts) before anything is written. Read-only.

use super::refs::Refs;
use super::rows::{ClassRef, ParentCols, Problem, Row};
use crate::columns::{Field, HeaderMap};
use kernel::db::{Db, DbError, sql_in};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};

pub struct Checker {
    refs: Refs,
    hasher: RandomState,
    /// Keys seen so far in the file (hashed to keep a 7,000,000-row file in bounded memory) → first row.
    seen: HashMap<u64, u32>,
    /// Parent phone → (name hash, first row): one phone, one person.
    parent_names: HashMap<u64, (u64, u32)>,
}

fn problem(map: &HeaderMap, row: u32, field: Field, value: &str, key: &'static str) -> Problem {
    Problem { row, column: map.header_of(field).to_string(), value: value.to_string(), key, args: vec![] }
}

/// How a class is written back in messages: 三年级2班.
pub fn class_label(c: ClassRef) -> String {
    format!("{}{}班", directory::codes::grade_name(c.stage, c.grade, kernel::i18n::Locale::ZhCn), c.number)
}

#[derive(sqlx::FromRow)]
struct KeyPath {
    key: String,
    path: String,
}

#[derive(sqlx::FromRow)]
struct KeyName {
    key: String,
    name: String,
    staff_number: Option<String>,
}

impl Checker {
    pub fn new(refs: Refs) -> Checker {
        Checker { refs, hasher: RandomState::new(), seen: HashMap::new(), parent_names: HashMap::new() }
    }

    /// The references, for pass two; the maps of keys seen (tens of megabytes for a province
    /// file) are freed here rather than kept through the writing.
    pub fn into_refs(self) -> Refs {
        self.refs
    }

    fn hash(&self, v: impl Hash) -> u64 {
        self.hasher.hash_one(v)
    }

    /// Records a key; returns the first row that had it, if this is a repeat.
    fn first_seen(&mut self, key: impl Hash, row: u32) -> Option<u32> {
        let h = self.hash(key);
        match self.seen.get(&h) {
            Some(first) => Some(*first),
            None => {
                self.seen.insert(h, row);
                None
            }
        }
    }

    fn duplicate(&mut self, map: &HeaderMap, row: u32, field: Field, tag: &str, value: &str, out: &mut Vec<Problem>) {
        if let Some(first) = self.first_seen((tag, value), row) {
            let mut p = problem(map, row, field, value, "roster-error-duplicate");
            p.args.push(("first", first.to_string()));
            out.push(p);
        }
    }

    fn parent_in_file(&mut self, map: &HeaderMap, row: u32, n: u8, p: &ParentCols, out: &mut Vec<Problem>) {
        let (phone, name) = (self.hash(("parent", &p.phone)), self.hash(&p.name));
        match self.parent_names.get(&phone) {
            Some((other, first)) if *other != name => {
                let mut pr = problem(map, row, Field::ParentPhone(n), &p.phone, "roster-error-parent-phone-other-name");
                pr.args.push(("first", first.to_string()));
                out.push(pr);
            }
            Some(_) => {}
            None => {
                self.parent_names.insert(phone, (name, row));
            }
        }
    }

    fn school(&self, map: &HeaderMap, row: u32, code: &str, out: &mut Vec<Problem>) -> Option<i64> {
        let s = self.refs.schools.get(code).map(|s| s.id);
        if s.is_none() {
            out.push(problem(map, row, Field::SchoolCode, code, "roster-error-school-not-found"));
        }
        s
    }

    fn class(&self, map: &HeaderMap, row: u32, field: Field, school: Option<i64>, c: ClassRef, out: &mut Vec<Problem>) {
        if let Some(school) = school
            && self.refs.class_id(school, c).is_none()
        {
            out.push(problem(map, row, field, &class_label(c), "roster-error-class-not-found"));
        }
    }

    /// Checks a chunk; returns its problems (rows with none are good to apply).
    pub async fn check(&mut self, db: &Db, map: &HeaderMap, rows: &[(u32, Row)]) -> Result<Vec<Problem>, DbError> {
        let mut out = Vec::new();
        for (n, row) in rows {
            let n = *n;
            match row {
                Row::School(s) => {
                    self.duplicate(map, n, Field::SchoolCode, "school", &s.code, &mut out);
                    if self.refs.bureau(&s.district).is_none() {
                        out.push(problem(map, n, Field::District, &s.district, "roster-error-district-not-found"));
                    }
                }
                Row::Class(c) => {
                    let school = self.school(map, n, &c.school_code, &mut out);
                    let key = (c.school_code.as_str(), c.kind, c.class.stage, c.class.grade, c.class.number);
                    self.duplicate(map, n, Field::Class, "class", &format!("{key:?}"), &mut out);
                    if let Some(s) = school.and_then(|_| self.refs.schools.get(&c.school_code))
                        && !s.stages.split(',').any(|st| st == c.class.stage)
                    {
                        out.push(problem(map, n, Field::Grade, &class_label(c.class), "roster-error-stage-not-taught"));
                    }
                    if let Some(y) = c.entry_year
                        && y != self.refs.school_year - c.class.grade + 1
                    {
                        let mut p = problem(map, n, Field::EntryYear, &y.to_string(), "roster-error-entry-year-grade");
                        p.args.push(("expected", (self.refs.school_year - c.class.grade + 1).to_string()));
                        out.push(p);
                    }
                }
                Row::Teacher(t) => {
                    let school = self.school(map, n, &t.school_code, &mut out);
                    for c in &t.classes {
                        self.class(map, n, Field::ClassesTaught, school, *c, &mut out);
                    }
                    if let Some(c) = t.head_class {
                        self.class(map, n, Field::HeadClass, school, c, &mut out);
                    }
                    self.duplicate(map, n, Field::StaffNumber, "staff", &t.staff_number, &mut out);
                    self.duplicate(map, n, Field::Phone, "phone", &t.phone, &mut out);
                }
                Row::Student(s) => {
                    let school = self.school(map, n, &s.school_code, &mut out);
                    self.class(map, n, Field::Class, school, s.class, &mut out);
                    self.duplicate(map, n, Field::StudentNumber, "student", &s.student_number, &mut out);
                    for (i, p) in s.parents.iter().enumerate() {
                        self.parent_in_file(map, n, i as u8 + 1, p, &mut out);
                    }
                }
                Row::Parent(p) => {
                    self.duplicate(
                        map,
                        n,
                        Field::ParentPhone(1),
                        "link",
                        &format!("{}/{}", p.student_number, p.parent.phone),
                        &mut out,
                    );
                    self.parent_in_file(map, n, 1, &p.parent, &mut out);
                }
                Row::Headcount(h) => {
                    self.school(map, n, &h.school_code, &mut out);
                    self.duplicate(map, n, Field::Year, "headcount", &format!("{}/{}", h.school_code, h.year), &mut out);
                }
            }
        }
        self.check_database(db, map, rows, &mut out).await?;
        Ok(out)
    }

    /// Whether the person with `key` holds the role somewhere outside the importer's scope.
    fn held_elsewhere(&self, places: &HashMap<String, Vec<String>>, key: &str) -> bool {
        places.get(key).is_some_and(|paths| paths.iter().any(|p| !self.refs.in_scope(p)))
    }

    async fn check_database(&self, db: &Db, map: &HeaderMap, rows: &[(u32, Row)], out: &mut Vec<Problem>) -> Result<(), DbError> {
        let Some((_, first)) = rows.first() else { return Ok(()) };
        match first {
            Row::School(_) => {
                let codes: Vec<&str> =
                    rows.iter().filter_map(|(_, r)| if let Row::School(s) = r { Some(s.code.as_str()) } else { None }).collect();
                let found: Vec<KeyPath> = db
                    .fetch_all(sql_in(db.dialect(), "SELECT code AS key, path FROM org_units WHERE code", codes.iter().copied()))
                    .await?;
                for (n, r) in rows {
                    if let Row::School(s) = r
                        && found.iter().any(|f| f.key == s.code && !self.refs.in_scope(&f.path))
                    {
                        out.push(problem(map, *n, Field::SchoolCode, &s.code, "roster-error-school-out-of-scope"));
                    }
                }
            }
            Row::Teacher(_) => {
                let staff: Vec<&str> = rows
                    .iter()
                    .filter_map(|(_, r)| if let Row::Teacher(t) = r { Some(t.staff_number.as_str()) } else { None })
                    .collect();
                let phones: Vec<&str> = rows
                    .iter()
                    .filter_map(|(_, r)| if let Row::Teacher(t) = r { Some(t.phone.as_str()) } else { None })
                    .collect();
                // Two lookups at once: on PostgreSQL each waits on the server, not on this process.
                let (elsewhere, holders) =
                    tokio::try_join!(current_places(db, "staff_number", "teacher", &staff), phone_holders(db, &phones))?;
                for (n, r) in rows {
                    let Row::Teacher(t) = r else { continue };
                    if self.held_elsewhere(&elsewhere, &t.staff_number) {
                        out.push(problem(map, *n, Field::StaffNumber, &t.staff_number, "roster-error-staff-elsewhere"));
                    }
                    // A phone may already be the same person's (say, a parent who teaches), never someone else's.
                    if holders.get(&t.phone).is_some_and(|h| match &h.staff_number {
                        Some(s) => *s != t.staff_number,
                        None => h.name != t.name,
                    }) {
                        out.push(problem(map, *n, Field::Phone, &t.phone, "roster-error-phone-taken"));
                    }
                }
            }
            Row::Student(_) => {
                let numbers: Vec<&str> = rows
                    .iter()
                    .filter_map(|(_, r)| if let Row::Student(s) = r { Some(s.student_number.as_str()) } else { None })
                    .collect();
                let parents: Vec<(u32, u8, &ParentCols)> = rows
                    .iter()
                    .filter_map(|(n, r)| if let Row::Student(s) = r { Some((n, s)) } else { None })
                    .flat_map(|(n, s)| s.parents.iter().enumerate().map(move |(i, p)| (*n, i as u8 + 1, p)))
                    .collect();
                let (elsewhere, phone_problems) = tokio::try_join!(
                    current_places(db, "student_number", "student", &numbers),
                    parent_phone_problems(db, map, &parents)
                )?;
                out.extend(phone_problems);
                for (n, r) in rows {
                    if let Row::Student(s) = r
                        && self.held_elsewhere(&elsewhere, &s.student_number)
                    {
                        out.push(problem(map, *n, Field::StudentNumber, &s.student_number, "roster-error-student-elsewhere"));
                    }
                }
            }
            Row::Parent(_) => {
                let numbers: Vec<&str> = rows
                    .iter()
                    .filter_map(|(_, r)| if let Row::Parent(p) = r { Some(p.student_number.as_str()) } else { None })
                    .collect();
                let parents: Vec<(u32, u8, &ParentCols)> = rows
                    .iter()
                    .filter_map(|(n, r)| if let Row::Parent(p) = r { Some((*n, 1, &p.parent)) } else { None })
                    .collect();
                let (places, phone_problems) = tokio::try_join!(
                    current_places(db, "student_number", "student", &numbers),
                    parent_phone_problems(db, map, &parents)
                )?;
                out.extend(phone_problems);
                for (n, r) in rows {
                    let Row::Parent(p) = r else { continue };
                    if !places.contains_key(&p.student_number) {
                        out.push(problem(map, *n, Field::StudentNumber, &p.student_number, "roster-error-student-not-found"));
                    } else if self.held_elsewhere(&places, &p.student_number) {
                        out.push(problem(map, *n, Field::StudentNumber, &p.student_number, "roster-error-student-elsewhere"));
                    }
                }
            }
            Row::Class(_) | Row::Headcount(_) => {}
        }
        Ok(())
    }
}

/// Parents whose phone already belongs to someone of another name: one phone, one person.
async fn parent_phone_problems(db: &Db, map: &HeaderMap, parents: &[(u32, u8, &ParentCols)]) -> Result<Vec<Problem>, DbError> {
    let phones: Vec<&str> = parents.iter().map(|p| p.2.phone.as_str()).collect();
    let holders = phone_holders(db, &phones).await?;
    Ok(parents
        .iter()
        .filter(|(_, _, p)| holders.get(&p.phone).is_some_and(|h| h.name != p.name))
        .map(|(n, i, p)| problem(map, *n, Field::ParentPhone(*i), &p.phone, "roster-error-parent-phone-taken"))
        .collect())
}

/// The people who hold these phone numbers, by phone.
async fn phone_holders(db: &Db, phones: &[&str]) -> Result<HashMap<String, KeyName>, DbError> {
    let holders: Vec<KeyName> = db
        .fetch_all(sql_in(
            db.dialect(),
            "SELECT phone AS key, name, staff_number FROM people WHERE phone",
            phones.iter().copied(),
        ))
        .await?;
    Ok(holders.into_iter().map(|h| (h.key.clone(), h)).collect())
}

/// Where the people with these keys currently hold `role`: key → unit paths.
async fn current_places(db: &Db, column: &str, role: &str, keys: &[&str]) -> Result<HashMap<String, Vec<String>>, DbError> {
    let prefix = format!(
        "SELECT p.{column} AS key, u.path FROM people p JOIN role_assignments r ON r.person_id = p.id \
         AND r.role = '{role}' AND r.ends_on IS NULL JOIN org_units u ON u.id = r.unit_id WHERE p.{column}"
    );
    let places: Vec<KeyPath> = db.fetch_all(sql_in(db.dialect(), &prefix, keys.iter().copied())).await?;
    Ok(places.into_iter().fold(HashMap::new(), |mut m, p| {
        m.entry(p.key).or_insert_with(Vec::new).push(p.path);
        m
    }))
}

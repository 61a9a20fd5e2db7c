//! Pass two: the upsert by natural key, chunk by chunk inside the job's one transaction.
//! Rows are written in multi-row statements; every change is counted as created, updated,
//! unchanged or moved, and class or school changes end the old assignment (kept as history).

use super::check::class_label;
use super::refs::{ClassKey, Refs, Unit};
use super::rows::{ClassRow, HeadcountRow, ParentCols, ParentRow, Problem, Row, SchoolRow, StudentRow, TeacherRow};
use directory::org::model::UnitInput;
use kernel::db::{Arg, DbError, Tx, list, sql, sql_in};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub moved: i64,
    pub missing: i64,
    pub marked_left: i64,
}

pub struct Applier {
    pub refs: Refs,
    pub counts: Counts,
    today: time::Date,
    now: i64,
    /// School → people of the imported role seen in the file, for the missing list.
    seen: HashMap<i64, HashSet<i64>>,
    /// Schools whose roster figures must be recomputed.
    pub schools_changed: HashSet<i64>,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    key: String,
    name: String,
    gender: Option<String>,
    phone: Option<String>,
    status: String,
}

#[derive(sqlx::FromRow, Clone)]
struct Assignment {
    id: i64,
    person_id: i64,
    role: String,
    unit_id: i64,
    class_id: Option<i64>,
    subject: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Guardianship {
    parent_id: i64,
    student_id: i64,
    relation: String,
}

/// Inserts many rows in one statement: the rows travel as one JSON array of arrays (bound as a
/// single parameter and unpacked by the database), which keeps a chunk of a million-row import to
/// a handful of statements without thousands of bound parameters. `select` reads field i as
/// `value ->> i`; `$2`, `$3`, … are the `constants`. `tail` follows the SELECT (a conflict clause,
/// `RETURNING …`); rows come back only when it returns some.
async fn bulk<T: kernel::db::Row>(
    tx: &mut Tx,
    head: &str,
    select: &str,
    rows: Vec<serde_json::Value>,
    constants: Vec<Arg>,
    tail: &str,
) -> Result<Vec<T>, DbError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let from = tx.dialect().json_rows(1);
    let text = format!("{head} SELECT {select} FROM {from} {tail}");
    let q = constants.into_iter().fold(sql(text).bind(serde_json::Value::Array(rows).to_string()), |q, a| q.bind(a));
    if tail.contains("RETURNING") { tx.fetch_all(q).await } else { tx.execute(q).await.map(|_| Vec::new()) }
}

impl Applier {
    pub fn new(refs: Refs, today: time::Date) -> Applier {
        Applier {
            refs,
            counts: Counts::default(),
            today,
            now: kernel::now(),
            seen: HashMap::new(),
            schools_changed: HashSet::new(),
        }
    }

    pub async fn apply(&mut self, tx: &mut Tx, rows: &[(u32, Row)]) -> Result<(), DbError> {
        let Some((_, first)) = rows.first() else { return Ok(()) };
        match first {
            Row::School(_) => {
                for (_, r) in rows {
                    if let Row::School(s) = r {
                        self.school(tx, s).await?;
                    }
                }
            }
            Row::Class(_) => {
                for (_, r) in rows {
                    if let Row::Class(c) = r {
                        self.class(tx, c).await?;
                    }
                }
            }
            Row::Headcount(_) => {
                for (_, r) in rows {
                    if let Row::Headcount(h) = r {
                        self.headcount(tx, h).await?;
                    }
                }
            }
            Row::Teacher(_) => {
                let teachers: Vec<&TeacherRow> =
                    rows.iter().filter_map(|(_, r)| if let Row::Teacher(t) = r { Some(t) } else { None }).collect();
                self.teachers(tx, &teachers).await?;
            }
            Row::Student(_) => {
                let students: Vec<&StudentRow> =
                    rows.iter().filter_map(|(_, r)| if let Row::Student(s) = r { Some(s) } else { None }).collect();
                self.students(tx, &students).await?;
            }
            Row::Parent(_) => {
                let parents: Vec<&ParentRow> =
                    rows.iter().filter_map(|(_, r)| if let Row::Parent(p) = r { Some(p) } else { None }).collect();
                self.parents(tx, &parents).await?;
            }
        }
        Ok(())
    }

    async fn school(&mut self, tx: &mut Tx, s: &SchoolRow) -> Result<(), DbError> {
        let Some(bureau) = self.refs.bureau(&s.district).cloned() else { return Ok(()) };
        let Some(parent) = directory::org::store::get_in(tx, bureau.id).await? else { return Ok(()) };
        let input = UnitInput {
            kind: "school".into(),
            name: s.name.clone(),
            code: s.code.clone(),
            school_type: s.school_type.clone(),
            urban_rural: s.urban_rural.clone(),
        };
        let id = match self.refs.schools.get(&s.code).cloned() {
            None => {
                let id = directory::org::store::create(tx, Some(&parent), &input).await?;
                self.counts.created += 1;
                id
            }
            Some(u) => {
                let Some(unit) = directory::org::store::get_in(tx, u.id).await? else { return Ok(()) };
                let same = u.name == s.name
                    && u.school_type.as_deref() == Some(s.school_type.as_str())
                    && u.urban_rural.as_deref() == Some(s.urban_rural.as_str());
                if !same {
                    directory::org::store::update(tx, &unit, &input).await?;
                }
                if u.parent_id != Some(parent.id) {
                    directory::org::store::move_under(tx, &unit, &parent).await?;
                    self.counts.moved += 1;
                } else if same {
                    self.counts.unchanged += 1;
                } else {
                    self.counts.updated += 1;
                }
                u.id
            }
        };
        let unit: Unit = tx
            .fetch_one(
                sql(
                    "SELECT id, kind, name, code, path, stages, school_type, urban_rural, parent_id FROM org_units WHERE id = $1",
                )
                .bind(id),
            )
            .await?;
        self.refs.schools.insert(s.code.clone(), unit);
        Ok(())
    }

    async fn class(&mut self, tx: &mut Tx, c: &ClassRow) -> Result<(), DbError> {
        let Some(school) = self.refs.schools.get(&c.school_code).map(|s| s.id) else { return Ok(()) };
        let key = ClassKey {
            kind: c.kind,
            stage: c.class.stage,
            entry_year: self.refs.school_year - c.class.grade + 1,
            number: c.class.number,
        };
        if self.refs.classes.get(&school).is_some_and(|m| m.contains_key(&key)) {
            self.counts.unchanged += 1;
            return Ok(());
        }
        let input = directory::classes::model::ClassInput {
            kind: c.kind.into(),
            stage: c.class.stage.into(),
            entry_year: key.entry_year,
            number: key.number,
            name: if c.kind == "administrative" { String::new() } else { class_label(c.class) },
            subject: String::new(),
        };
        let id = directory::classes::store::create(tx, school, &input).await?;
        self.refs.classes.entry(school).or_default().insert(key, id);
        self.schools_changed.insert(school);
        self.counts.created += 1;
        Ok(())
    }

    async fn headcount(&mut self, tx: &mut Tx, h: &HeadcountRow) -> Result<(), DbError> {
        let Some(school) = self.refs.schools.get(&h.school_code).map(|s| s.id) else { return Ok(()) };
        let current: Option<(i64, i64, i64, i64)> = tx
            .fetch_optional(
                sql("SELECT id, teachers, students, administrative_classes FROM headcounts WHERE school_id = $1 AND year = $2")
                    .bind(school)
                    .bind(h.year),
            )
            .await?;
        match current {
            Some((_, t, s, c)) if (t, s, c) == (h.teachers, h.students, h.administrative_classes) => self.counts.unchanged += 1,
            Some((id, ..)) => {
                tx.execute(
                    sql("UPDATE headcounts SET teachers = $1, students = $2, administrative_classes = $3, updated_at = $4 WHERE id = $5")
                        .bind(h.teachers)
                        .bind(h.students)
                        .bind(h.administrative_classes)
                        .bind(self.now)
                        .bind(id),
                )
                .await?;
                self.counts.updated += 1;
            }
            None => {
                tx.execute(
                    sql("INSERT INTO headcounts (school_id, year, teachers, students, administrative_classes, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(school)
                    .bind(h.year)
                    .bind(h.teachers)
                    .bind(h.students)
                    .bind(h.administrative_classes)
                    .bind(self.now),
                )
                .await?;
                self.counts.created += 1;
            }
        }
        Ok(())
    }

    /// Finds people by a natural key, creating those not found. Returns key → (id, created?).
    /// New keys are inserted first (a key that exists leaves its row alone) and only the keys that
    /// already existed are read back and compared: a first import costs one index probe per key.
    async fn upsert_people(
        &mut self,
        tx: &mut Tx,
        key_column: &str,
        people: &[(&str, &str, Option<&str>, Option<&str>)], // (key, name, gender, phone)
        changed: &mut HashSet<i64>,
    ) -> Result<HashMap<String, (i64, bool)>, DbError> {
        let mut queued = HashSet::new();
        let new_rows: Vec<serde_json::Value> = people
            .iter()
            .filter(|p| queued.insert(p.0))
            .map(|&(key, name, gender, phone)| serde_json::json!([name, gender, phone, key]))
            .collect();
        // Parents are keyed by the phone itself; others carry their number beside it.
        let (head, select) = if key_column == "phone" {
            (
                "INSERT INTO people (name, gender, phone, created_at, updated_at)".to_string(),
                "value ->> 0, value ->> 1, value ->> 2, $2, $2",
            )
        } else {
            (
                format!("INSERT INTO people (name, gender, phone, {key_column}, created_at, updated_at)"),
                "value ->> 0, value ->> 1, value ->> 2, value ->> 3, $2, $2",
            )
        };
        // `WHERE true`: SQLite would read the ON of ON CONFLICT as a join's without it.
        let tail =
            format!("WHERE true ON CONFLICT ({key_column}) WHERE {key_column} IS NOT NULL DO NOTHING RETURNING id, {key_column}");
        let created: Vec<(i64, String)> = bulk(tx, &head, select, new_rows, vec![Arg::from(self.now)], &tail).await?;
        let mut out: HashMap<String, (i64, bool)> = created.into_iter().map(|(id, key)| (key, (id, true))).collect();
        let known: Vec<&str> = queued.into_iter().filter(|k| !out.contains_key(*k)).collect();
        if known.is_empty() {
            return Ok(out);
        }
        let existing: Vec<Existing> = tx
            .fetch_all(sql_in(
                tx.dialect(),
                &format!("SELECT id, {key_column} AS key, name, gender, phone, status FROM people WHERE {key_column}"),
                &known,
            ))
            .await?;
        let by_key: HashMap<&str, &Existing> = existing.iter().map(|e| (e.key.as_str(), e)).collect();
        for &(key, name, gender, phone) in people {
            let Some(e) = by_key.get(key) else { continue };
            out.insert(key.to_string(), (e.id, false));
            let same = e.name == name
                && (gender.is_none() || e.gender.as_deref() == gender)
                && (phone.is_none() || e.phone.as_deref() == phone)
                && e.status == "active";
            if !same && changed.insert(e.id) {
                tx.execute(
                    sql("UPDATE people SET name = $1, gender = COALESCE($2, gender), phone = COALESCE($3, phone), \
                         status = 'active', updated_at = $4 WHERE id = $5")
                    .bind(name)
                    .bind(gender)
                    .bind(phone)
                    .bind(self.now)
                    .bind(e.id),
                )
                .await?;
            }
        }
        Ok(out)
    }

    async fn current_assignments(&self, tx: &mut Tx, roles: &str, person_ids: &[i64]) -> Result<Vec<Assignment>, DbError> {
        tx.fetch_all(sql_in(
            tx.dialect(),
            &format!(
                "SELECT id, person_id, role, unit_id, class_id, subject FROM role_assignments \
                 WHERE role IN ({roles}) AND ends_on IS NULL AND person_id"
            ),
            person_ids,
        ))
        .await
    }

    async fn end_assignments(&self, tx: &mut Tx, ids: &[i64]) -> Result<(), DbError> {
        for batch in ids.chunks(500) {
            let text =
                format!("UPDATE role_assignments SET ends_on = $1 WHERE ends_on IS NULL AND id IN ({})", list(batch.len(), 2));
            tx.execute(batch.iter().fold(sql(text).bind(self.today), |q, id| q.bind(*id))).await?;
        }
        Ok(())
    }

    fn assignment_row(
        &self,
        person_id: i64,
        role: &str,
        unit_id: i64,
        class_id: Option<i64>,
        subject: Option<&str>,
    ) -> serde_json::Value {
        serde_json::json!([person_id, role, unit_id, class_id, subject])
    }

    async fn insert_assignments(&self, tx: &mut Tx, rows: Vec<serde_json::Value>) -> Result<(), DbError> {
        bulk::<(i64,)>(
            tx,
            "INSERT INTO role_assignments (person_id, role, unit_id, class_id, subject, starts_on, created_at)",
            "CAST(value ->> 0 AS BIGINT), value ->> 1, CAST(value ->> 2 AS BIGINT), CAST(value ->> 3 AS BIGINT), value ->> 4, $2, $3",
            rows,
            vec![Arg::from(self.today), Arg::from(self.now)],
            "",
        )
        .await
        .map(|_| ())
    }

    async fn teachers(&mut self, tx: &mut Tx, rows: &[&TeacherRow]) -> Result<(), DbError> {
        let mut changed = HashSet::new();
        let people: Vec<_> =
            rows.iter().map(|t| (t.staff_number.as_str(), t.name.as_str(), t.gender, Some(t.phone.as_str()))).collect();
        // A parent who also teaches already has an account under this phone: give it the staff number.
        for t in rows {
            tx.execute(
                sql("UPDATE people SET staff_number = $1, updated_at = $2 WHERE phone = $3 AND staff_number IS NULL AND name = $4")
                    .bind(t.staff_number.as_str())
                    .bind(self.now)
                    .bind(t.phone.as_str())
                    .bind(t.name.as_str()),
            )
            .await?;
        }
        let ids = self.upsert_people(tx, "staff_number", &people, &mut changed).await?;
        let person_ids: Vec<i64> = ids.values().map(|v| v.0).collect();
        let current = self.current_assignments(tx, "'teacher', 'head_teacher'", &person_ids).await?;
        let mut to_end = Vec::new();
        let mut to_insert = Vec::new();
        for t in rows {
            let Some(&(person, created)) = ids.get(&t.staff_number) else { continue };
            let Some(school) = self.refs.schools.get(&t.school_code).map(|s| s.id) else { continue };
            let subject = t.subject.as_deref();
            let mut wanted: Vec<(&str, Option<i64>, Option<&str>)> = vec![("teacher", None, None)];
            for c in &t.classes {
                if let Some(id) = self.refs.class_id(school, *c) {
                    wanted.push(("teacher", Some(id), subject));
                }
            }
            if let Some(id) = t.head_class.and_then(|c| self.refs.class_id(school, c)) {
                wanted.push(("head_teacher", Some(id), None));
                to_end.extend(self.other_head_teachers(tx, id, person).await?);
            }
            let mine: Vec<&Assignment> = current.iter().filter(|a| a.person_id == person).collect();
            let moved = !created && !mine.is_empty() && !mine.iter().any(|a| a.unit_id == school);
            let mut assignments_changed = false;
            for a in &mine {
                let keep = a.unit_id == school
                    && wanted.iter().any(|(role, class, subj)| {
                        a.role == *role && a.class_id == *class && (class.is_none() || a.subject.as_deref() == *subj)
                    });
                if !keep {
                    to_end.push(a.id);
                    self.schools_changed.insert(a.unit_id);
                    assignments_changed = true;
                }
            }
            for (role, class, subj) in &wanted {
                let have = mine.iter().any(|a| {
                    a.unit_id == school
                        && a.role == *role
                        && a.class_id == *class
                        && (class.is_none() || a.subject.as_deref() == *subj)
                });
                if !have {
                    to_insert.push(self.assignment_row(person, role, school, *class, *subj));
                    assignments_changed = true;
                }
            }
            self.seen.entry(school).or_default().insert(person);
            self.schools_changed.insert(school);
            self.count(created, moved, assignments_changed || changed.contains(&person));
        }
        self.end_assignments(tx, &to_end).await?;
        self.insert_assignments(tx, to_insert).await
    }

    async fn other_head_teachers(&self, tx: &mut Tx, class_id: i64, person: i64) -> Result<Vec<i64>, DbError> {
        let rows: Vec<(i64,)> = tx
            .fetch_all(
                sql("SELECT id FROM role_assignments WHERE role = 'head_teacher' AND class_id = $1 AND person_id <> $2 AND ends_on IS NULL")
                    .bind(class_id)
                    .bind(person),
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    fn count(&mut self, created: bool, moved: bool, changed: bool) {
        match (created, moved, changed) {
            (true, ..) => self.counts.created += 1,
            (_, true, _) => self.counts.moved += 1,
            (_, _, true) => self.counts.updated += 1,
            _ => self.counts.unchanged += 1,
        }
    }

    async fn students(&mut self, tx: &mut Tx, rows: &[&StudentRow]) -> Result<(), DbError> {
        let mut changed = HashSet::new();
        let people: Vec<_> = rows.iter().map(|s| (s.student_number.as_str(), s.name.as_str(), s.gender, None)).collect();
        let ids = self.upsert_people(tx, "student_number", &people, &mut changed).await?;
        let person_ids: Vec<i64> = ids.values().filter(|v| !v.1).map(|v| v.0).collect();
        let current = self.current_assignments(tx, "'student'", &person_ids).await?;
        let current: HashMap<i64, Vec<&Assignment>> = current.iter().fold(HashMap::new(), |mut m, a| {
            m.entry(a.person_id).or_insert_with(Vec::new).push(a);
            m
        });
        let mut to_end = Vec::new();
        let mut to_insert = Vec::new();
        let mut links: Vec<(i64, i64, &ParentCols)> = Vec::new(); // (student, school, parent)
        let mut placed = Vec::with_capacity(rows.len());
        for s in rows {
            let Some(&(person, created)) = ids.get(&s.student_number) else { continue };
            let Some(school) = self.refs.schools.get(&s.school_code).map(|u| u.id) else { continue };
            let Some(class) = self.refs.class_id(school, s.class) else { continue };
            let mine = current.get(&person).map(Vec::as_slice).unwrap_or_default();
            let in_place = mine.iter().any(|a| a.unit_id == school && a.class_id == Some(class));
            let moved = !in_place && !mine.is_empty();
            if !in_place {
                for a in mine {
                    to_end.push(a.id);
                    self.schools_changed.insert(a.unit_id);
                }
                to_insert.push(self.assignment_row(person, "student", school, Some(class), None));
            }
            links.extend(s.parents.iter().map(|p| (person, school, p)));
            self.seen.entry(school).or_default().insert(person);
            self.schools_changed.insert(school);
            placed.push((person, created, moved, !in_place && !moved));
        }
        self.end_assignments(tx, &to_end).await?;
        self.insert_assignments(tx, to_insert).await?;
        let new_students: HashSet<i64> = ids.values().filter(|v| v.1).map(|v| v.0).collect();
        let relinked = self.link_parents(tx, &links, &new_students).await?;
        for (person, created, moved, first_placement) in placed {
            self.count(created, moved, first_placement || changed.contains(&person) || relinked.contains(&person));
        }
        Ok(())
    }

    /// Creates or finds parents by phone, gives them the parent role at the child's school and links
    /// them to the child. Returns the students whose links changed. Links not in the file stay.
    /// `new_students` were created by this chunk: they have no links yet, so they are not looked up.
    async fn link_parents(
        &mut self,
        tx: &mut Tx,
        links: &[(i64, i64, &ParentCols)],
        new_students: &HashSet<i64>,
    ) -> Result<HashSet<i64>, DbError> {
        let mut changed_people = HashSet::new();
        let people: Vec<_> =
            links.iter().map(|(_, _, p)| (p.phone.as_str(), p.name.as_str(), None, Some(p.phone.as_str()))).collect();
        if people.is_empty() {
            return Ok(HashSet::new());
        }
        let parents = self.upsert_people(tx, "phone", &people, &mut changed_people).await?;
        let parent_ids: Vec<i64> = parents.values().filter(|v| !v.1).map(|v| v.0).collect();
        let roles = self.current_assignments(tx, "'parent'", &parent_ids).await?;
        let mut has_role: HashSet<(i64, i64)> = roles.iter().map(|a| (a.person_id, a.unit_id)).collect();
        let student_ids: Vec<i64> =
            links.iter().map(|l| l.0).filter(|s| !new_students.contains(s)).collect::<HashSet<_>>().into_iter().collect();
        let existing: Vec<Guardianship> = tx
            .fetch_all(sql_in(
                tx.dialect(),
                "SELECT parent_id, student_id, relation FROM guardianships WHERE student_id",
                &student_ids,
            ))
            .await?;
        let mut linked: HashMap<(i64, i64), &str> =
            existing.iter().map(|g| ((g.parent_id, g.student_id), g.relation.as_str())).collect();
        let mut role_rows = Vec::new();
        let mut link_rows = Vec::new();
        let mut changed_students = HashSet::new();
        for (student, school, p) in links {
            let Some(&(parent, _)) = parents.get(&p.phone) else { continue };
            if has_role.insert((parent, *school)) {
                role_rows.push(self.assignment_row(parent, "parent", *school, None, None));
            }
            match linked.get(&(parent, *student)) {
                Some(r) if *r == p.relation => {}
                Some(_) => {
                    tx.execute(
                        sql("UPDATE guardianships SET relation = $1 WHERE parent_id = $2 AND student_id = $3")
                            .bind(p.relation)
                            .bind(parent)
                            .bind(*student),
                    )
                    .await?;
                    changed_students.insert(*student);
                }
                None => {
                    linked.insert((parent, *student), p.relation);
                    link_rows.push(serde_json::json!([parent, *student, p.relation]));
                    changed_students.insert(*student);
                }
            }
            if changed_people.contains(&parent) {
                changed_students.insert(*student);
            }
        }
        self.insert_assignments(tx, role_rows).await?;
        bulk::<(i64,)>(
            tx,
            "INSERT INTO guardianships (parent_id, student_id, relation, created_at)",
            "CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), value ->> 2, $2",
            link_rows,
            vec![Arg::from(self.now)],
            "",
        )
        .await?;
        Ok(changed_students)
    }

    async fn parents(&mut self, tx: &mut Tx, rows: &[&ParentRow]) -> Result<(), DbError> {
        let numbers: Vec<&str> = rows.iter().map(|p| p.student_number.as_str()).collect();
        let students: Vec<(i64, String, i64)> = tx
            .fetch_all(sql_in(
                tx.dialect(),
                "SELECT p.id, p.student_number, r.unit_id FROM people p JOIN role_assignments r ON r.person_id = p.id \
                 AND r.role = 'student' AND r.ends_on IS NULL WHERE p.student_number",
                &numbers,
            ))
            .await?;
        let by_number: HashMap<&str, (i64, i64)> = students.iter().map(|s| (s.1.as_str(), (s.0, s.2))).collect();
        let phones: Vec<&str> = rows.iter().map(|p| p.parent.phone.as_str()).collect();
        let known: Vec<(i64, String)> =
            tx.fetch_all(sql_in(tx.dialect(), "SELECT id, phone FROM people WHERE phone", &phones)).await?;
        let known: HashSet<&str> = known.iter().map(|k| k.1.as_str()).collect();
        let links: Vec<(i64, i64, &ParentCols)> = rows
            .iter()
            .filter_map(|p| by_number.get(p.student_number.as_str()).map(|(s, school)| (*s, *school, &p.parent)))
            .collect();
        let changed = self.link_parents(tx, &links, &HashSet::new()).await?;
        for p in rows {
            let Some((student, school)) = by_number.get(p.student_number.as_str()) else { continue };
            self.schools_changed.insert(*school);
            self.count(!known.contains(p.parent.phone.as_str()), false, changed.contains(student));
        }
        Ok(())
    }

    /// Lists (and, if asked, marks as left) the people of each school in the file whom the file
    /// no longer lists: a full-school file says who is there, but nobody is removed silently.
    pub async fn missing(&mut self, tx: &mut Tx, role: &str, key_column: &str, mark_left: bool) -> Result<Vec<Problem>, DbError> {
        let mut out = Vec::new();
        // Everyone the file listed now holds the role at their school, so where as many people
        // hold it as the file listed, nobody is missing: only the other schools are read in full.
        let mut schools: Vec<i64> = Vec::new();
        let listed: Vec<i64> = self.seen.keys().copied().collect();
        for batch in listed.chunks(1000) {
            let holders: Vec<(i64, i64)> = tx
                .fetch_all(
                    sql_in(
                        tx.dialect(),
                        &format!(
                            "SELECT unit_id, COUNT(DISTINCT person_id) FROM role_assignments \
                             WHERE role = '{role}' AND ends_on IS NULL AND unit_id"
                        ),
                        batch,
                    )
                    .append(" GROUP BY unit_id"),
                )
                .await?;
            schools.extend(
                holders.into_iter().filter(|(s, n)| self.seen.get(s).is_none_or(|seen| seen.len() as i64 != *n)).map(|h| h.0),
            );
        }
        for school in schools {
            let rows: Vec<(i64, i64, String, Option<String>)> = tx
                .fetch_all(
                    sql(format!(
                        "SELECT r.id, p.id, p.name, p.{key_column} FROM role_assignments r JOIN people p ON p.id = r.person_id \
                         WHERE r.unit_id = $1 AND r.role = $2 AND r.ends_on IS NULL ORDER BY p.id"
                    ))
                    .bind(school)
                    .bind(role),
                )
                .await?;
            let seen = self.seen.get(&school).cloned().unwrap_or_default();
            let gone: Vec<&(i64, i64, String, Option<String>)> = rows.iter().filter(|r| !seen.contains(&r.1)).collect();
            self.counts.missing += gone.len() as i64;
            for (_, _, name, key) in &gone {
                out.push(Problem {
                    row: 0,
                    column: name.clone(),
                    value: key.clone().unwrap_or_default(),
                    key: "roster-missing",
                    args: vec![],
                });
            }
            if mark_left && !gone.is_empty() {
                let people: Vec<i64> = gone.iter().map(|g| g.1).collect();
                // Their assignments at this school end (teachers: class and head-teacher ones too).
                let all: Vec<(i64,)> = tx
                    .fetch_all(sql_in(
                        tx.dialect(),
                        &format!(
                            "SELECT id FROM role_assignments WHERE ends_on IS NULL AND unit_id = {school} \
                             AND role IN ('{role}', 'head_teacher') AND person_id"
                        ),
                        &people,
                    ))
                    .await?;
                self.end_assignments(tx, &all.into_iter().map(|r| r.0).collect::<Vec<_>>()).await?;
                for batch in people.chunks(500) {
                    let q = sql_in(
                        tx.dialect(),
                        "UPDATE people SET status = 'left' WHERE NOT EXISTS (SELECT 1 FROM role_assignments r \
                         WHERE r.person_id = people.id AND r.ends_on IS NULL) AND id",
                        batch,
                    );
                    tx.execute(q).await?;
                }
                self.counts.marked_left += gone.len() as i64;
                self.schools_changed.insert(school);
            }
        }
        Ok(out)
    }
}

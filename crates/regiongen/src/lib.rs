//! Synthetic education regions for Hanlin: a fictitious but realistic Chinese province (cities,
//! districts and counties, schools, classes, teachers, students and their parents) written as the
//! roster import files, from a few dozen schools up to the scale of Hubei (16,000 schools, 550,000
//! teachers, 7,000,000 students).
//!
//! * Deterministic: the same [`Options`] give byte-identical files.
//! * Streaming: only the schools (with their grade and class counts) are held in memory; teachers,
//!   students and parents are generated row by row into a large write buffer.
//! * No dependencies: a SplitMix64 PRNG, integer arithmetic only (no floating point, so output
//!   does not depend on the platform's maths library), a hand-written CSV writer.
//!
//! Files written by [`write`] (CSV: UTF-8 with a BOM, `\r\n` line ends, RFC 4180 quoting):
//!
//! | file | header |
//! |---|---|
//! | `region.json` | `{"province":{code,name},"cities":[{code,name,parent_code}],"districts":[…]}` |
//! | `schools.csv` | `学校标识码,学校名称,办学类型,城乡类型,所属区县` |
//! | `classes.csv` | `学校标识码,年级,班级,班级类型,入学年份` |
//! | `teachers.csv` | `学校标识码,姓名,性别,教工号,手机号,任教学科,任教班级,班主任班级` |
//! | `students.csv` | `学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号` (+ `,家长2姓名,家长2关系,家长2手机号` with two parents) |
//! | `headcounts.csv` | `学校标识码,教师数,学生数,行政班数,统计年度` |
//!
//! Codes: divisions follow GB/T 2260 (`420000` → cities `420100`, `420200`, … → districts
//! `420102`…, counties from `…21`); 学校标识码 is `2` + the city's first 4 digits + a 5-digit
//! number within the city; 教工号 is `T` + the city's 4 digits + an 8-digit region-wide number;
//! 学籍号 is `G` + an 18-character 身份证-style number (district code, birth date fitting the grade,
//! a sequence number whose last digit is odd for boys and even for girls, GB 11643 check
//! character), unique by construction; mobile numbers come from a counter through a keyed
//! bijection, teachers' under prefixes (135-139, 158, 187, 188) that parents' never use.
//! 入学年份 is the year the class entered its stage (初一 in 2026 → 2026).

mod csv;
mod ids;
mod names;
mod plan;
mod rng;

use std::io;
use std::path::{Path, PathBuf};

use csv::Csv;
pub use ids::id_check_ok;
use ids::{PARENT_PREFIXES, Phones, TEACHER_PREFIXES, days_from_civil, yyyymmdd};
use names::{Name, People};
use plan::{GRADE_NAMES, Plan, grade_in_stage};
use rng::{Affine, Rng, Table, mix};

const STREAM_TEACHERS: u64 = 2;
const STREAM_STUDENTS: u64 = 3;
const STREAM_HEADCOUNTS: u64 = 4;
const STREAM_PHONES: u64 = 5;

/// How big a region to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    /// Prefecture-level cities, 1..=99.
    pub cities: u32,
    /// Districts and counties in each city, 1..=98.
    pub districts_per_city: u32,
    pub schools: u32,
    pub teachers: u64,
    pub students: u64,
    /// Parents written per student: 0, 1 or 2.
    pub parents_per_student: u8,
}

impl Size {
    /// The scale of Hubei: 13 cities of 8 districts/counties each (104; Hubei has 103 county-level
    /// divisions), 16,000 schools, 550,000 teachers, 7,000,000 students with one parent each.
    /// About 7.8 million CSV rows, about 670 MB (one parent per student).
    pub fn hubei() -> Size {
        Size {
            cities: 13,
            districts_per_city: 8,
            schools: 16_000,
            teachers: 550_000,
            students: 7_000_000,
            parents_per_student: 1,
        }
    }

    /// One city of 3 districts, 12 schools, 300 teachers, 5,000 students with one parent each.
    pub fn small() -> Size {
        Size { cities: 1, districts_per_city: 3, schools: 12, teachers: 300, students: 5_000, parents_per_student: 1 }
    }

    /// Parses `hubei`, `small`, or comma-separated `key=value` pairs over the `small()` defaults,
    /// e.g. `students=1000000,schools=2000,teachers=80000,cities=2,districts=4,parents=1`. A preset
    /// may lead the pairs (`hubei,parents=2`). Keys: `students`, `schools`, `teachers`, `cities`,
    /// `districts` (per city), `parents` (per student). Numbers may contain `_`.
    ///
    /// Students, schools and teachers hang together: when `students` is given, a missing
    /// `schools` becomes students / 440 and a missing `teachers` students / 13; without
    /// `students`, it is derived from `schools` (× 440) or else `teachers` (× 13).
    pub fn parse(s: &str) -> Result<Size, String> {
        let mut parts = s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()).peekable();
        let mut size = match parts.peek().map(|p| p.to_ascii_lowercase()) {
            Some(p) if p == "hubei" => {
                parts.next();
                Size::hubei()
            }
            Some(p) if p == "small" => {
                parts.next();
                Size::small()
            }
            _ => Size::small(),
        };
        let (mut students, mut schools, mut teachers) = (None, None, None);
        for part in parts {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("expected key=value, found {part:?}"))?;
            let key = key.trim().to_ascii_lowercase();
            let digits: String = value.trim().chars().filter(|c| *c != '_').collect();
            let n: u64 = digits.parse().map_err(|_| format!("{key}: {value:?} is not a whole number"))?;
            let small = |n: u64| u32::try_from(n).map_err(|_| format!("{key}: {n} is too large"));
            match key.as_str() {
                "students" => students = Some(n),
                "schools" => schools = Some(small(n)?),
                "teachers" => teachers = Some(n),
                "cities" => size.cities = small(n)?,
                "districts" | "districts_per_city" => size.districts_per_city = small(n)?,
                "parents" | "parents_per_student" => {
                    size.parents_per_student = u8::try_from(n).ok().filter(|p| *p <= 2).ok_or("parents must be 0, 1 or 2")?
                }
                _ => return Err(format!("unknown key {key:?} (students, schools, teachers, cities, districts, parents)")),
            }
        }
        let students = students.or(schools.map(|s| u64::from(s) * 440)).or(teachers.map(|t| t * 13));
        if let Some(students) = students {
            size.students = students;
            size.schools = match schools {
                Some(s) => s,
                None => u32::try_from(students.div_ceil(440).max(1)).map_err(|_| "too many students")?,
            };
            size.teachers = teachers.unwrap_or((students + 6) / 13);
        }
        size.check()?;
        Ok(size)
    }

    /// Whether the generator can honour this size (code spaces and naming schemes have limits).
    pub fn check(&self) -> Result<(), String> {
        if !(1..=99).contains(&self.cities) {
            return Err("cities must be 1..=99 (two digits of the division code)".into());
        }
        if !(1..=98).contains(&self.districts_per_city) {
            return Err("districts per city must be 1..=98 (two digits of the division code)".into());
        }
        if self.schools == 0 {
            return Err("at least one school is needed".into());
        }
        if u64::from(self.schools) > u64::from(self.cities) * 90_000 {
            return Err("at most 90,000 schools per city (5 digits of the school code)".into());
        }
        if self.parents_per_student > 2 {
            return Err("parents must be 0, 1 or 2".into());
        }
        if self.teachers > 99_999_999 {
            return Err("at most 99,999,999 teachers (8 digits of the staff number)".into());
        }
        let districts = u64::from(self.cities) * u64::from(self.districts_per_city);
        if self.students > districts * 2_000_000 {
            return Err(format!("at most 2,000,000 students per district on average ({districts} districts)"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub size: Size,
    pub seed: u64,
    /// The year the current school year started (2026 for 2026/27): grades, entry years, birth
    /// dates and the statistics year follow from it. 2000..=2100.
    pub start_year: i64,
    /// (name, 6-digit division code ending in 0000), e.g. ("湖北省", "420000").
    pub province: (String, String),
}

impl Options {
    /// The given size and seed, school year 2026, province ("湖北省", "420000").
    pub fn new(size: Size, seed: u64) -> Options {
        Options { size, seed, start_year: 2026, province: ("湖北省".into(), "420000".into()) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub province: Division,
    pub cities: Vec<Division>,
    /// Districts and counties, with their city's code as parent.
    pub districts: Vec<Division>,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub region: Region,
    /// The CSV files in import order: ("schools" | "classes" | "teachers" | "students" |
    /// "headcounts", path, data rows without the header). `region.json` sits beside them.
    pub files: Vec<(String, PathBuf, u64)>,
}

struct Progress<'a> {
    done: u64,
    total: u64,
    next: u64,
    f: &'a mut dyn FnMut(u64, u64),
}

impl Progress<'_> {
    const EVERY: u64 = 1 << 16;

    #[inline]
    fn row(&mut self) {
        self.done += 1;
        if self.done >= self.next {
            self.next = self.done + Self::EVERY;
            (self.f)(self.done, self.total);
        }
    }

    fn report(&mut self) {
        (self.f)(self.done, self.total);
    }
}

/// Writes `region.json`, `schools.csv`, `classes.csv`, `teachers.csv`, `students.csv` and
/// `headcounts.csv` into `dir` (created if missing), replacing files of those names. `progress`
/// is called every 65,536 rows and after each file with (rows written so far, total rows).
/// Invalid options fail with [`io::ErrorKind::InvalidInput`].
pub fn write(dir: &Path, options: &Options, progress: &mut dyn FnMut(u64, u64)) -> io::Result<Written> {
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
    if !(2000..=2100).contains(&options.start_year) {
        return Err(invalid("start_year must be 2000..=2100".into()));
    }
    let plan = plan::build(options).map_err(invalid)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("region.json"), region_json(&plan.region))?;

    let size = &options.size;
    let schools = plan.schools.len() as u64;
    let total = schools * 2 + plan.classes + size.teachers + size.students;
    let mut progress = Progress { done: 0, total, next: 0, f: progress };
    progress.report();
    progress.next = Progress::EVERY;
    let mut files = Vec::new();
    let file = |kind: &str, rows: u64, files: &mut Vec<(String, PathBuf, u64)>| {
        files.push((kind.to_string(), dir.join(format!("{kind}.csv")), rows));
    };
    file("schools", write_schools(&dir.join("schools.csv"), &plan, &mut progress)?, &mut files);
    file("classes", write_classes(&dir.join("classes.csv"), &plan, options, &mut progress)?, &mut files);
    file("teachers", write_teachers(&dir.join("teachers.csv"), &plan, options, &mut progress)?, &mut files);
    file("students", write_students(&dir.join("students.csv"), &plan, options, &mut progress)?, &mut files);
    file("headcounts", write_headcounts(&dir.join("headcounts.csv"), &plan, options, &mut progress)?, &mut files);
    Ok(Written { region: plan.region, files })
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn region_json(region: &Region) -> String {
    let mut out = String::from("{\n  \"province\": {\"code\": ");
    json_str(&mut out, &region.province.code);
    out.push_str(", \"name\": ");
    json_str(&mut out, &region.province.name);
    out.push_str("},\n");
    for (key, list, last) in [("cities", &region.cities, false), ("districts", &region.districts, true)] {
        out.push_str(&format!("  \"{key}\": ["));
        for (i, d) in list.iter().enumerate() {
            out.push_str(if i == 0 { "\n    {\"code\": " } else { ",\n    {\"code\": " });
            json_str(&mut out, &d.code);
            out.push_str(", \"name\": ");
            json_str(&mut out, &d.name);
            out.push_str(", \"parent_code\": ");
            match &d.parent_code {
                Some(p) => json_str(&mut out, p),
                None => out.push_str("null"),
            }
            out.push('}');
        }
        out.push_str(if list.is_empty() { "]" } else { "\n  ]" });
        out.push_str(if last { "\n" } else { ",\n" });
    }
    out.push_str("}\n");
    out
}

fn write_schools(path: &Path, plan: &Plan, progress: &mut Progress) -> io::Result<u64> {
    let mut csv = Csv::create(path, &["学校标识码", "学校名称", "办学类型", "城乡类型", "所属区县"])?;
    for s in &plan.schools {
        csv.raw(&s.code);
        csv.comma();
        csv.text(&s.name);
        csv.comma();
        csv.raw(s.kind.code().as_bytes());
        csv.comma();
        csv.raw(s.urban.as_bytes());
        csv.comma();
        csv.raw(&plan.districts[s.district].code);
        csv.end()?;
        progress.row();
    }
    let rows = csv.finish()?;
    progress.report();
    Ok(rows)
}

fn write_classes(path: &Path, plan: &Plan, options: &Options, progress: &mut Progress) -> io::Result<u64> {
    let mut csv = Csv::create(path, &["学校标识码", "年级", "班级", "班级类型", "入学年份"])?;
    for s in &plan.schools {
        for g in &s.grades {
            let entry = (options.start_year - i64::from(grade_in_stage(g.grade)) + 1) as u64;
            for k in 1..=g.classes {
                csv.raw(&s.code);
                csv.comma();
                csv.raw(GRADE_NAMES[usize::from(g.grade - 1)].as_bytes());
                csv.comma();
                csv.num(u64::from(k));
                csv.raw("班,行政班,".as_bytes());
                csv.num(entry);
                csv.end()?;
                progress.row();
            }
        }
    }
    let rows = csv.finish()?;
    progress.report();
    Ok(rows)
}

fn push_class(buf: &mut Vec<u8>, grade: u8, class: u32) {
    buf.extend_from_slice(GRADE_NAMES[usize::from(grade - 1)].as_bytes());
    csv::push_num(buf, u64::from(class));
    buf.extend_from_slice("班".as_bytes());
}

const PRIMARY_SUBJECTS: &[(&str, u32)] = &[
    ("语文", 280),
    ("数学", 240),
    ("英语", 100),
    ("科学", 60),
    ("道德与法治", 60),
    ("音乐", 60),
    ("体育", 80),
    ("美术", 60),
    ("信息技术", 40),
];
const JUNIOR1_SUBJECTS: &[(&str, u32)] = &[
    ("语文", 160),
    ("数学", 160),
    ("英语", 150),
    ("生物", 80),
    ("历史", 70),
    ("地理", 80),
    ("道德与法治", 80),
    ("音乐", 40),
    ("体育", 80),
    ("美术", 40),
    ("信息技术", 40),
];
const JUNIOR2_SUBJECTS: &[(&str, u32)] = &[
    ("语文", 160),
    ("数学", 160),
    ("英语", 150),
    ("物理", 100),
    ("生物", 80),
    ("历史", 70),
    ("地理", 80),
    ("道德与法治", 80),
    ("音乐", 30),
    ("体育", 80),
    ("美术", 30),
    ("信息技术", 30),
];
const JUNIOR3_SUBJECTS: &[(&str, u32)] = &[
    ("语文", 160),
    ("数学", 160),
    ("英语", 150),
    ("物理", 110),
    ("化学", 100),
    ("历史", 60),
    ("道德与法治", 80),
    ("音乐", 20),
    ("体育", 90),
    ("美术", 20),
    ("信息技术", 20),
];
const SENIOR_SUBJECTS: &[(&str, u32)] = &[
    ("语文", 140),
    ("数学", 140),
    ("英语", 140),
    ("物理", 100),
    ("化学", 90),
    ("生物", 80),
    ("历史", 70),
    ("地理", 70),
    ("道德与法治", 60),
    ("音乐", 20),
    ("体育", 60),
    ("美术", 20),
    ("信息技术", 30),
];
const PRIMARY_HEAD_SUBJECTS: &[(&str, u32)] = &[("语文", 600), ("数学", 350), ("英语", 50)];
const SECONDARY_HEAD_SUBJECTS: &[(&str, u32)] =
    &[("语文", 350), ("数学", 300), ("英语", 250), ("物理", 50), ("化学", 20), ("生物", 20), ("历史", 10)];

fn write_teachers(path: &Path, plan: &Plan, options: &Options, progress: &mut Progress) -> io::Result<u64> {
    let mut csv = Csv::create(path, &["学校标识码", "姓名", "性别", "教工号", "手机号", "任教学科", "任教班级", "班主任班级"])?;
    let people = People::new();
    let subjects: Vec<Table<&str>> =
        [PRIMARY_SUBJECTS, JUNIOR1_SUBJECTS, JUNIOR2_SUBJECTS, JUNIOR3_SUBJECTS, SENIOR_SUBJECTS].map(Table::new).into();
    let subjects_of = |grade: u8| {
        &subjects[match grade {
            1..=6 => 0,
            7 => 1,
            8 => 2,
            9 => 3,
            _ => 4,
        }]
    };
    let (primary_head, secondary_head) = (Table::new(PRIMARY_HEAD_SUBJECTS), Table::new(SECONDARY_HEAD_SUBJECTS));
    let phones = Phones::new(TEACHER_PREFIXES, mix(options.seed ^ STREAM_PHONES));
    let mut counter = 0u64;
    // (grade, class number, index one past the last class of the grade) of every class of a school.
    let mut classes: Vec<(u8, u32, usize)> = Vec::new();
    for (si, s) in plan.schools.iter().enumerate() {
        let mut rng = Rng::derive(options.seed, STREAM_TEACHERS, si as u64);
        classes.clear();
        for g in &s.grades {
            let end = classes.len() + g.classes as usize;
            classes.extend((1..=g.classes).map(|k| (g.grade, k, end)));
        }
        // Head teachers are spread over the staff list rather than listed first.
        let heads = Affine::new(&mut rng, s.teachers);
        let top_grade = *s.kind.grades().end();
        for t in 0..s.teachers {
            let head = Some(heads.map(t) as usize).filter(|h| *h < classes.len());
            let (subject, first, count) = match head {
                Some(h) => {
                    let grade = classes[h].0;
                    let table = if grade <= 6 { &primary_head } else { &secondary_head };
                    let more = h + 1 < classes[h].2 && rng.chance(350);
                    (table.pick(&mut rng), h, 1 + usize::from(more))
                }
                None if !classes.is_empty() => {
                    let c = rng.below(classes.len() as u64) as usize;
                    let count = (rng.range(1, 3) as usize).min(classes[c].2 - c);
                    (subjects_of(classes[c].0).pick(&mut rng), c, count)
                }
                None => (subjects_of(top_grade).pick(&mut rng), 0, 0),
            };
            let female = match top_grade {
                1..=6 => 750,
                7..=9 => 620,
                _ => 520,
            };
            let male = !rng.chance(female);
            counter += 1;
            csv.raw(&s.code);
            csv.comma();
            people.any(&mut rng, male).write(csv.buf());
            csv.raw(if male { ",男,T".as_bytes() } else { ",女,T".as_bytes() });
            let mut staff = [0u8; 12];
            staff[..4].copy_from_slice(&s.code[1..5]);
            ids::write_padded(&mut staff[4..], counter);
            csv.raw(&staff);
            csv.comma();
            csv.raw(&phones.number(counter - 1));
            csv.comma();
            csv.raw(subject.as_bytes());
            csv.comma();
            for (i, &(grade, class, _)) in classes[first..first + count].iter().enumerate() {
                if i > 0 {
                    csv.raw("、".as_bytes());
                }
                push_class(csv.buf(), grade, class);
            }
            csv.comma();
            if let Some(h) = head {
                push_class(csv.buf(), classes[h].0, classes[h].1);
            }
            csv.end()?;
            progress.row();
        }
    }
    let rows = csv.finish()?;
    progress.report();
    Ok(rows)
}

/// Birth-date and sequence allocation for 学籍号 within one district: (date, sequence) pairs are
/// handed out at most once, so numbers are unique by construction.
struct Births {
    /// Day number of index 0.
    base: i64,
    dates: Vec<[u8; 8]>,
    /// Numbers handed out per (day, sex): index `day * 2 + male`.
    used: Vec<u16>,
    /// (first day index, days) of each grade's usual birth dates (1 September to 31 August).
    grades: [(usize, usize); 12],
}

impl Births {
    fn new(start_year: i64) -> Births {
        let base = days_from_civil(start_year - 21, 1, 1);
        let end = days_from_civil(start_year - 2, 1, 1);
        let dates = (base..end).map(yyyymmdd).collect();
        let grades = std::array::from_fn(|i| {
            let g = i as i64 + 1;
            let from = days_from_civil(start_year - 6 - g, 9, 1);
            ((from - base) as usize, (days_from_civil(start_year - 5 - g, 9, 1) - from) as usize)
        });
        Births { base, dates, used: vec![0; ((end - base) * 2) as usize], grades }
    }

    fn reset(&mut self) {
        self.used.fill(0);
    }

    /// A birth date for a student of `grade` (a few are a year older or younger), and the
    /// 3-digit sequence number: odd for boys (1..=999), even for girls (2..=998).
    fn take(&mut self, rng: &mut Rng, grade: u8, male: bool) -> Option<(usize, u16)> {
        let (from, len) = self.grades[usize::from(grade - 1)];
        let mut day = from + rng.below(len as u64) as usize;
        match rng.below(1000) {
            0..40 => day -= 365,
            40..50 => day += 365,
            _ => {}
        }
        let (cap, days) = (if male { 500 } else { 499 }, self.dates.len());
        for _ in 0..days {
            let used = &mut self.used[day * 2 + usize::from(male)];
            if *used < cap {
                let m = *used;
                *used += 1;
                return Some((day, if male { 2 * m + 1 } else { 2 * m + 2 }));
            }
            day = (day + 1) % days;
        }
        None
    }
}

#[derive(Clone, Copy)]
enum Relation {
    Father,
    Mother,
    GrandfatherPaternal,
    GrandmotherPaternal,
    GrandfatherMaternal,
    GrandmotherMaternal,
    Guardian,
}

impl Relation {
    fn label(self) -> &'static str {
        match self {
            Relation::Father => "父亲",
            Relation::Mother => "母亲",
            Relation::GrandfatherPaternal => "爷爷",
            Relation::GrandmotherPaternal => "奶奶",
            Relation::GrandfatherMaternal => "外公",
            Relation::GrandmotherMaternal => "外婆",
            Relation::Guardian => "监护人",
        }
    }

    /// A plausible name for this relative of a student called `student`.
    fn name(self, people: &People, rng: &mut Rng, student: &Name) -> Name {
        let minority = student.minority_given().is_some();
        match self {
            Relation::Father => match *student {
                Name::Han { surname, .. } => people.han(rng, true, Some(surname)),
                Name::Minority { father, .. } => people.minority(rng, true, None).with_given(father),
            },
            Relation::GrandfatherPaternal if !minority => people.han(rng, true, student.surname()),
            Relation::GrandfatherPaternal | Relation::GrandfatherMaternal => {
                if minority {
                    people.minority(rng, true, None)
                } else {
                    people.any(rng, true)
                }
            }
            Relation::Mother | Relation::GrandmotherPaternal | Relation::GrandmotherMaternal => {
                if minority {
                    people.minority(rng, false, None)
                } else {
                    people.any(rng, false)
                }
            }
            Relation::Guardian => {
                let male = rng.chance(500);
                people.any(rng, male)
            }
        }
    }
}

impl Name {
    fn with_given(self, given: &'static str) -> Name {
        match self {
            Name::Minority { father, .. } => Name::Minority { given, father },
            han => han,
        }
    }
}

const ONE_PARENT: &[(Relation, u32)] = &[
    (Relation::Mother, 450),
    (Relation::Father, 400),
    (Relation::GrandfatherPaternal, 45),
    (Relation::GrandmotherPaternal, 55),
    (Relation::GrandfatherMaternal, 12),
    (Relation::GrandmotherMaternal, 20),
    (Relation::Guardian, 18),
];
const TWO_PARENTS: &[((Relation, Relation), u32)] = &[
    ((Relation::Father, Relation::Mother), 470),
    ((Relation::Mother, Relation::Father), 400),
    ((Relation::GrandfatherPaternal, Relation::GrandmotherPaternal), 70),
    ((Relation::GrandfatherMaternal, Relation::GrandmotherMaternal), 25),
    ((Relation::Mother, Relation::GrandmotherPaternal), 20),
    ((Relation::Father, Relation::GrandfatherPaternal), 10),
    ((Relation::Guardian, Relation::Mother), 5),
];

fn write_students(path: &Path, plan: &Plan, options: &Options, progress: &mut Progress) -> io::Result<u64> {
    let two = options.size.parents_per_student == 2;
    let mut header = vec!["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "家长姓名", "家长关系", "家长手机号"];
    if two {
        header.extend(["家长2姓名", "家长2关系", "家长2手机号"]);
    }
    let mut csv = Csv::create(path, &header)?;
    let people = People::new();
    let phones = Phones::new(PARENT_PREFIXES, mix(options.seed ^ STREAM_PHONES ^ 0xA5A5));
    let (one_parent, two_parents) = (Table::new(ONE_PARENT), Table::new(TWO_PARENTS));
    let mut parents = 0u64;
    let mut births = Births::new(options.start_year);
    let mut district = usize::MAX;
    let mut number = [0u8; 19];
    number[0] = b'G';
    for (si, s) in plan.schools.iter().enumerate() {
        if s.district != district {
            district = s.district;
            births.reset();
            number[1..7].copy_from_slice(&plan.districts[district].code);
        }
        let mut rng = Rng::derive(options.seed, STREAM_STUDENTS, si as u64);
        for g in &s.grades {
            let grade = GRADE_NAMES[usize::from(g.grade - 1)].as_bytes();
            for k in 0..g.classes {
                for _ in 0..g.class_size(k) {
                    let male = rng.chance(515);
                    let name = people.any(&mut rng, male);
                    let (day, seq) = births.take(&mut rng, g.grade, male).ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "too many students in one district for unique student numbers",
                        )
                    })?;
                    number[7..15].copy_from_slice(&births.dates[day]);
                    ids::write_padded(&mut number[15..18], u64::from(seq));
                    number[18] = ids::check_char(&number[1..18]);
                    debug_assert!(births.base + day as i64 > 0);

                    csv.raw(&s.code);
                    csv.comma();
                    csv.raw(grade);
                    csv.comma();
                    csv.num(u64::from(k) + 1);
                    csv.raw("班,".as_bytes());
                    name.write(csv.buf());
                    csv.raw(if male { ",男,".as_bytes() } else { ",女,".as_bytes() });
                    csv.raw(&number);
                    let relations = match options.size.parents_per_student {
                        0 => [None, None],
                        1 => [Some(one_parent.pick(&mut rng)), None],
                        _ => {
                            let (a, b) = two_parents.pick(&mut rng);
                            [Some(a), Some(b)]
                        }
                    };
                    for (i, relation) in relations.into_iter().enumerate() {
                        match relation {
                            Some(r) => {
                                csv.comma();
                                r.name(&people, &mut rng, &name).write(csv.buf());
                                csv.comma();
                                csv.raw(r.label().as_bytes());
                                csv.comma();
                                csv.raw(&phones.number(parents));
                                parents += 1;
                            }
                            None if i == 0 || two => csv.raw(b",,,"),
                            None => {}
                        }
                    }
                    csv.end()?;
                    progress.row();
                }
            }
        }
    }
    debug_assert!(parents <= phones.capacity());
    let rows = csv.finish()?;
    progress.report();
    Ok(rows)
}

/// The official figures: close to what was generated, but about a third of schools report a
/// few percent more or fewer students, a quarter other teacher numbers, some another class count.
fn write_headcounts(path: &Path, plan: &Plan, options: &Options, progress: &mut Progress) -> io::Result<u64> {
    let mut csv = Csv::create(path, &["学校标识码", "教师数", "学生数", "行政班数", "统计年度"])?;
    let nudge = |rng: &mut Rng, n: u64, per_mille: u64, percent: u64| {
        if !rng.chance(per_mille) {
            return n;
        }
        let d = rng.range(1, (n * percent / 100).max(1));
        if rng.chance(500) { n + d } else { n.saturating_sub(d) }
    };
    for (si, s) in plan.schools.iter().enumerate() {
        let mut rng = Rng::derive(options.seed, STREAM_HEADCOUNTS, si as u64);
        let teachers = nudge(&mut rng, s.teachers, 250, 8);
        let students = nudge(&mut rng, s.students, 300, 5);
        let classes = nudge(&mut rng, s.classes(), 120, 1);
        csv.raw(&s.code);
        for n in [teachers, students, classes, options.start_year as u64] {
            csv.comma();
            csv.num(n);
        }
        csv.end()?;
        progress.row();
    }
    let rows = csv.finish()?;
    progress.report();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(Size::parse("hubei").unwrap(), Size::hubei());
        assert_eq!(Size::parse(" Small ").unwrap(), Size::small());
        let s = Size::parse("students=1000000,schools=2000,teachers=80000,cities=2,districts=4,parents=2").unwrap();
        assert_eq!(
            s,
            Size {
                cities: 2,
                districts_per_city: 4,
                schools: 2000,
                teachers: 80_000,
                students: 1_000_000,
                parents_per_student: 2
            }
        );
        let s = Size::parse("students=1_000_000").unwrap();
        assert_eq!((s.schools, s.teachers, s.cities, s.districts_per_city), (2273, 76_923, 1, 3));
        let s = Size::parse("schools=100").unwrap();
        assert_eq!((s.students, s.teachers), (44_000, 3385));
        let s = Size::parse("hubei,parents=2").unwrap();
        assert_eq!((s.students, s.parents_per_student), (7_000_000, 2));
        assert_eq!(Size::parse("cities=3").unwrap().students, 5000);
        assert!(Size::parse("students=many").is_err());
        assert!(Size::parse("pupils=3").is_err());
        assert!(Size::parse("parents=3").is_err());
        assert!(Size::parse("cities=0").is_err());
        assert!(Size::parse("cities=100").is_err());
        assert!(Size::parse("students=7000000,cities=1,districts=1").is_err());
        assert!(Size::parse("students").is_err());
    }

    #[test]
    fn student_numbers_stay_unique_when_a_district_overflows_a_grade() {
        let mut births = Births::new(2026);
        let mut rng = Rng::derive(1, 2, 3);
        let mut seen = std::collections::HashSet::new();
        // More boys of one grade than one year of birth dates holds (365 × 500).
        for _ in 0..250_000 {
            let (day, seq) = births.take(&mut rng, 3, true).unwrap();
            assert!(seq % 2 == 1 && seq <= 999);
            assert!(seen.insert((day, seq)));
        }
        births.reset();
        let (day, seq) = births.take(&mut rng, 12, false).unwrap();
        assert!(seq % 2 == 0 && seq >= 2);
        let (y, _, _) = ids::civil_from_days(births.base + day as i64);
        assert!((2007..=2009).contains(&y), "{y}");
    }

    #[test]
    fn region_json_is_well_formed() {
        let region = Region {
            province: Division { code: "420000".into(), name: "湖\"北".into(), parent_code: None },
            cities: vec![Division { code: "420100".into(), name: "江城市".into(), parent_code: Some("420000".into()) }],
            districts: vec![],
        };
        assert_eq!(
            region_json(&region),
            "{\n  \"province\": {\"code\": \"420000\", \"name\": \"湖\\\"北\"},\n  \"cities\": [\n    {\"code\": \"420100\", \"name\": \"江城市\", \"parent_code\": \"420000\"}\n  ],\n  \"districts\": []\n}\n"
        );
    }
}

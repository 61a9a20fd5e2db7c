//! Turning a file record into a typed row of its kind, with every problem of the row named by
//! column, value and reason. No database here: references are checked in `check`.

use crate::columns::{Field, HeaderMap, Kind};
use crate::normalize::{self, Mangled, PhoneError};
use sheet::Record;

/// One thing wrong with one cell (or row) of the file; `key` is an ftl message.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    pub row: u32,
    pub column: String,
    pub value: String,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchoolRow {
    pub code: String,
    pub name: String,
    pub school_type: String,
    pub urban_rural: String,
    /// A division code or a district's name.
    pub district: String,
}

/// A class by its place in the school: (stage, grade, number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClassRef {
    pub stage: &'static str,
    pub grade: i64,
    pub number: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    pub school_code: String,
    pub class: ClassRef,
    pub kind: &'static str,
    pub entry_year: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeacherRow {
    pub school_code: String,
    pub name: String,
    pub gender: Option<&'static str>,
    pub staff_number: String,
    pub phone: String,
    pub subject: Option<String>,
    pub classes: Vec<ClassRef>,
    pub head_class: Option<ClassRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParentCols {
    pub name: String,
    pub relation: &'static str,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StudentRow {
    pub school_code: String,
    pub class: ClassRef,
    pub name: String,
    pub gender: Option<&'static str>,
    pub student_number: String,
    pub parents: Vec<ParentCols>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParentRow {
    pub student_number: String,
    pub parent: ParentCols,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeadcountRow {
    pub school_code: String,
    pub teachers: i64,
    pub students: i64,
    pub administrative_classes: i64,
    pub year: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    School(SchoolRow),
    Class(ClassRow),
    Teacher(TeacherRow),
    Student(StudentRow),
    Parent(ParentRow),
    Headcount(HeadcountRow),
}

/// Reads one record's cells by field, collecting problems as it goes.
struct Cells<'a> {
    map: &'a HeaderMap,
    rec: &'a Record,
    problems: Vec<Problem>,
}

impl Cells<'_> {
    fn raw(&self, f: Field) -> (&str, bool) {
        match self.map.index(f).and_then(|i| self.rec.cells.get(i)) {
            Some(c) => (c.text.as_str(), c.numeric),
            None => ("", false),
        }
    }

    fn problem(&mut self, f: Field, key: &'static str) {
        let value = self.raw(f).0.to_string();
        self.problems.push(Problem { row: self.rec.row, column: self.map.header_of(f).to_string(), value, key, args: vec![] });
    }

    fn text(&mut self, f: Field, required: bool) -> String {
        let v = normalize::clean(self.raw(f).0);
        if v.is_empty() && required {
            self.problem(f, "roster-error-required");
        }
        v
    }

    fn name(&mut self, f: Field, required: bool) -> String {
        let v = normalize::person_name(self.raw(f).0);
        if v.is_empty() {
            if required {
                self.problem(f, "roster-error-required");
            }
        } else if v.chars().count() > 40 || v.chars().any(|c| c.is_ascii_digit()) {
            self.problem(f, "roster-error-name");
        }
        v
    }

    fn code(&mut self, f: Field, valid: fn(&str) -> bool, bad_key: &'static str) -> String {
        let (text, numeric) = self.raw(f);
        match normalize::code(text, numeric) {
            Ok(c) if c.is_empty() => {
                self.problem(f, "roster-error-required");
                c
            }
            Ok(c) if !valid(&c) => {
                self.problem(f, bad_key);
                c
            }
            Ok(c) => c,
            Err(m) => {
                self.mangled(f, m);
                String::new()
            }
        }
    }

    fn mangled(&mut self, f: Field, m: Mangled) {
        self.problem(
            f,
            match m {
                Mangled::Scientific => "roster-error-scientific",
                Mangled::NumberCell => "roster-error-number-cell",
            },
        );
    }

    fn phone(&mut self, f: Field, required: bool) -> String {
        let (text, numeric) = self.raw(f);
        match normalize::phone(text, numeric) {
            Ok(Some(p)) => p,
            Ok(None) => {
                if required {
                    self.problem(f, "roster-error-required");
                }
                String::new()
            }
            Err(PhoneError::Mangled(m)) => {
                self.mangled(f, m);
                String::new()
            }
            Err(PhoneError::Invalid) => {
                self.problem(f, "roster-error-phone");
                String::new()
            }
        }
    }

    /// Gender may be left empty (the registry may not have it); anything else must be readable.
    fn gender(&mut self, f: Field) -> Option<&'static str> {
        let v = normalize::gender(self.raw(f).0);
        if v.is_none() && !self.raw(f).0.trim().is_empty() {
            self.problem(f, "roster-error-gender");
        }
        v
    }

    fn count(&mut self, f: Field) -> i64 {
        let v = normalize::count(self.raw(f).0);
        if v.is_none() {
            self.problem(f, if self.raw(f).0.trim().is_empty() { "roster-error-required" } else { "roster-error-count" });
        }
        v.unwrap_or(0)
    }

    fn class(&mut self) -> ClassRef {
        let grade = normalize::grade(self.raw(Field::Grade).0);
        let number = normalize::class_number(self.raw(Field::Class).0);
        if grade.is_none() {
            self.problem(Field::Grade, "roster-error-grade");
        }
        if number.is_none() {
            self.problem(Field::Class, "roster-error-class");
        }
        let (stage, grade) = grade.unwrap_or(("", 0));
        ClassRef { stage, grade, number: number.unwrap_or(0) }
    }

    fn class_list(&mut self, f: Field) -> Vec<ClassRef> {
        let mut out = Vec::new();
        for item in normalize::list(self.raw(f).0) {
            match normalize::grade_and_class(&item) {
                Some((stage, grade, number)) => out.push(ClassRef { stage, grade, number }),
                None => {
                    self.problem(f, "roster-error-class-name");
                    break;
                }
            }
        }
        out
    }

    fn parent(&mut self, n: u8, required: bool) -> Option<ParentCols> {
        let (nf, rf, pf) = (Field::ParentName(n), Field::ParentRelation(n), Field::ParentPhone(n));
        let any = [nf, rf, pf].iter().any(|f| !self.raw(*f).0.trim().is_empty());
        if !any && !required {
            return None;
        }
        let name = self.name(nf, true);
        let relation = normalize::relation(self.raw(rf).0);
        if relation.is_none() {
            self.problem(rf, if self.raw(rf).0.trim().is_empty() { "roster-error-required" } else { "roster-error-relation" });
        }
        let phone = self.phone(pf, true);
        Some(ParentCols { name, relation: relation.unwrap_or("guardian"), phone })
    }
}

fn any_code(c: &str) -> bool {
    (1..=32).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn known(list: &'static [directory::codes::Code], text: &str) -> Option<&'static str> {
    let t = normalize::clean(text);
    list.iter().find(|c| c.code == t || c.zh == t || c.en.eq_ignore_ascii_case(&t)).map(|c| c.code)
}

/// Whether a record holds nothing in the kind's columns (a spacer or a totals row with no data).
pub fn is_blank(map: &HeaderMap, rec: &Record) -> bool {
    map.columns.iter().all(|(_, i, _)| rec.cells.get(*i).is_none_or(|c| c.text.trim().is_empty()))
}

/// Parses one record. `Err` carries every problem found in the row, not only the first.
pub fn parse(kind: Kind, map: &HeaderMap, rec: &Record) -> Result<Row, Vec<Problem>> {
    let mut c = Cells { map, rec, problems: Vec::new() };
    let row = match kind {
        Kind::Schools => {
            let code = c.code(Field::SchoolCode, directory::codes::valid_school_code, "roster-error-school-code");
            let name = c.text(Field::SchoolName, true);
            let school_type = known(directory::codes::SCHOOL_TYPES, c.raw(Field::SchoolType).0);
            if school_type.is_none() {
                c.problem(Field::SchoolType, "roster-error-school-type");
            }
            let urban_rural = known(directory::codes::URBAN_RURAL, c.raw(Field::UrbanRural).0);
            if urban_rural.is_none() {
                c.problem(Field::UrbanRural, "roster-error-urban-rural");
            }
            let district = c.text(Field::District, true);
            Row::School(SchoolRow {
                code,
                name,
                school_type: school_type.unwrap_or_default().into(),
                urban_rural: urban_rural.unwrap_or_default().into(),
                district,
            })
        }
        Kind::Classes => {
            let school_code = c.code(Field::SchoolCode, directory::codes::valid_school_code, "roster-error-school-code");
            let class = c.class();
            let kind = match normalize::clean(c.raw(Field::ClassKind).0).as_str() {
                "" | "行政班" | "administrative" => "administrative",
                "教学班" | "teaching" => "teaching",
                "选修班" | "兴趣班" | "elective" => "elective",
                _ => {
                    c.problem(Field::ClassKind, "roster-error-class-kind");
                    ""
                }
            };
            let entry_text = normalize::clean(c.raw(Field::EntryYear).0);
            let entry_year = if entry_text.is_empty() {
                None
            } else {
                let y = normalize::count(&entry_text).filter(|y| (1990..=2100).contains(y));
                if y.is_none() {
                    c.problem(Field::EntryYear, "roster-error-year");
                }
                y
            };
            Row::Class(ClassRow { school_code, class, kind, entry_year })
        }
        Kind::Teachers => {
            let school_code = c.code(Field::SchoolCode, directory::codes::valid_school_code, "roster-error-school-code");
            let name = c.name(Field::Name, true);
            let gender = c.gender(Field::Gender);
            let staff_number = c.code(Field::StaffNumber, any_code, "roster-error-staff-number");
            let phone = c.phone(Field::Phone, true);
            let subject = Some(c.text(Field::Subject, false)).filter(|s| !s.is_empty());
            if subject.as_ref().is_some_and(|s| s.chars().count() > 20) {
                c.problem(Field::Subject, "roster-error-subject");
            }
            let classes = c.class_list(Field::ClassesTaught);
            let head = c.class_list(Field::HeadClass);
            if head.len() > 1 {
                c.problem(Field::HeadClass, "roster-error-one-head-class");
            }
            Row::Teacher(TeacherRow {
                school_code,
                name,
                gender,
                staff_number,
                phone,
                subject,
                classes,
                head_class: head.first().copied(),
            })
        }
        Kind::Students => {
            let school_code = c.code(Field::SchoolCode, directory::codes::valid_school_code, "roster-error-school-code");
            let class = c.class();
            let name = c.name(Field::Name, true);
            let gender = c.gender(Field::Gender);
            let student_number = c.code(Field::StudentNumber, any_code, "roster-error-student-number");
            let parents: Vec<ParentCols> = (1..=2).filter_map(|n| c.parent(n, false)).collect();
            if parents.len() == 2 && !parents[0].phone.is_empty() && parents[0].phone == parents[1].phone {
                c.problem(Field::ParentPhone(2), "roster-error-same-parent-phone");
            }
            Row::Student(StudentRow { school_code, class, name, gender, student_number, parents })
        }
        Kind::Parents => {
            let student_number = c.code(Field::StudentNumber, any_code, "roster-error-student-number");
            let parent =
                c.parent(1, true).unwrap_or(ParentCols { name: String::new(), relation: "guardian", phone: String::new() });
            Row::Parent(ParentRow { student_number, parent })
        }
        Kind::Headcounts => {
            let school_code = c.code(Field::SchoolCode, directory::codes::valid_school_code, "roster-error-school-code");
            let teachers = c.count(Field::Teachers);
            let students = c.count(Field::Students);
            let administrative_classes = c.count(Field::AdministrativeClasses);
            let year = c.count(Field::Year);
            if !(1990..=2100).contains(&year) && c.problems.iter().all(|p| p.column != map.header_of(Field::Year)) {
                c.problem(Field::Year, "roster-error-year");
            }
            Row::Headcount(HeadcountRow { school_code, teachers, students, administrative_classes, year })
        }
    };
    if c.problems.is_empty() { Ok(row) } else { Err(c.problems) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::match_header;
    use sheet::Cell;

    fn record(row: u32, cells: &[&str]) -> Record {
        Record { row, cells: cells.iter().map(|t| Cell { text: t.to_string(), numeric: false }).collect() }
    }

    fn header(kind: Kind, cells: &[&str]) -> HeaderMap {
        match_header(kind, 1, &cells.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_student_row_with_a_parent_parses() {
        let map = header(
            Kind::Students,
            &["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "家长姓名", "家长关系", "家长手机号"],
        );
        let row = parse(
            Kind::Students,
            &map,
            &record(2, &["２１４２０００１２３", "三年级", "2班", "李 小红", "女", "g123", "李建国", "父亲", "139 0013 9000"]),
        )
        .unwrap();
        let Row::Student(s) = row else { panic!() };
        assert_eq!(s.school_code, "2142000123");
        assert_eq!(s.class, ClassRef { stage: "primary", grade: 3, number: 2 });
        assert_eq!(s.name, "李小红");
        assert_eq!(s.student_number, "G123");
        assert_eq!(s.parents, vec![ParentCols { name: "李建国".into(), relation: "father", phone: "13900139000".into() }]);
    }

    #[test]
    fn every_problem_of_a_row_is_named_by_column() {
        let map = header(
            Kind::Students,
            &["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "家长姓名", "家长关系", "家长手机号"],
        );
        let problems =
            parse(Kind::Students, &map, &record(7, &["1.23E+09", "十三年级", "2班", "", "未知", "G1", "王五", "", "123"]))
                .unwrap_err();
        let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.column.as_str(), p.key)).collect();
        assert_eq!(
            got,
            vec![
                ("学校标识码", "roster-error-scientific"),
                ("年级", "roster-error-grade"),
                ("姓名", "roster-error-required"),
                ("性别", "roster-error-gender"),
                ("家长关系", "roster-error-required"),
                ("家长手机号", "roster-error-phone"),
            ]
        );
        assert!(problems.iter().all(|p| p.row == 7));
    }

    #[test]
    fn teachers_list_their_classes() {
        let map =
            header(Kind::Teachers, &["学校标识码", "姓名", "性别", "教工号", "手机号", "任教学科", "任教班级", "班主任班级"]);
        let Row::Teacher(t) = parse(
            Kind::Teachers,
            &map,
            &record(2, &["2142000123", "王晓明", "男", "t001", "13800138000", "数学", "三年级2班、初一(3)班", "三年级2班"]),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(t.classes.len(), 2);
        assert_eq!(t.head_class, Some(ClassRef { stage: "primary", grade: 3, number: 2 }));
    }
}

//! The import file columns of each kind: Chinese headers as in the templates, English aliases,
//! which are required, and the note and example row the templates carry.

use crate::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Schools,
    Classes,
    Teachers,
    Students,
    Parents,
    Headcounts,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Schools, Kind::Classes, Kind::Teachers, Kind::Students, Kind::Parents, Kind::Headcounts];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schools => "schools",
            Kind::Classes => "classes",
            Kind::Teachers => "teachers",
            Kind::Students => "students",
            Kind::Parents => "parents",
            Kind::Headcounts => "headcounts",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The ftl key of the kind's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            Kind::Schools => "roster-kind-schools",
            Kind::Classes => "roster-kind-classes",
            Kind::Teachers => "roster-kind-teachers",
            Kind::Students => "roster-kind-students",
            Kind::Parents => "roster-kind-parents",
            Kind::Headcounts => "roster-kind-headcounts",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Schools => SCHOOLS,
            Kind::Classes => CLASSES,
            Kind::Teachers => TEACHERS,
            Kind::Students => STUDENTS,
            Kind::Parents => PARENTS,
            Kind::Headcounts => HEADCOUNTS,
        }
    }
}

/// What a column holds; the parser reads cells by field, whatever the column order in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    SchoolCode,
    SchoolName,
    SchoolType,
    UrbanRural,
    District,
    Grade,
    Class,
    ClassKind,
    EntryYear,
    Name,
    Gender,
    StaffNumber,
    Phone,
    Subject,
    ClassesTaught,
    HeadClass,
    StudentNumber,
    ParentName(u8),
    ParentRelation(u8),
    ParentPhone(u8),
    Teachers,
    Students,
    AdministrativeClasses,
    Year,
}

pub struct Column {
    pub field: Field,
    /// The header written in templates and exports.
    pub header: &'static str,
    /// Other headers accepted for this column (English and common variants).
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// ftl key of the note shown on the template's header cell.
    pub note: &'static str,
    pub example: &'static str,
}

const fn col(
    field: Field,
    header: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    note: &'static str,
    example: &'static str,
) -> Column {
    Column { field, header, aliases, required, note, example }
}

const SCHOOL_CODE: Column = col(
    Field::SchoolCode,
    "学校标识码",
    &["school code", "school_code", "学校代码", "学校识别码"],
    true,
    "roster-note-school-code",
    "2142000123",
);

const SCHOOLS: &[Column] = &[
    SCHOOL_CODE,
    col(
        Field::SchoolName,
        "学校名称",
        &["school name", "school_name", "学校"],
        true,
        "roster-note-school-name",
        "江汉市实验小学",
    ),
    col(Field::SchoolType, "办学类型", &["school type", "school_type"], true, "roster-note-school-type", "211"),
    col(Field::UrbanRural, "城乡类型", &["urban rural", "urban_rural", "城乡分类"], true, "roster-note-urban-rural", "111"),
    col(Field::District, "所属区县", &["district", "区县", "所属区县代码"], true, "roster-note-district", "429901"),
];

const CLASSES: &[Column] = &[
    SCHOOL_CODE,
    col(Field::Grade, "年级", &["grade"], true, "roster-note-grade", "三年级"),
    col(Field::Class, "班级", &["class", "班号", "班级名称"], true, "roster-note-class", "2班"),
    col(Field::ClassKind, "班级类型", &["class kind", "class_kind", "class type"], false, "roster-note-class-kind", "行政班"),
    col(Field::EntryYear, "入学年份", &["entry year", "entry_year", "入学年度"], false, "roster-note-entry-year", "2024"),
];

const TEACHERS: &[Column] = &[
    SCHOOL_CODE,
    col(Field::Name, "姓名", &["name", "教师姓名"], true, "roster-note-name", "王晓明"),
    col(Field::Gender, "性别", &["gender", "sex"], true, "roster-note-gender", "男"),
    col(
        Field::StaffNumber,
        "教工号",
        &["staff number", "staff_number", "工号", "教职工号"],
        true,
        "roster-note-staff-number",
        "T20260001",
    ),
    col(Field::Phone, "手机号", &["phone", "mobile", "手机", "手机号码", "联系电话"], true, "roster-note-phone", "13800138000"),
    col(Field::Subject, "任教学科", &["subject", "学科"], false, "roster-note-subject", "数学"),
    col(
        Field::ClassesTaught,
        "任教班级",
        &["classes", "classes taught", "classes_taught"],
        false,
        "roster-note-classes-taught",
        "三年级2班、三年级3班",
    ),
    col(Field::HeadClass, "班主任班级", &["head class", "head_class", "班主任"], false, "roster-note-head-class", "三年级2班"),
];

const STUDENTS: &[Column] = &[
    SCHOOL_CODE,
    col(Field::Grade, "年级", &["grade"], true, "roster-note-grade", "三年级"),
    col(Field::Class, "班级", &["class", "班号", "班级名称"], true, "roster-note-class", "2班"),
    col(Field::Name, "姓名", &["name", "学生姓名"], true, "roster-note-name", "李小红"),
    col(Field::Gender, "性别", &["gender", "sex"], true, "roster-note-gender", "女"),
    col(
        Field::StudentNumber,
        "学籍号",
        &["student number", "student_number", "全国学籍号", "学号"],
        true,
        "roster-note-student-number",
        "G420102201805120024",
    ),
    col(
        Field::ParentName(1),
        "家长姓名",
        &["parent name", "parent_name", "家长1姓名", "监护人姓名"],
        false,
        "roster-note-parent-name",
        "李建国",
    ),
    col(
        Field::ParentRelation(1),
        "家长关系",
        &["parent relation", "parent_relation", "家长1关系", "关系"],
        false,
        "roster-note-parent-relation",
        "父亲",
    ),
    col(
        Field::ParentPhone(1),
        "家长手机号",
        &["parent phone", "parent_phone", "家长1手机号", "家长电话", "监护人手机号"],
        false,
        "roster-note-parent-phone",
        "13900139000",
    ),
    col(Field::ParentName(2), "家长2姓名", &["parent2 name", "parent2_name"], false, "roster-note-parent-name", ""),
    col(
        Field::ParentRelation(2),
        "家长2关系",
        &["parent2 relation", "parent2_relation"],
        false,
        "roster-note-parent-relation",
        "",
    ),
    col(
        Field::ParentPhone(2),
        "家长2手机号",
        &["parent2 phone", "parent2_phone", "家长2电话"],
        false,
        "roster-note-parent-phone",
        "",
    ),
];

const PARENTS: &[Column] = &[
    col(
        Field::StudentNumber,
        "学籍号",
        &["student number", "student_number", "学生学籍号", "全国学籍号"],
        true,
        "roster-note-student-number",
        "G420102201805120024",
    ),
    col(
        Field::ParentName(1),
        "家长姓名",
        &["parent name", "parent_name", "name", "姓名"],
        true,
        "roster-note-parent-name",
        "李建国",
    ),
    col(
        Field::ParentRelation(1),
        "家长关系",
        &["parent relation", "parent_relation", "relation", "关系"],
        true,
        "roster-note-parent-relation",
        "父亲",
    ),
    col(
        Field::ParentPhone(1),
        "家长手机号",
        &["parent phone", "parent_phone", "phone", "手机号"],
        true,
        "roster-note-parent-phone",
        "13900139000",
    ),
];

const HEADCOUNTS: &[Column] = &[
    SCHOOL_CODE,
    col(Field::Teachers, "教师数", &["teachers", "专任教师数"], true, "roster-note-count", "56"),
    col(Field::Students, "学生数", &["students", "在校生数"], true, "roster-note-count", "1320"),
    col(
        Field::AdministrativeClasses,
        "行政班数",
        &["administrative classes", "administrative_classes", "班级数"],
        true,
        "roster-note-count",
        "30",
    ),
    col(Field::Year, "统计年度", &["year", "statistics year", "年度"], true, "roster-note-year", "2026"),
];

/// How the file's columns map onto a kind's fields.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// The file row holding the header (the last of two rows when a header spans two).
    pub row: u32,
    /// (field, column index, header text as written in the file)
    pub columns: Vec<(Field, usize, String)>,
    /// Headers the kind doesn't know: ignored, with a notice.
    pub ignored: Vec<String>,
}

impl HeaderMap {
    pub fn index(&self, field: Field) -> Option<usize> {
        self.columns.iter().find(|c| c.0 == field).map(|c| c.1)
    }

    pub fn header_of(&self, field: Field) -> &str {
        self.columns.iter().find(|c| c.0 == field).map(|c| c.2.as_str()).unwrap_or("")
    }
}

fn header_key(s: &str) -> String {
    normalize::clean(s)
        .chars()
        .filter(|c| !matches!(c, '*' | ' ' | '_' | '(' | ')' | ':'))
        .collect::<String>()
        .replace("必填", "")
        .replace("选填", "")
        .to_lowercase()
}

fn field_of(kind: Kind, header: &str) -> Option<Field> {
    let key = header_key(header);
    if key.is_empty() {
        return None;
    }
    kind.columns().iter().find(|c| header_key(c.header) == key || c.aliases.iter().any(|a| header_key(a) == key)).map(|c| c.field)
}

/// Matches a header row (one row, or two rows joined cell by cell where a header spans two rows
/// of merged cells). Returns None unless every required column is found.
pub fn match_header(kind: Kind, row: u32, cells: &[String]) -> Option<HeaderMap> {
    let mut columns: Vec<(Field, usize, String)> = Vec::new();
    let mut ignored = Vec::new();
    for (i, text) in cells.iter().enumerate() {
        match field_of(kind, text) {
            Some(f) if !columns.iter().any(|c| c.0 == f) => columns.push((f, i, text.trim().to_string())),
            Some(_) => ignored.push(text.trim().to_string()),
            None if !text.trim().is_empty() => ignored.push(text.trim().to_string()),
            None => {}
        }
    }
    let complete = kind.columns().iter().filter(|c| c.required).all(|c| columns.iter().any(|m| m.0 == c.field));
    complete.then_some(HeaderMap { row, columns, ignored })
}

/// Joins two header rows: a cell merged across the upper row ("家长") prefixes the lower row's
/// labels ("姓名" → "家长姓名"); identical cells (merged vertically) stay as they are.
pub fn join_header_rows(upper: &[String], lower: &[String]) -> Vec<String> {
    (0..upper.len().max(lower.len()))
        .map(|i| {
            let (u, l) = (upper.get(i).map(|s| s.trim()).unwrap_or(""), lower.get(i).map(|s| s.trim()).unwrap_or(""));
            if u == l || l.is_empty() {
                u.to_string()
            } else if u.is_empty() {
                l.to_string()
            } else {
                format!("{u}{l}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_match_in_any_order_with_aliases_and_notices() {
        let m = match_header(
            Kind::Headcounts,
            3,
            &strings(&["统计年度", "School Code", "教师数*", "学生数（必填）", "行政班数", "备注"]),
        )
        .unwrap();
        assert_eq!(m.index(Field::SchoolCode), Some(1));
        assert_eq!(m.index(Field::Year), Some(0));
        assert_eq!(m.ignored, vec!["备注"]);
        assert!(match_header(Kind::Headcounts, 1, &strings(&["学校标识码", "教师数"])).is_none());
    }

    #[test]
    fn a_two_row_header_is_joined() {
        let upper = strings(&["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "家长", "家长", "家长"]);
        let lower = strings(&["学校标识码", "年级", "班级", "姓名", "性别", "学籍号", "姓名", "关系", "手机号"]);
        let joined = join_header_rows(&upper, &lower);
        let m = match_header(Kind::Students, 2, &joined).unwrap();
        assert_eq!(m.index(Field::ParentName(1)), Some(6));
        assert_eq!(m.index(Field::ParentPhone(1)), Some(8));
    }
}

//! Code lists shipped with the program: school types (GB/T 33782 table 4), urban/rural categories
//! (国家统计局 城乡分类代码), stages and grade names. Each entry carries its zh-CN and en names.

use kernel::i18n::Locale;

pub struct Code {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Code {
    pub fn name(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.zh,
            Locale::En => self.en,
        }
    }
}

const fn c(code: &'static str, zh: &'static str, en: &'static str) -> Code {
    Code { code, zh, en }
}

pub const SCHOOL_TYPES: &[Code] = &[
    c("111", "幼儿园", "Kindergarten"),
    c("211", "小学", "Primary school"),
    c("218", "小学教学点", "Primary teaching point"),
    c("311", "初级中学", "Junior secondary school"),
    c("312", "九年一贯制学校", "Nine-year school"),
    c("341", "完全中学", "Complete secondary school"),
    c("342", "高级中学", "Senior secondary school"),
    c("345", "十二年一贯制学校", "Twelve-year school"),
    c("361", "中等技术学校", "Secondary technical school"),
    c("363", "职业高中学校", "Vocational senior school"),
    c("364", "技工学校", "Skilled-worker school"),
];

pub const URBAN_RURAL: &[Code] = &[
    c("111", "主城区", "Main urban area"),
    c("112", "城乡结合区", "Urban-rural fringe"),
    c("121", "镇中心区", "Town centre"),
    c("122", "镇乡结合区", "Town-rural fringe"),
    c("123", "特殊区域", "Special area"),
    c("210", "乡中心区", "Township centre"),
    c("220", "村庄", "Village"),
];

/// Stages (学段) with the number of grades each has.
pub const STAGES: &[(&str, &str, &str, i64)] = &[
    ("preschool", "学前", "Preschool", 3),
    ("primary", "小学", "Primary", 6),
    ("junior", "初中", "Junior secondary", 3),
    ("senior", "高中", "Senior secondary", 3),
    ("vocational", "中职", "Vocational", 3),
];

pub fn find(list: &'static [Code], code: &str) -> Option<&'static Code> {
    list.iter().find(|c| c.code == code)
}

pub fn stage_years(stage: &str) -> Option<i64> {
    STAGES.iter().find(|s| s.0 == stage).map(|s| s.3)
}

pub fn stage_name(stage: &str, locale: Locale) -> &'static str {
    STAGES.iter().find(|s| s.0 == stage).map(|s| if locale == Locale::ZhCn { s.1 } else { s.2 }).unwrap_or("")
}

/// The stages a school of this type teaches.
pub fn stages_of_school_type(code: &str) -> &'static [&'static str] {
    match code {
        "111" => &["preschool"],
        "211" | "218" => &["primary"],
        "311" => &["junior"],
        "312" => &["primary", "junior"],
        "341" => &["junior", "senior"],
        "342" => &["senior"],
        "345" => &["primary", "junior", "senior"],
        "361" | "363" | "364" => &["vocational"],
        _ => &[],
    }
}

const CN_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A grade's name: 三年级 / 初二 / 高一 / 大班, Grade 3 / Grade 8 / Grade 10.
pub fn grade_name(stage: &str, grade: i64, locale: Locale) -> String {
    let n = grade.clamp(0, 9) as usize;
    match (locale, stage) {
        (Locale::ZhCn, "preschool") => ["小班", "中班", "大班"].get(n.saturating_sub(1)).unwrap_or(&"").to_string(),
        (Locale::ZhCn, "primary") => format!("{}年级", CN_DIGITS[n]),
        (Locale::ZhCn, "junior") => format!("初{}", CN_DIGITS[n]),
        (Locale::ZhCn, "senior") => format!("高{}", CN_DIGITS[n]),
        (Locale::ZhCn, _) => format!("{}年级", CN_DIGITS[n]),
        (Locale::En, "preschool") => format!("Kindergarten {grade}"),
        (Locale::En, "junior") => format!("Grade {}", grade + 6),
        (Locale::En, "senior") => format!("Grade {}", grade + 9),
        (Locale::En, "vocational") => format!("Year {grade}"),
        (Locale::En, _) => format!("Grade {grade}"),
    }
}

/// The year the school year containing `date` started: school years begin on 1 September.
pub fn school_year_of(date: time::Date) -> i64 {
    let y = i64::from(date.year());
    if u8::from(date.month()) >= 9 { y } else { y - 1 }
}

/// The grade (1-based) of a class that entered in `entry_year`, during the school year starting
/// `school_year`; beyond the stage's length it has graduated (None).
pub fn grade_of(stage: &str, entry_year: i64, school_year: i64) -> Option<i64> {
    let g = school_year - entry_year + 1;
    (g >= 1 && g <= stage_years(stage)?).then_some(g)
}

/// A 10-digit 学校标识码.
pub fn valid_school_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A 6-digit administrative division code (GB/T 2260).
pub fn valid_division_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_move_up_with_the_school_year() {
        let d = |y, m| time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), 1).unwrap();
        assert_eq!(school_year_of(d(2026, 9)), 2026);
        assert_eq!(school_year_of(d(2027, 6)), 2026);
        assert_eq!(grade_of("primary", 2024, 2026), Some(3));
        assert_eq!(grade_of("primary", 2020, 2026), None);
        assert_eq!(grade_of("junior", 2026, 2026), Some(1));
        assert_eq!(grade_name("junior", 2, Locale::ZhCn), "初二");
        assert_eq!(grade_name("junior", 2, Locale::En), "Grade 8");
        assert_eq!(grade_name("primary", 3, Locale::ZhCn), "三年级");
    }

    #[test]
    fn codes_are_checked() {
        assert!(valid_school_code("2142000123"));
        assert!(!valid_school_code("214200012"));
        assert!(!valid_school_code("21420001２3"));
        assert!(valid_division_code("420100"));
        assert!(!valid_division_code("42010"));
        assert_eq!(stages_of_school_type("312"), &["primary", "junior"]);
    }
}

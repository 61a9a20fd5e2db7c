//! Cleaning of cell text from registry exports: full-width characters, stray spaces, name
//! separators, phone numbers, grades and class names, and numbers that Excel mangled (flagged,
//! never guessed).

/// Full-width ASCII to half-width, ideographic and no-break spaces to spaces, zero-width
/// characters dropped, runs of spaces collapsed, trimmed.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{00A0}' | '\t' | '\r' | '\n' => ' ',
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' => continue,
            c => c,
        };
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}')
}

/// The many dots used between parts of a name (艾力·买买提) become the 间隔号 U+00B7; spaces
/// between Chinese characters go.
pub fn person_name(s: &str) -> String {
    let s: String = clean(s)
        .chars()
        .map(|c| match c {
            '•' | '‧' | '・' | '．' | '∙' | '⋅' | '●' => '·',
            c => c,
        })
        .collect();
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_cjk = |i: usize| {
            let prev = chars[..i].iter().rev().find(|c| **c != ' ');
            let next = chars[i + 1..].iter().find(|c| **c != ' ');
            matches!((prev, next), (Some(p), Some(n)) if (is_cjk(*p) || *p == '·') && (is_cjk(*n) || *n == '·'))
        };
        if (c == ' ' || (c == '.' && between_cjk(i))) && between_cjk(i) {
            if c == '.' {
                out.push('·');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Why a code-like cell cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mangled {
    /// Excel showed a long number in scientific notation (1.23E+17): the digits are gone.
    Scientific,
    /// A spreadsheet number cell: leading zeros and digits past the 15th may be lost.
    NumberCell,
}

fn looks_scientific(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    match upper.split_once('E') {
        Some((mantissa, exp)) => {
            !mantissa.is_empty()
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && exp.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit())
                && !exp.trim_start_matches(['+', '-']).is_empty()
        }
        None => false,
    }
}

/// A code (school code, student number, staff number): cleaned, spaces removed, upper-cased.
/// Flags scientific notation anywhere, and long numbers stored as spreadsheet numbers.
pub fn code(text: &str, numeric: bool) -> Result<String, Mangled> {
    let c: String = clean(text).chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
    if looks_scientific(&c) {
        return Err(Mangled::Scientific);
    }
    // An XLSX number cell with 16+ digits has lost precision; a ".0" tail means Excel formatted it.
    if numeric && (c.len() > 15 || c.contains('.')) {
        return Err(Mangled::NumberCell);
    }
    Ok(c)
}

/// A mainland mobile number: 11 digits starting with 1, after removing spaces, dashes and +86.
pub fn phone(text: &str, numeric: bool) -> Result<Option<String>, PhoneError> {
    let c = code(text, numeric).map_err(PhoneError::Mangled)?;
    let digits: String = c.chars().filter(|c| !matches!(c, '-' | '(' | ')')).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| (digits.len() == 13).then(|| digits.strip_prefix("86")).flatten())
        .unwrap_or(&digits);
    let ok = digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit());
    if ok { Ok(Some(digits.to_string())) } else { Err(PhoneError::Invalid) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    Mangled(Mangled),
    Invalid,
}

pub fn gender(text: &str) -> Option<&'static str> {
    match clean(text).to_lowercase().as_str() {
        "男" | "m" | "male" | "1" | "男性" => Some("male"),
        "女" | "f" | "female" | "2" | "女性" => Some("female"),
        _ => None,
    }
}

const CN_NUMBERS: [(char, i64); 10] =
    [('一', 1), ('二', 2), ('三', 3), ('四', 4), ('五', 5), ('六', 6), ('七', 7), ('八', 8), ('九', 9), ('十', 10)];

/// A small number written in digits or Chinese numerals (一 … 十九).
fn small_number(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let value = |c: char| CN_NUMBERS.iter().find(|(d, _)| *d == c).map(|(_, v)| *v);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] => value(*c),
        ['十', c] => Some(10 + value(*c)?),
        [c, '十'] => Some(value(*c)? * 10),
        [a, '十', b] => Some(value(*a)? * 10 + value(*b)?),
        _ => None,
    }
}

/// A grade as (stage, grade within the stage): 三年级, 3年级, 七年级 (= 初一), 初一, 高二, 小学三年级.
pub fn grade(text: &str) -> Option<(&'static str, i64)> {
    let s: String = clean(text).chars().filter(|c| *c != ' ').collect();
    let s = s.trim_start_matches("小学");
    if let Some(rest) = s.strip_prefix('初') {
        let n = small_number(rest.trim_end_matches("年级"))?;
        return (1..=3).contains(&n).then_some(("junior", n));
    }
    if let Some(rest) = s.strip_prefix('高') {
        let n = small_number(rest.trim_end_matches("年级"))?;
        return (1..=3).contains(&n).then_some(("senior", n));
    }
    let n = small_number(s.strip_suffix("年级")?)?;
    match n {
        1..=6 => Some(("primary", n)),
        7..=9 => Some(("junior", n - 6)),
        10..=12 => Some(("senior", n - 9)),
        _ => None,
    }
}

/// A class number: 3班, (3)班, （3）班, 03, 三班.
pub fn class_number(text: &str) -> Option<i64> {
    let s: String = clean(text).chars().filter(|c| !matches!(c, ' ' | '(' | ')' | '班')).collect();
    small_number(&s).filter(|n| (1..=99).contains(n))
}

/// A class written as grade and class together: 三年级2班, 初一(3)班, 高二1班.
pub fn grade_and_class(text: &str) -> Option<(&'static str, i64, i64)> {
    let s: String = clean(text).chars().filter(|c| *c != ' ').collect();
    let split = s.find("年级").map(|i| i + "年级".len()).or_else(|| {
        let mut it = s.char_indices();
        match it.next() {
            Some((_, '初' | '高')) => it.next().map(|(i, c)| i + c.len_utf8()),
            _ => None,
        }
    })?;
    let (stage, grade) = grade(&s[..split])?;
    Some((stage, grade, class_number(&s[split..])?))
}

/// Splits a list cell on ; ； 、 , ，.
pub fn list(text: &str) -> Vec<String> {
    clean(text).split([';', '、', ',', '，', '；']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// A whole non-negative number; Excel's "56.0" is accepted, "56.5" is not.
pub fn count(text: &str) -> Option<i64> {
    let s = clean(text);
    let s = s.strip_suffix(".0").unwrap_or(&s);
    s.parse::<i64>().ok().filter(|n| *n >= 0)
}

pub fn relation(text: &str) -> Option<&'static str> {
    match clean(text).to_lowercase().as_str() {
        "父亲" | "爸爸" | "父" | "father" => Some("father"),
        "母亲" | "妈妈" | "母" | "mother" => Some("mother"),
        "爷爷" | "祖父" | "外公" | "外祖父" | "grandfather" => Some("grandfather"),
        "奶奶" | "祖母" | "外婆" | "外祖母" | "grandmother" => Some("grandmother"),
        "监护人" | "其他" | "其他监护人" | "guardian" => Some("guardian"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_spaces_are_cleaned() {
        assert_eq!(clean("　２０２６　年 \u{200B}Ａ "), "2026 年 A");
        assert_eq!(person_name("张 三"), "张三");
        assert_eq!(person_name("艾力•买买提"), "艾力·买买提");
        assert_eq!(person_name("艾力.买买提"), "艾力·买买提");
        assert_eq!(person_name("Anna  Li"), "Anna Li");
    }

    #[test]
    fn mangled_numbers_are_flagged_not_guessed() {
        assert_eq!(code("1.23457E+17", false), Err(Mangled::Scientific));
        assert_eq!(code("2142000123", true), Ok("2142000123".into()));
        assert_eq!(code("123456789012345680", true), Err(Mangled::NumberCell));
        assert_eq!(code("g420102 2018", false), Ok("G4201022018".into()));
        assert_eq!(phone("138-0013-8000", false), Ok(Some("13800138000".into())));
        assert_eq!(phone("+86 13800138000", false), Ok(Some("13800138000".into())));
        assert_eq!(phone("1380013800", false), Err(PhoneError::Invalid));
        assert_eq!(phone("1.38001E+10", false), Err(PhoneError::Mangled(Mangled::Scientific)));
        assert_eq!(phone("", false), Ok(None));
    }

    #[test]
    fn grades_and_classes_parse() {
        assert_eq!(grade("三年级"), Some(("primary", 3)));
        assert_eq!(grade("3年级"), Some(("primary", 3)));
        assert_eq!(grade("七年级"), Some(("junior", 1)));
        assert_eq!(grade("初三"), Some(("junior", 3)));
        assert_eq!(grade("高二"), Some(("senior", 2)));
        assert_eq!(grade("十年级"), Some(("senior", 1)));
        assert_eq!(grade("初四"), None);
        assert_eq!(class_number("（3）班"), Some(3));
        assert_eq!(class_number("十二班"), Some(12));
        assert_eq!(class_number("03"), Some(3));
        assert_eq!(grade_and_class("三年级2班"), Some(("primary", 3, 2)));
        assert_eq!(grade_and_class("初一(3)班"), Some(("junior", 1, 3)));
        assert_eq!(list("三年级2班、三年级3班;四年级1班"), vec!["三年级2班", "三年级3班", "四年级1班"]);
        assert_eq!(count("56.0"), Some(56));
        assert_eq!(count("56.5"), None);
    }
}

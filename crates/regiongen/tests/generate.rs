//! Writes regions into temporary directories and checks the files as an importer would see them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use regiongen::{Options, Size, Written, id_check_ok, write};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("regiongen-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn generate(dir: &TempDir, size: Size, seed: u64) -> Written {
    let mut calls = 0;
    let mut last = (0, 0);
    let written = write(&dir.0, &Options::new(size, seed), &mut |done, total| {
        calls += 1;
        assert!(done >= last.0 && done <= total);
        last = (done, total);
    })
    .unwrap();
    assert!(calls >= 6);
    assert_eq!(last.0, last.1, "the last progress call reports every row");
    assert_eq!(last.1, written.files.iter().map(|f| f.2).sum::<u64>());
    written
}

/// (header, rows) of a CSV file, checking the BOM, the line ends and that nothing needed quoting.
fn read(w: &Written, kind: &str) -> (String, Vec<Vec<String>>) {
    let (_, path, rows) = w.files.iter().find(|f| f.0 == kind).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("BOM");
    assert!(text.ends_with("\r\n"));
    assert!(!text.contains('"'));
    let mut lines = text.split("\r\n");
    let header = lines.next().unwrap().to_string();
    let rows_read: Vec<Vec<String>> = lines.filter(|l| !l.is_empty()).map(|l| l.split(',').map(String::from).collect()).collect();
    assert!(!rows_read.iter().any(|r| r.iter().any(|c| c.contains('\n'))));
    assert_eq!(rows_read.len() as u64, *rows, "{kind}");
    let width = header.split(',').count();
    assert!(rows_read.iter().all(|r| r.len() == width), "{kind}: every row has {width} cells");
    (header, rows_read)
}

const STAGES: [(&str, [&str; 6]); 3] = [
    ("primary", ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]),
    ("junior", ["初一", "初二", "初三", "", "", ""]),
    ("senior", ["高一", "高二", "高三", "", "", ""]),
];

/// (grade 1..=12, grade within the stage) of a grade name.
fn grade_of(name: &str) -> (i64, i64) {
    for (s, (_, names)) in STAGES.iter().enumerate() {
        if let Some(i) = names.iter().position(|n| *n == name) {
            let offset = [0, 6, 9][s];
            return (offset + i as i64 + 1, i as i64 + 1);
        }
    }
    panic!("unknown grade {name}")
}

#[test]
fn headers_counts_and_formats_of_a_small_region() {
    let dir = TempDir::new("small");
    let size = Size::small();
    let w = generate(&dir, size.clone(), 1);
    let kinds: Vec<&str> = w.files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(kinds, ["schools", "classes", "teachers", "students", "headcounts"]);
    assert_eq!(read(&w, "schools").0, "学校标识码,学校名称,办学类型,城乡类型,所属区县");
    assert_eq!(read(&w, "classes").0, "学校标识码,年级,班级,班级类型,入学年份");
    assert_eq!(read(&w, "teachers").0, "学校标识码,姓名,性别,教工号,手机号,任教学科,任教班级,班主任班级");
    assert_eq!(read(&w, "students").0, "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号");
    assert_eq!(read(&w, "headcounts").0, "学校标识码,教师数,学生数,行政班数,统计年度");
    assert_eq!(read(&w, "schools").1.len(), 12);
    assert_eq!(read(&w, "teachers").1.len(), 300);
    assert_eq!(read(&w, "students").1.len(), 5000);
    assert_eq!(read(&w, "headcounts").1.len(), 12);

    let region = std::fs::read_to_string(dir.0.join("region.json")).unwrap();
    assert!(region.contains("\"province\": {\"code\": \"420000\", \"name\": \"湖北省\"}"));
    assert_eq!(w.region.cities.len(), 1);
    assert_eq!(w.region.districts.len(), 3);
    for d in &w.region.districts {
        assert!(region.contains(&format!("{{\"code\": \"{}\", \"name\": \"{}\", \"parent_code\": \"420100\"}}", d.code, d.name)));
        assert!(d.name.ends_with('区') || d.name.ends_with('县'));
    }
    assert!(w.region.cities[0].name.ends_with('市'));

    // Official headcounts: the year, and figures near the generated ones.
    let (_, students) = read(&w, "students");
    let (_, headcounts) = read(&w, "headcounts");
    for h in &headcounts {
        assert_eq!(h[4], "2026");
        let generated = students.iter().filter(|s| s[0] == h[0]).count() as f64;
        let official: f64 = h[2].parse().unwrap();
        assert!((official - generated).abs() <= (generated * 0.05).max(1.0), "{h:?} vs {generated}");
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let size = Size::parse("students=3000,schools=10,teachers=200,cities=2,districts=2,parents=2").unwrap();
    let (a, b, c) = (TempDir::new("det-a"), TempDir::new("det-b"), TempDir::new("det-c"));
    let (wa, wb, wc) = (generate(&a, size.clone(), 42), generate(&b, size.clone(), 42), generate(&c, size, 43));
    assert_eq!(wa.region, wb.region);
    assert_ne!(wa.region, wc.region);
    for name in ["region.json", "schools.csv", "classes.csv", "teachers.csv", "students.csv", "headcounts.csv"] {
        let (x, y, z) =
            (std::fs::read(a.0.join(name)).unwrap(), std::fs::read(b.0.join(name)).unwrap(), std::fs::read(c.0.join(name)));
        assert!(x == y, "{name} differs between runs with the same seed");
        assert!(x != z.unwrap(), "{name} is the same with another seed");
    }
}

#[test]
fn fifty_thousand_students_with_two_parents_are_consistent_and_unique() {
    let dir = TempDir::new("medium");
    let size = Size::parse("students=50000,cities=2,districts=3,parents=2").unwrap();
    assert_eq!((size.schools, size.teachers), (114, 3846));
    let w = generate(&dir, size, 7);
    let (_, schools) = read(&w, "schools");
    let (_, classes) = read(&w, "classes");
    let (_, teachers) = read(&w, "teachers");
    let (header, students) = read(&w, "students");
    assert_eq!(header, "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号,家长2姓名,家长2关系,家长2手机号");
    assert_eq!(students.len(), 50_000);
    assert_eq!(teachers.len(), 3846);

    // Schools: unique 10-digit codes and names, known types, districts of the region.
    let districts: HashSet<&str> = w.region.districts.iter().map(|d| d.code.as_str()).collect();
    let mut school_type = HashMap::new();
    let mut names = HashSet::new();
    for s in &schools {
        assert!(s[0].len() == 10 && s[0].bytes().all(|b| b.is_ascii_digit()), "{s:?}");
        assert!(school_type.insert(s[0].clone(), s[2].clone()).is_none(), "duplicate school code {}", s[0]);
        assert!(names.insert(s[1].clone()), "duplicate school name {}", s[1]);
        assert!(["211", "218", "311", "312", "341", "342"].contains(&s[2].as_str()));
        assert!(["111", "112", "121", "122", "123", "210", "220"].contains(&s[3].as_str()));
        assert!(districts.contains(s[4].as_str()));
    }
    let types: HashSet<&str> = school_type.values().map(String::as_str).collect();
    assert!(types.len() >= 5, "{types:?}");

    // Classes: unique, of grades the school type teaches, numbered 1..=99, entry year by stage.
    let mut class_set = HashSet::new();
    for c in &classes {
        assert!(class_set.insert((c[0].clone(), c[1].clone(), c[2].clone())), "duplicate class {c:?}");
        let (grade, in_stage) = grade_of(&c[1]);
        let allowed = match school_type[&c[0]].as_str() {
            "211" | "218" => 1..=6,
            "311" => 7..=9,
            "312" => 1..=9,
            "341" => 7..=12,
            _ => 10..=12,
        };
        assert!(allowed.contains(&grade), "{c:?}");
        let n: u32 = c[2].strip_suffix('班').unwrap().parse().unwrap();
        assert!((1..=99).contains(&n));
        assert_eq!(c[3], "行政班");
        assert_eq!(c[4].parse::<i64>().unwrap(), 2026 - in_stage + 1);
    }

    // Teachers: unique staff numbers and phones; every class taught exists; one head per class.
    let class_names: HashSet<(String, String)> = classes.iter().map(|c| (c[0].clone(), format!("{}{}", c[1], c[2]))).collect();
    let (mut staff, mut phones, mut heads) = (HashSet::new(), HashSet::new(), HashSet::new());
    for t in &teachers {
        assert!(school_type.contains_key(&t[0]));
        assert!(!t[1].is_empty() && !t[1].bytes().any(|b| b.is_ascii_digit()));
        assert!(t[2] == "男" || t[2] == "女");
        assert!(t[3].len() <= 20 && t[3].bytes().all(|b| b.is_ascii_alphanumeric()) && staff.insert(t[3].clone()));
        assert!(is_mobile(&t[4]) && phones.insert(t[4].clone()), "{}", t[4]);
        assert!(!t[5].is_empty());
        let taught: Vec<&str> = t[6].split('、').filter(|s| !s.is_empty()).collect();
        assert!((1..=3).contains(&taught.len()), "{t:?}");
        for c in &taught {
            assert!(class_names.contains(&(t[0].clone(), c.to_string())), "{t:?}");
        }
        if !t[7].is_empty() {
            assert!(taught.contains(&t[7].as_str()));
            assert!(heads.insert((t[0].clone(), t[7].clone())), "two heads for {t:?}");
        }
    }
    assert!(heads.len() as f64 > classes.len() as f64 * 0.9, "most classes have a head teacher");

    // Students: classes exist, 学籍号 unique with valid check characters and fitting birth dates,
    // parent phones unique and apart from teachers'.
    let (mut numbers, mut parent_phones) = (HashSet::new(), HashSet::new());
    let mut class_counts: HashMap<(String, String), u64> = HashMap::new();
    let mut unusual_age = 0;
    let mut relations: HashMap<String, u64> = HashMap::new();
    for s in &students {
        let key = (s[0].clone(), format!("{}{}", s[1], s[2]));
        assert!(class_names.contains(&key), "{s:?}");
        *class_counts.entry(key).or_default() += 1;
        assert!(s[4] == "男" || s[4] == "女");
        let n = &s[5];
        assert!(n.len() == 19 && n.starts_with('G') && id_check_ok(&n[1..]), "{n}");
        assert!(numbers.insert(n.clone()), "duplicate 学籍号 {n}");
        let school_district = &schools.iter().find(|x| x[0] == s[0]).unwrap()[4];
        assert_eq!(&n[1..7], school_district);
        let male = (n.as_bytes()[17] - b'0') % 2 == 1;
        assert_eq!(male, s[4] == "男", "{n}");
        let (grade, _) = grade_of(&s[1]);
        let year: i64 = n[7..11].parse().unwrap();
        let month: i64 = n[11..13].parse().unwrap();
        let school_year_of_birth = if month >= 9 { year } else { year - 1 };
        let expected = 2026 - 6 - grade;
        assert!((school_year_of_birth - expected).abs() <= 1, "{s:?}");
        if school_year_of_birth != expected {
            unusual_age += 1;
        }
        for p in [6, 9] {
            assert!(!s[p].is_empty());
            assert!(["父亲", "母亲", "爷爷", "奶奶", "外公", "外婆", "监护人"].contains(&s[p + 1].as_str()));
            *relations.entry(s[p + 1].clone()).or_default() += 1;
            assert!(is_mobile(&s[p + 2]) && !phones.contains(&s[p + 2]), "{}", s[p + 2]);
            assert!(parent_phones.insert(s[p + 2].clone()), "duplicate parent phone {}", s[p + 2]);
        }
        if s[7] == "父亲" && !s[3].contains('·') {
            assert_eq!(s[6].chars().next(), s[3].chars().next(), "a father shares the surname: {s:?}");
        }
    }
    assert!(unusual_age < students.len() / 10, "{unusual_age}");
    assert!(relations["父亲"] + relations["母亲"] > 80_000);
    let average = 50_000 / class_counts.len() as u64;
    assert!((30..=50).contains(&average), "{average} students per class");
}

fn is_mobile(p: &str) -> bool {
    p.len() == 11 && p.bytes().all(|b| b.is_ascii_digit()) && ["13", "15", "17", "18", "19"].contains(&&p[..2])
}

#[test]
fn no_parents_leaves_the_parent_columns_empty() {
    let dir = TempDir::new("orphans");
    let w = generate(&dir, Size::parse("students=800,parents=0").unwrap(), 3);
    let (header, students) = read(&w, "students");
    assert_eq!(header, "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号");
    assert!(students.iter().all(|s| s[6..].iter().all(String::is_empty)));
}

#[test]
fn invalid_options_are_refused() {
    let dir = TempDir::new("invalid");
    let mut options = Options::new(Size::small(), 1);
    options.province.1 = "4200".into();
    let err = write(&dir.0, &options, &mut |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let mut options = Options::new(Size::small(), 1);
    options.start_year = 1800;
    assert!(write(&dir.0, &options, &mut |_, _| {}).is_err());
    let mut options = Options::new(Size::small(), 1);
    options.size.cities = 0;
    assert!(write(&dir.0, &options, &mut |_, _| {}).is_err());
}

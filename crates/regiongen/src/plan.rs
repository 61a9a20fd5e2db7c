//! The region's skeleton, held in memory: divisions, schools (with their grades and class counts),
//! and how many students and teachers each school gets. Rows are generated from it as they are
//! written.

use crate::ids::cn;
use crate::names::{DIVISIONS, Namer, ROADS, TOWNS, VILLAGES};
use crate::rng::{Rng, Table, apportion};
use crate::{Division, Options, Region};

pub(crate) const STREAM_PLAN: u64 = 1;

/// 办学类型 (GB/T 33782) of the generated schools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Primary,
    Point,
    Junior,
    NineYear,
    Complete,
    Senior,
}

impl Kind {
    const ALL: [Kind; 6] = [Kind::Primary, Kind::Point, Kind::Junior, Kind::NineYear, Kind::Complete, Kind::Senior];

    pub(crate) fn code(self) -> &'static str {
        match self {
            Kind::Primary => "211",
            Kind::Point => "218",
            Kind::Junior => "311",
            Kind::NineYear => "312",
            Kind::Complete => "341",
            Kind::Senior => "342",
        }
    }

    /// The grades taught, numbered 1..=12 across stages (7 = 初一, 10 = 高一).
    pub(crate) fn grades(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Kind::Primary | Kind::Point => 1..=6,
            Kind::Junior => 7..=9,
            Kind::NineYear => 1..=9,
            Kind::Complete => 7..=12,
            Kind::Senior => 10..=12,
        }
    }

    /// Share of all schools, per mille.
    fn share(self) -> u64 {
        match self {
            Kind::Primary => 540,
            Kind::Point => 160,
            Kind::Junior => 160,
            Kind::NineYear => 70,
            Kind::Complete => 30,
            Kind::Senior => 40,
        }
    }

    /// Relative enrolment of a typical school of the kind.
    fn size(self) -> u64 {
        match self {
            Kind::Primary => 700,
            Kind::Point => 60,
            Kind::Junior => 1000,
            Kind::NineYear => 900,
            Kind::Complete => 1800,
            Kind::Senior => 2200,
        }
    }
}

pub(crate) const GRADE_NAMES: [&str; 12] =
    ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一", "高二", "高三"];

/// The grade within its stage (初二 → 2).
pub(crate) fn grade_in_stage(grade: u8) -> u8 {
    match grade {
        1..=6 => grade,
        7..=9 => grade - 6,
        _ => grade - 9,
    }
}

pub(crate) struct District {
    pub(crate) code: [u8; 6],
    pub(crate) name: String,
    pub(crate) county: bool,
}

pub(crate) struct GradePlan {
    /// 1..=12, see [`Kind::grades`].
    pub(crate) grade: u8,
    pub(crate) classes: u32,
    pub(crate) students: u64,
}

impl GradePlan {
    /// Students of class `k` (0-based): the grade split evenly.
    pub(crate) fn class_size(&self, k: u32) -> u64 {
        let c = u64::from(self.classes);
        self.students / c + u64::from(u64::from(k) < self.students % c)
    }
}

pub(crate) struct School {
    pub(crate) code: [u8; 10],
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) urban: &'static str,
    pub(crate) district: usize,
    pub(crate) students: u64,
    pub(crate) teachers: u64,
    pub(crate) grades: Vec<GradePlan>,
}

impl School {
    pub(crate) fn classes(&self) -> u64 {
        self.grades.iter().map(|g| u64::from(g.classes)).sum()
    }
}

pub(crate) struct Plan {
    pub(crate) region: Region,
    pub(crate) districts: Vec<District>,
    /// In district order: a district's schools are contiguous.
    pub(crate) schools: Vec<School>,
    pub(crate) classes: u64,
}

fn urban_weight(code: &str) -> u64 {
    match code {
        "111" => 16,
        "112" => 13,
        "121" => 12,
        "122" => 9,
        "123" | "210" => 8,
        _ => 5,
    }
}

/// Village, township and special-area schools are named after their town; the others by number.
fn rural(code: &str) -> bool {
    matches!(code, "122" | "123" | "210" | "220")
}

pub(crate) fn build(options: &Options) -> Result<Plan, String> {
    let size = &options.size;
    size.check()?;
    let (province_name, province_code) = (&options.province.0, &options.province.1);
    let pc = province_code.as_bytes();
    if pc.len() != 6 || !pc.iter().all(u8::is_ascii_digit) || pc[0] == b'0' || &pc[2..] != b"0000" {
        return Err(format!("province code {province_code:?} is not a 6-digit code ending in 0000"));
    }
    if province_name.trim().is_empty() {
        return Err("the province needs a name".into());
    }
    let mut rng = Rng::derive(options.seed, STREAM_PLAN, 0);

    // Divisions: every city and district name is a distinct entry of one pool.
    let namer = Namer::new(&DIVISIONS, &mut rng);
    let total_divisions = u64::from(size.cities) * (1 + u64::from(size.districts_per_city));
    if total_divisions > namer.capacity() {
        return Err("too many divisions to name".into());
    }
    let mut name_index = 0;
    let mut division_name = |suffix: &str| {
        let mut s = String::new();
        namer.name(name_index, &mut s);
        name_index += 1;
        s.push_str(suffix);
        s
    };
    let province = Division { code: province_code.clone(), name: province_name.clone(), parent_code: None };
    let (mut cities, mut region_districts, mut districts) = (Vec::new(), Vec::new(), Vec::new());
    let mut district_city = Vec::new();
    for ci in 0..size.cities {
        let city_code = format!("{}{:02}00", &province_code[..2], ci + 1);
        let d = size.districts_per_city;
        // The capital is mostly urban districts; other cities mostly counties.
        let urban = if ci == 0 { (d * 7).div_ceil(10) } else { (d * 3).div_ceil(10) }.clamp(1, d);
        let county_start = (2 + urban).max(21);
        cities.push(Division { code: city_code.clone(), name: division_name("市"), parent_code: Some(province_code.clone()) });
        for j in 0..d {
            let county = j >= urban;
            let last2 = if county { county_start + (j - urban) } else { 2 + j };
            debug_assert!(last2 <= 99);
            let code = format!("{}{last2:02}", &city_code[..4]);
            let name = division_name(if county { "县" } else { "区" });
            region_districts.push(Division { code: code.clone(), name: name.clone(), parent_code: Some(city_code.clone()) });
            districts.push(District { code: code.as_bytes().try_into().expect("6 digits"), name, county });
            district_city.push(ci as usize);
        }
    }

    // Schools per district, and the kind of every school in exact proportions.
    let nd = districts.len() as u64;
    let s = u64::from(size.schools);
    let weights: Vec<u64> = districts.iter().map(|d| if d.county { rng.range(70, 130) } else { rng.range(90, 150) }).collect();
    let per_district: Vec<u64> =
        if s >= nd { apportion(s - nd, &weights).into_iter().map(|n| n + 1).collect() } else { apportion(s, &weights) };
    let mut kinds = kind_list(s);
    rng.shuffle(&mut kinds);

    let urban_table = Table::new(&[("111", 55), ("112", 20), ("121", 6), ("122", 6), ("123", 1), ("210", 6), ("220", 6)]);
    let county_table = Table::new(&[("112", 3), ("121", 28), ("122", 12), ("123", 2), ("210", 22), ("220", 33)]);
    let mut schools = Vec::with_capacity(s as usize);
    let mut size_weights = Vec::with_capacity(s as usize);
    for (di, &n) in per_district.iter().enumerate() {
        let county = districts[di].county;
        for _ in 0..n {
            let kind = kinds[schools.len()];
            let mut urban = if county { county_table.pick(&mut rng) } else { urban_table.pick(&mut rng) };
            urban = match kind {
                Kind::Point if !matches!(urban, "210" | "220") => {
                    if rng.chance(850) {
                        "220"
                    } else {
                        "210"
                    }
                }
                Kind::Senior if rural(urban) => {
                    if county {
                        "121"
                    } else {
                        "111"
                    }
                }
                Kind::Complete if urban == "220" => "210",
                _ => urban,
            };
            size_weights.push(kind.size() * urban_weight(urban) * rng.range(50, 150));
            schools.push(School {
                code: [b'0'; 10],
                name: String::new(),
                kind,
                urban,
                district: di,
                students: 0,
                teachers: 0,
                grades: Vec::new(),
            });
        }
    }

    // Students by school size, teachers by students.
    for (school, n) in schools.iter_mut().zip(apportion(size.students, &size_weights)) {
        school.students = n;
    }
    let teacher_weights: Vec<u64> = schools.iter().map(|s| s.students + 10).collect();
    for (school, n) in schools.iter_mut().zip(apportion(size.teachers, &teacher_weights)) {
        school.teachers = n;
    }

    // Grades and classes.
    let mut classes = 0;
    for school in &mut schools {
        let grades: Vec<u8> = school.kind.grades().collect();
        let w: Vec<u64> = grades.iter().map(|_| rng.range(90, 110)).collect();
        let small_rural = matches!(school.urban, "210" | "220");
        for (&grade, n) in grades.iter().zip(apportion(school.students, &w)) {
            let target = match grade {
                1..=6 => 42,
                7..=9 => 47,
                _ => 50,
            } - if small_rural { 10 } else { 0 }
                + rng.range(0, 8)
                - 4;
            let c = if n == 0 {
                0
            } else if school.kind == Kind::Point {
                1
            } else {
                ((n + target / 2) / target).clamp(1, 99) as u32
            };
            classes += u64::from(c);
            school.grades.push(GradePlan { grade, classes: c, students: n });
        }
    }

    // Names, district by district, and codes: "2" + city (4 digits) + a 5-digit number in the city.
    let mut start = 0;
    let mut city_counter = vec![0u64; size.cities as usize];
    for (di, &n) in per_district.iter().enumerate() {
        let range = start..start + n as usize;
        start += n as usize;
        name_schools(&mut rng, &districts[di], &mut schools[range.clone()]);
        for school in &mut schools[range] {
            let counter = &mut city_counter[district_city[di]];
            *counter += 1;
            if *counter > 99_999 {
                return Err("more than 99,999 schools in one city".into());
            }
            school.code[0] = b'2';
            school.code[1..5].copy_from_slice(&districts[di].code[..4]);
            crate::ids::write_padded(&mut school.code[5..], *counter);
        }
    }

    let region = Region { province, cities, districts: region_districts };
    Ok(Plan { region, districts, schools, classes })
}

/// `n` school kinds in their shares (largest remainder).
fn kind_list(n: u64) -> Vec<Kind> {
    let mut counts: Vec<(Kind, u64, u64)> = Kind::ALL.iter().map(|&k| (k, n * k.share() / 1000, n * k.share() % 1000)).collect();
    let mut left = n - counts.iter().map(|c| c.1).sum::<u64>();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i].2));
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i].1 += 1;
        left -= 1;
    }
    counts.iter().flat_map(|&(k, c, _)| std::iter::repeat_n(k, c as usize)).collect()
}

#[derive(Default)]
struct Town {
    name: String,
    center: bool,
    villages: u64,
    village_offset: u64,
    middle: u64,
    nine: u64,
    senior: u64,
}

/// Names unique within the district, each prefixed by the district's (unique) name.
fn name_schools(rng: &mut Rng, district: &District, schools: &mut [School]) {
    let rural_count = schools.iter().filter(|s| rural(s.urban)).count() as u64;
    let town_namer = Namer::new(&TOWNS, rng);
    let village_namer = Namer::new(&VILLAGES, rng);
    let road_namer = Namer::new(&ROADS, rng);
    let town_count = rural_count.div_ceil(5).clamp(1, town_namer.capacity());
    let mut towns: Vec<Town> = Vec::new();
    let (mut primary, mut primary_numbered, mut roads, mut middle, mut nine, mut senior) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut rural_index = 0u64;
    for school in schools {
        let mut name = district.name.clone();
        if rural(school.urban) {
            let t = (rural_index % town_count) as usize;
            rural_index += 1;
            if t == towns.len() {
                let mut town = Town { village_offset: rng.below(village_namer.capacity()), ..Town::default() };
                town_namer.name(t as u64, &mut town.name);
                town.name.push_str(if rng.chance(720) { "镇" } else { "乡" });
                towns.push(town);
            }
            let town = &mut towns[t];
            name.push_str(&town.name);
            let village = |town: &mut Town, name: &mut String| {
                let k = town.villages;
                town.villages += 1;
                if k < village_namer.capacity() {
                    village_namer.name((k + town.village_offset) % village_namer.capacity(), name);
                } else {
                    name.push('第');
                    name.push_str(&cn(k + 1));
                    name.push('村');
                }
            };
            match school.kind {
                Kind::Primary if !town.center => {
                    town.center = true;
                    name.push_str("中心小学");
                }
                Kind::Primary => {
                    village(town, &mut name);
                    name.push_str("小学");
                }
                Kind::Point => {
                    village(town, &mut name);
                    name.push_str("村教学点");
                }
                Kind::Junior | Kind::Complete => {
                    town.middle += 1;
                    if town.middle > 1 {
                        name.push('第');
                        name.push_str(&cn(town.middle));
                    }
                    name.push_str("中学");
                }
                Kind::NineYear => {
                    town.nine += 1;
                    if town.nine == 1 {
                        name.push_str("九年一贯制学校");
                    } else {
                        village(town, &mut name);
                        name.push_str("学校");
                    }
                }
                Kind::Senior => {
                    town.senior += 1;
                    if town.senior > 1 {
                        name.push('第');
                        name.push_str(&cn(town.senior));
                    }
                    name.push_str("高级中学");
                }
            }
        } else {
            match school.kind {
                Kind::Primary | Kind::Point => {
                    primary += 1;
                    if primary == 1 {
                        name.push_str("实验小学");
                    } else if primary % 4 == 0 && roads < road_namer.capacity() {
                        road_namer.name(roads, &mut name);
                        roads += 1;
                        name.push_str("小学");
                    } else {
                        primary_numbered += 1;
                        name.push('第');
                        name.push_str(&cn(primary_numbered));
                        name.push_str("小学");
                    }
                }
                Kind::Junior | Kind::Complete => {
                    middle += 1;
                    name.push('第');
                    name.push_str(&cn(middle));
                    name.push_str("中学");
                }
                Kind::NineYear => {
                    nine += 1;
                    if nine > 1 {
                        name.push('第');
                        name.push_str(&cn(nine));
                    }
                    name.push_str("实验学校");
                }
                Kind::Senior => {
                    senior += 1;
                    name.push('第');
                    name.push_str(&cn(senior));
                    name.push_str("高级中学");
                }
            }
        }
        school.name = name;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Size;
    use std::collections::HashSet;

    fn options(size: Size, seed: u64) -> Options {
        Options { size, seed, start_year: 2026, province: ("湖北省".into(), "420000".into()) }
    }

    #[test]
    fn hubei_plan_has_unique_codes_and_names_and_exact_totals() {
        let size = Size::hubei();
        let plan = build(&options(size.clone(), 11)).unwrap();
        assert_eq!(plan.region.cities.len(), 13);
        assert_eq!(plan.region.districts.len(), 13 * 8);
        assert_eq!(plan.schools.len(), 16_000);
        assert_eq!(plan.schools.iter().map(|s| s.students).sum::<u64>(), size.students);
        assert_eq!(plan.schools.iter().map(|s| s.teachers).sum::<u64>(), size.teachers);
        assert_eq!(plan.schools.iter().map(School::classes).sum::<u64>(), plan.classes);
        let codes: HashSet<_> = plan.schools.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), 16_000);
        let names: HashSet<_> = plan.schools.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 16_000);
        let divisions: HashSet<_> = plan.region.cities.iter().chain(&plan.region.districts).map(|d| d.name.as_str()).collect();
        assert_eq!(divisions.len(), 13 * 9);
        for s in &plan.schools {
            assert!(s.code.iter().all(u8::is_ascii_digit));
            assert!(s.grades.iter().all(|g| g.classes <= 99 && (g.students == 0) == (g.classes == 0)));
            assert!(s.name.starts_with(&plan.districts[s.district].name));
        }
        // Kinds in their shares, districts in order and with their cities.
        let primary = plan.schools.iter().filter(|s| s.kind == Kind::Primary).count();
        assert_eq!(primary, 8640);
        assert!(plan.schools.windows(2).all(|w| w[0].district <= w[1].district));
        for d in &plan.region.districts {
            assert_eq!(&d.code[..4], &d.parent_code.as_ref().unwrap()[..4]);
            assert_ne!(&d.code[4..], "00");
        }
        let students_per_class = plan.schools.iter().map(|s| s.students).sum::<u64>() / plan.classes;
        assert!((35..=50).contains(&students_per_class), "{students_per_class}");
    }

    #[test]
    fn many_districts_and_schools_still_get_valid_codes_and_unique_names() {
        let size = Size {
            cities: 2,
            districts_per_city: 98,
            schools: 30_000,
            teachers: 1000,
            students: 100_000,
            parents_per_student: 1,
        };
        let plan = build(&options(size, 3)).unwrap();
        let codes: HashSet<_> = plan.region.districts.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes.len(), 196);
        assert!(plan.region.districts.iter().all(|d| d.code.len() == 6 && &d.code[4..] != "00"));
        let names: HashSet<_> = plan.schools.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 30_000);

        let size =
            Size { cities: 1, districts_per_city: 1, schools: 20_000, teachers: 10, students: 20_000, parents_per_student: 0 };
        let plan = build(&options(size, 4)).unwrap();
        let names: HashSet<_> = plan.schools.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 20_000);
    }

    #[test]
    fn fewer_schools_than_districts_and_tiny_counts_work() {
        let size = Size { cities: 3, districts_per_city: 4, schools: 5, teachers: 3, students: 7, parents_per_student: 2 };
        let plan = build(&options(size, 5)).unwrap();
        assert_eq!(plan.schools.len(), 5);
        assert_eq!(plan.schools.iter().map(|s| s.students).sum::<u64>(), 7);
    }
}

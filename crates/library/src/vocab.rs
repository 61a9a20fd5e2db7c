//! The resource library's code lists (资源基本属性): subjects, textbook editions, volumes, resource
//! types, licences, languages and publication levels. Every resource carries these codes so it can be
//! found and shared across schools and platforms; each entry has a stable code and its zh-CN and en names.
//!
//! Codes are short lowercase ASCII words rather than numbers: they are stored in resources and sent
//! between platforms, so they must never change, and readable codes make data and logs self-explaining.

use kernel::i18n::Locale;

pub struct Term {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Term {
    pub fn name(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.zh,
            Locale::En => self.en,
        }
    }
}

const fn t(code: &'static str, zh: &'static str, en: &'static str) -> Term {
    Term { code, zh, en }
}

/// 学科, by the names of today's curricula (义务教育课程方案 2022, 普通高中课程方案 2017 年版 2020 年修订).
///
/// The codes are our own words, not the ZXXKC numbers of JY/T 1001 (中小学课程代码): that table predates
/// the 2022 curriculum (it has 品德与生活 and 思想品德 where schools now teach 道德与法治, two different
/// codes both named 信息技术, and nothing for 心理健康 or 书法), so it cannot name every subject
/// teachers tag today. [`zxxkc`] maps our codes onto it for exchange with systems that use it.
pub const SUBJECTS: &[Term] = &[
    t("morality", "道德与法治", "Morality and Law"),
    t("chinese", "语文", "Chinese"),
    t("math", "数学", "Mathematics"),
    t("english", "英语", "English"),
    t("japanese", "日语", "Japanese"),
    t("russian", "俄语", "Russian"),
    t("german", "德语", "German"),
    t("french", "法语", "French"),
    t("spanish", "西班牙语", "Spanish"),
    t("politics", "思想政治", "Ideology and Politics"),
    t("history", "历史", "History"),
    t("geography", "地理", "Geography"),
    t("science", "科学", "Science"),
    t("physics", "物理", "Physics"),
    t("chemistry", "化学", "Chemistry"),
    t("biology", "生物学", "Biology"),
    t("info-sci", "信息科技", "Information Science and Technology"),
    t("info-tech", "信息技术", "Information Technology"),
    t("general-tech", "通用技术", "General Technology"),
    t("pe", "体育与健康", "Physical Education and Health"),
    t("arts", "艺术", "Arts"),
    t("music", "音乐", "Music"),
    t("fine-arts", "美术", "Fine Arts"),
    t("labour", "劳动", "Labour"),
    t("practice", "综合实践活动", "Integrated Practical Activities"),
    t("mental-health", "心理健康", "Mental Health"),
    t("calligraphy", "书法", "Calligraphy"),
    // Taught in Mongolian-medium schools of Inner Mongolia.
    t("mongolian", "蒙古语文", "Mongolian Language and Literature"),
    // Preschool has no subjects but five domains (3—6 岁儿童学习与发展指南); 科学 and 艺术 reuse the
    // subject codes above.
    t("health", "健康", "Health"),
    t("language", "语言", "Language"),
    t("social", "社会", "Social Development"),
    // 中职 resources are mostly for trade courses, which no national list enumerates.
    t("specialty", "专业课程", "Vocational Specialty Courses"),
];

/// 教材版本, by the name teachers use for each publisher's series.
pub const EDITIONS: &[Term] = &[
    t("pep", "人教版", "PEP (People's Education Press)"),
    t("tongbian", "统编版", "Unified National Edition"),
    t("pep-a", "人教A版", "PEP Edition A"),
    t("pep-b", "人教B版", "PEP Edition B"),
    t("bnu", "北师大版", "Beijing Normal University Press"),
    t("sujiao", "苏教版", "Jiangsu Education Press"),
    t("suke", "苏科版", "Jiangsu Science and Technology Press"),
    t("hujiao", "沪教版", "Shanghai Education Press"),
    t("huke", "沪科版", "Shanghai Science and Technology Press"),
    t("fltrp", "外研版", "Foreign Language Teaching and Research Press"),
    t("xiangjiao", "湘教版", "Hunan Education Press"),
    t("zhejiao", "浙教版", "Zhejiang Education Press"),
    t("ecnu", "华东师大版", "East China Normal University Press"),
    t("jijiao", "冀教版", "Hebei Education Press"),
    t("lujiao", "鲁教版", "Shandong Education Press"),
    t("luke", "鲁科版", "Shandong Science and Technology Press"),
    t("qingdao", "青岛版", "Qingdao Publishing House"),
    t("yilin", "译林版", "Yilin Press"),
    t("yuejiao", "粤教版", "Guangdong Education Press"),
    t("keyue", "科粤版", "Popular Science Press (Guangzhou)"),
    t("jiaoke", "教科版", "Educational Science Publishing House"),
    t("beijing", "北京版", "Beijing Publishing House"),
    t("xishida", "西师大版", "Southwest Normal University Press"),
    t("yuwen", "语文版", "Language Press"),
    t("renai", "仁爱版", "Ren'ai English"),
    t("zhongtu", "中图版", "SinoMaps Press"),
    // Publishes the Mongolian-language textbooks used in Inner Mongolia.
    t("nmjiao", "内蒙古教育版", "Inner Mongolia Education Press"),
    t("other", "其他", "Other"),
];

/// 册次. Compulsory-education books come in 上册 (autumn term) and 下册 (spring term) or a single
/// volume; senior-secondary books are numbered within 必修 and 选择性必修.
pub const VOLUMES: &[Term] = &[
    t("upper", "上册", "Volume 1"),
    t("lower", "下册", "Volume 2"),
    t("whole", "全一册", "Single Volume"),
    t("required-1", "必修第一册", "Compulsory, Book 1"),
    t("required-2", "必修第二册", "Compulsory, Book 2"),
    t("required-3", "必修第三册", "Compulsory, Book 3"),
    t("elective-1", "选择性必修第一册", "Selective Compulsory, Book 1"),
    t("elective-2", "选择性必修第二册", "Selective Compulsory, Book 2"),
    t("elective-3", "选择性必修第三册", "Selective Compulsory, Book 3"),
];

pub const RESOURCE_TYPES: &[Term] = &[
    t("courseware", "课件", "Courseware"),
    t("lesson-plan", "教案", "Lesson Plan"),
    t("study-guide", "学案", "Study Guide"),
    t("exercise", "习题", "Exercises"),
    t("test-paper", "试卷", "Test Paper"),
    t("micro-lecture", "微课", "Micro-lecture"),
    t("lesson-video", "课堂实录", "Lesson Recording"),
    t("material", "素材", "Media Material"),
    t("simulation", "虚拟仿真", "Virtual Simulation"),
    t("teaching-design", "教学设计", "Teaching Design"),
    t("lesson-talk", "说课", "Lesson Presentation"),
    t("extended-reading", "拓展阅读", "Extended Reading"),
    t("homework-design", "作业设计", "Homework Design"),
    t("other", "其他", "Other"),
];

/// Licences an author may choose: the Creative Commons 4.0 International licences (named as in their
/// official Chinese translation), CC0, or no reuse outside the platform.
pub const LICENCES: &[Term] = &[
    t("cc-by-4.0", "署名 (CC BY 4.0)", "Attribution (CC BY 4.0)"),
    t("cc-by-sa-4.0", "署名-相同方式共享 (CC BY-SA 4.0)", "Attribution-ShareAlike (CC BY-SA 4.0)"),
    t("cc-by-nd-4.0", "署名-禁止演绎 (CC BY-ND 4.0)", "Attribution-NoDerivatives (CC BY-ND 4.0)"),
    t("cc-by-nc-4.0", "署名-非商业性使用 (CC BY-NC 4.0)", "Attribution-NonCommercial (CC BY-NC 4.0)"),
    t(
        "cc-by-nc-sa-4.0",
        "署名-非商业性使用-相同方式共享 (CC BY-NC-SA 4.0)",
        "Attribution-NonCommercial-ShareAlike (CC BY-NC-SA 4.0)",
    ),
    t(
        "cc-by-nc-nd-4.0",
        "署名-非商业性使用-禁止演绎 (CC BY-NC-ND 4.0)",
        "Attribution-NonCommercial-NoDerivatives (CC BY-NC-ND 4.0)",
    ),
    t("cc0-1.0", "公共领域贡献 (CC0 1.0)", "Public Domain Dedication (CC0 1.0)"),
    t("platform", "仅限本平台使用，保留所有权利", "All rights reserved; use on this platform only"),
];

/// The language of a resource's content, by ISO 639-1 code (or "other"): Chinese, the foreign
/// languages taught in schools, and the minority languages with their own school systems.
pub const LANGUAGES: &[Term] = &[
    t("zh", "中文", "Chinese"),
    t("en", "英文", "English"),
    t("mn", "蒙古文", "Mongolian"),
    t("bo", "藏文", "Tibetan"),
    t("ug", "维吾尔文", "Uyghur"),
    t("kk", "哈萨克文", "Kazakh"),
    t("ko", "朝鲜文", "Korean"),
    t("ja", "日文", "Japanese"),
    t("ru", "俄文", "Russian"),
    t("fr", "法文", "French"),
    t("de", "德文", "German"),
    t("es", "西班牙文", "Spanish"),
    t("other", "其他", "Other"),
];

/// The level a resource is published or recommended at, following the bureaus of the org tree.
pub const LEVELS: &[Term] = &[
    t("school", "校级", "School"),
    t("district", "区县级", "District"),
    t("city", "市级", "City"),
    t("province", "省级", "Province"),
];

pub fn find(list: &'static [Term], code: &str) -> Option<&'static Term> {
    list.iter().find(|t| t.code == code)
}

/// The name of a code in a list; "" when the code is unknown, so a stale code shows as blank
/// rather than failing a page.
pub fn name(list: &'static [Term], code: &str, locale: Locale) -> &'static str {
    find(list, code).map_or("", |t| t.name(locale))
}

/// The subjects taught in a stage ("primary", "junior", "senior", "vocational", "preschool"), for
/// narrowing the subject list once a stage is chosen. Besides the national curriculum they include
/// the local subjects schools commonly run (心理健康, 书法, 蒙古语文), so resources for them can be tagged.
pub fn subjects_of_stage(stage: &str) -> &'static [&'static str] {
    match stage {
        "preschool" => &["health", "language", "social", "science", "arts"],
        "primary" => &[
            "morality",
            "chinese",
            "math",
            "english",
            "japanese",
            "russian",
            "science",
            "info-sci",
            "pe",
            "arts",
            "music",
            "fine-arts",
            "labour",
            "practice",
            "mental-health",
            "calligraphy",
            "mongolian",
        ],
        // 科学 stays for regions that teach integrated science instead of physics, chemistry and biology.
        "junior" => &[
            "morality",
            "chinese",
            "math",
            "english",
            "japanese",
            "russian",
            "history",
            "geography",
            "science",
            "physics",
            "chemistry",
            "biology",
            "info-sci",
            "pe",
            "arts",
            "music",
            "fine-arts",
            "labour",
            "practice",
            "mental-health",
            "calligraphy",
            "mongolian",
        ],
        "senior" => &[
            "chinese",
            "math",
            "english",
            "japanese",
            "russian",
            "german",
            "french",
            "spanish",
            "politics",
            "history",
            "geography",
            "physics",
            "chemistry",
            "biology",
            "info-tech",
            "general-tech",
            "pe",
            "arts",
            "music",
            "fine-arts",
            "labour",
            "practice",
            "mental-health",
            "mongolian",
        ],
        // 中等职业学校公共基础课程方案 (2020) plus the trade courses.
        "vocational" => &[
            "politics",
            "chinese",
            "history",
            "math",
            "english",
            "info-tech",
            "pe",
            "arts",
            "physics",
            "chemistry",
            "labour",
            "mental-health",
            "specialty",
        ],
        _ => &[],
    }
}

/// The JY/T 1001 中小学课程代码 (ZXXKC) of a subject in a stage, for exchanging data with systems
/// that use that table; None where it has no equivalent (it covers only primary to senior secondary).
/// 道德与法治 maps to 品德与生活（社会） in primary school and to 思想品德（政治） above it, the
/// subjects it replaced.
pub fn zxxkc(stage: &str, subject: &str) -> Option<&'static str> {
    if !matches!(stage, "primary" | "junior" | "senior") || !subjects_of_stage(stage).contains(&subject) {
        return None;
    }
    Some(match subject {
        "morality" if stage == "primary" => "11",
        "morality" | "politics" => "12",
        "chinese" => "13",
        "math" => "14",
        "science" => "15",
        "physics" => "16",
        "chemistry" => "17",
        "biology" => "18",
        "geography" => "20",
        "history" => "21",
        "pe" => "22",
        "arts" => "23",
        "music" => "24",
        "fine-arts" => "25",
        "info-tech" => "26",
        "general-tech" => "27",
        "english" => "41",
        "japanese" => "42",
        "russian" => "43",
        "german" | "french" | "spanish" => "49",
        "practice" => "60",
        "info-sci" => "61",
        "labour" => "62",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const LISTS: [(&str, &[Term]); 7] = [
        ("SUBJECTS", SUBJECTS),
        ("EDITIONS", EDITIONS),
        ("VOLUMES", VOLUMES),
        ("RESOURCE_TYPES", RESOURCE_TYPES),
        ("LICENCES", LICENCES),
        ("LANGUAGES", LANGUAGES),
        ("LEVELS", LEVELS),
    ];

    const STAGES: [&str; 5] = ["preschool", "primary", "junior", "senior", "vocational"];

    #[test]
    fn codes_are_unique_lowercase_ascii_and_named() {
        let code_byte = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b);
        for (list_name, list) in LISTS {
            let mut seen = HashSet::new();
            for term in list {
                assert!(seen.insert(term.code), "{list_name}: {} twice", term.code);
                assert!(!term.code.is_empty() && term.code.bytes().all(code_byte), "{list_name}: {:?}", term.code);
                assert!(!term.zh.trim().is_empty() && !term.en.trim().is_empty(), "{list_name}: {} unnamed", term.code);
            }
        }
    }

    #[test]
    fn names_follow_the_locale_and_unknown_codes_are_blank() {
        assert_eq!(name(SUBJECTS, "biology", Locale::ZhCn), "生物学");
        assert_eq!(name(SUBJECTS, "info-sci", Locale::ZhCn), "信息科技");
        assert_eq!(name(EDITIONS, "pep", Locale::ZhCn), "人教版");
        assert_eq!(name(VOLUMES, "lower", Locale::En), "Volume 2");
        assert_eq!(name(LICENCES, "platform", Locale::ZhCn), "仅限本平台使用，保留所有权利");
        assert_eq!(name(SUBJECTS, "astrology", Locale::En), "");
        assert_eq!(name(SUBJECTS, "", Locale::ZhCn), "");
        assert!(find(LANGUAGES, "mn").is_some_and(|t| t.zh == "蒙古文"));
        assert!(find(LEVELS, "nation").is_none());
    }

    #[test]
    fn every_stage_subject_exists_and_every_subject_has_a_stage() {
        let mut used = HashSet::new();
        for stage in STAGES {
            let subjects = subjects_of_stage(stage);
            assert!(!subjects.is_empty(), "{stage}");
            let mut seen = HashSet::new();
            for code in subjects {
                assert!(find(SUBJECTS, code).is_some(), "{stage}: {code} is not in SUBJECTS");
                assert!(seen.insert(code), "{stage}: {code} twice");
                used.insert(*code);
            }
        }
        // A subject outside every stage could never pass the resource form's stage check.
        for term in SUBJECTS {
            assert!(used.contains(term.code), "{} is taught in no stage", term.code);
        }
        assert!(subjects_of_stage("university").is_empty());
        assert!(subjects_of_stage("junior").contains(&"biology"));
        assert!(!subjects_of_stage("primary").contains(&"physics"));
    }

    #[test]
    fn zxxkc_codes_follow_the_stage() {
        assert_eq!(zxxkc("primary", "morality"), Some("11"));
        assert_eq!(zxxkc("junior", "morality"), Some("12"));
        assert_eq!(zxxkc("senior", "politics"), Some("12"));
        assert_eq!(zxxkc("junior", "chinese"), Some("13"));
        assert_eq!(zxxkc("senior", "info-tech"), Some("26"));
        assert_eq!(zxxkc("junior", "info-sci"), Some("61"));
        assert_eq!(zxxkc("primary", "physics"), None);
        assert_eq!(zxxkc("junior", "calligraphy"), None);
        assert_eq!(zxxkc("vocational", "chinese"), None);
        for stage in ["primary", "junior", "senior"] {
            for subject in subjects_of_stage(stage) {
                if let Some(code) = zxxkc(stage, subject) {
                    assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()), "{stage} {subject}");
                }
            }
        }
    }

    #[test]
    fn the_demo_catalogue_uses_the_code_lists() {
        let csv = crate::catalogue::DEMO_CATALOGUE;
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("stage,grade,subject,edition,volume,chapter,section"));
        let mut rows = 0;
        let mut chapters_without_sections = HashSet::new();
        let mut chapters_with_sections = HashSet::new();
        let mut seen = HashSet::new();
        for (i, line) in lines.enumerate() {
            let at = i + 2;
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 7, "line {at}: {line}");
            let (stage, grade, subject, edition, volume, chapter, section) = (f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
            let years = if stage == "primary" { 6 } else { 3 };
            assert!(grade.parse::<i64>().is_ok_and(|g| (1..=years).contains(&g)), "line {at}: grade {grade}");
            assert!(subjects_of_stage(stage).contains(&subject), "line {at}: {subject} in {stage}");
            assert!(find(EDITIONS, edition).is_some(), "line {at}: edition {edition}");
            assert!(find(VOLUMES, volume).is_some(), "line {at}: volume {volume}");
            assert!(!chapter.is_empty() && chapter.trim() == chapter && section.trim() == section, "line {at}");
            assert!(seen.insert(line), "line {at} repeats an earlier row");
            let book_chapter = f[..6].join(",");
            if section.is_empty() {
                chapters_without_sections.insert(book_chapter);
            } else {
                chapters_with_sections.insert(book_chapter);
            }
            rows += 1;
        }
        // A chapter is either one row of its own or one row per section, never both.
        assert!(chapters_without_sections.is_disjoint(&chapters_with_sections));
        assert!(rows >= 150, "{rows} rows");
    }
}

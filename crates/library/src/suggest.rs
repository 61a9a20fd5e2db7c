//! Chapter suggestion: from a resource title such as "勾股定理的证明（第1课时）课件", the textbook
//! chapters or sections it most likely belongs to ("17.1 勾股定理"), so a teacher confirms a choice
//! instead of searching the catalogue.
//!
//! Both sides are normalised the same way, then compared by their character bigrams (Dice
//! coefficient): Chinese has no spaces between words, and bigrams find shared words without a
//! dictionary while tolerating the words teachers add around the topic. A candidate's ancestors
//! count too, with a smaller weight, so "勾股定理 复习" still finds the sections of 第十七章 勾股定理.

use std::collections::HashSet;

pub struct Candidate<'a> {
    pub id: i64,
    /// The chapter or section title, e.g. "17.1 勾股定理".
    pub title: &'a str,
    /// The titles of its ancestors joined by " / ", e.g. "第十七章 勾股定理".
    pub path_titles: &'a str,
}

/// A candidate is about its own title; its ancestors only say which part of the book it is in.
const OWN_WEIGHT: f64 = 0.8;
const PATH_WEIGHT: f64 = 0.2;

/// The best few candidates for a title, best first, each with a score in 0..=1; empty when nothing
/// shares meaningful text.
pub fn suggest(title: &str, candidates: &[Candidate<'_>], limit: usize) -> Vec<(i64, f64)> {
    let wanted = grams(title);
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, usize, i64)> = candidates
        .iter()
        .filter_map(|c| {
            let (own, path) = (grams(c.title), grams(c.path_titles));
            let score = (OWN_WEIGHT * dice(&wanted, &own) + PATH_WEIGHT * dice(&wanted, &path)).min(1.0);
            (score > 0.0).then_some((score, own.len() + path.len(), c.id))
        })
        .collect();
    // On a tie the more specific candidate wins (a section, which has more text than its chapter);
    // the id keeps the order stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    scored.into_iter().take(limit).map(|(score, _, id)| (id, score)).collect()
}

/// What titles are compared by: Chinese text by character bigrams, or by the character itself when a
/// word is one character long (《春》, 4.3 角); Latin text by whole words, which spaces already mark
/// and whose letter pairs ("lo" in "hello" and "look") mean nothing.
#[derive(PartialEq, Eq, Hash)]
enum Gram {
    Pair(char, char),
    Single(char),
    Word(String),
}

fn dice(a: &HashSet<Gram>, b: &HashSet<Gram>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

/// Words that say what kind of file a title is or which book it is for, not what it is about. They
/// are removed wherever they occur, the longest match first, and from candidates too, so that
/// "练习使用显微镜" still matches itself.
const NOISE: &str = "\
    课件 教学课件 教案 学案 导学案 导学 预习 习题 练习题 练习 试题 试卷 测试卷 测试 \
    检测 微课 视频 教学设计 作业设计 作业 说课稿 说课 课堂实录 实录 素材 讲义 知识点 \
    含答案 答案 解析 教学反思 复习 同步 课时 课题 单元 章节 公开课 优质课 示范课 获奖 \
    一等奖 精品 新课标 新版 最新 配套 \
    人教版 新人教版 人教a版 人教b版 人教pep版 部编版 统编版 部编 统编 北师大版 苏教版 \
    苏科版 沪教版 沪科版 外研版 湘教版 浙教版 华东师大版 华师大版 冀教版 鲁教版 鲁科版 \
    青岛版 译林版 粤教版 科粤版 教科版 北京版 西师大版 仁爱版 中图版 上册 下册 全一册 \
    选择性必修 必修 选修 上学期 下学期 七上 七下 八上 八下 九上 九下 初一 初二 初三 \
    高一 高二 高三";

/// Latin-script noise, matched as whole words so that "part" does not cut "party".
const LATIN_NOISE: &[&str] =
    &["ppt", "pptx", "doc", "docx", "pdf", "mp4", "word", "pep", "unit", "lesson", "module", "part", "section"];

/// What follows 第 and a number in "第3课时", "第十七章", "第一节", "第二框": numbering, not topic.
const ORDINAL_UNITS: &[&str] = &["课时", "单元", "部分", "章", "节", "课", "讲", "册", "框", "周"];

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || "零〇一二三四五六七八九十百两".contains(c)
}

/// Full-width forms to ASCII (teachers type both), and ASCII lower-cased.
fn fold(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
    .to_ascii_lowercase()
}

/// The length in bytes of the numbering "第…章" or "…年级" at the start of `s`, if any.
fn numbering_len(s: &str) -> Option<usize> {
    let after_di = s.strip_prefix('第');
    let body = after_di.unwrap_or(s);
    let number: usize = body.chars().take_while(|c| is_numeral(*c)).map(char::len_utf8).sum();
    if number == 0 {
        return None;
    }
    let tail = &body[number..];
    let units: &[&str] = if after_di.is_some() { ORDINAL_UNITS } else { &["年级"] };
    units.iter().find(|u| tail.starts_with(**u)).map(|u| s.len() - tail.len() + u.len())
}

/// The text with numbering and noise words replaced by spaces, so they also split words.
fn strip_noise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let word = || NOISE.split_whitespace().filter(|w| rest.starts_with(w)).map(str::len).max();
        let noise = numbering_len(rest).or_else(word);
        let skip = match noise {
            Some(n) => {
                out.push(' ');
                n
            }
            None => {
                out.push(c);
                c.len_utf8()
            }
        };
        rest = &rest[skip..];
    }
    out
}

#[derive(PartialEq)]
enum Kind {
    Han,
    Latin,
    Other,
}

/// Digits and punctuation separate words and never count: numbers in titles are section, lesson or
/// year numbers. 的 separates too: it is the commonest character in titles and joins words, so
/// bigrams across it ("理的") would match titles that share nothing else.
fn kind(c: char) -> Kind {
    if c.is_ascii_alphabetic() {
        Kind::Latin
    } else if c.is_alphabetic() && !c.is_ascii() && c != '的' {
        Kind::Han
    } else {
        Kind::Other
    }
}

fn grams(text: &str) -> HashSet<Gram> {
    let folded: String = text.chars().map(fold).collect();
    let chars: Vec<char> = strip_noise(&folded).chars().collect();
    let mut out = HashSet::new();
    for word in chars.chunk_by(|a, b| kind(*a) == kind(*b)) {
        match (kind(word[0]), word) {
            (Kind::Other, _) => {}
            (Kind::Latin, _) => {
                let word: String = word.iter().collect();
                if !LATIN_NOISE.contains(&word.as_str()) {
                    out.insert(Gram::Word(word));
                }
            }
            (Kind::Han, [only]) => {
                out.insert(Gram::Single(*only));
            }
            (Kind::Han, _) => out.extend(word.windows(2).map(|w| Gram::Pair(w[0], w[1]))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (id, title, path) as the catalogue gives them: a chapter's path is its textbook.
    fn candidates<'a>(rows: &[(i64, &'a str, &'a str)]) -> Vec<Candidate<'a>> {
        rows.iter().map(|&(id, title, path_titles)| Candidate { id, title, path_titles }).collect()
    }

    fn best(title: &str, rows: &[(i64, &str, &str)]) -> Vec<i64> {
        suggest(title, &candidates(rows), 5).into_iter().map(|(id, _)| id).collect()
    }

    const MATH_8B: &[(i64, &str, &str)] = &[
        (16, "第十六章 二次根式", "人教版 数学 八年级下册"),
        (161, "16.1 二次根式", "第十六章 二次根式"),
        (162, "16.2 二次根式的乘除", "第十六章 二次根式"),
        (17, "第十七章 勾股定理", "人教版 数学 八年级下册"),
        (171, "17.1 勾股定理", "第十七章 勾股定理"),
        (172, "17.2 勾股定理的逆定理", "第十七章 勾股定理"),
        (18, "第十八章 平行四边形", "人教版 数学 八年级下册"),
        (181, "18.1 平行四边形", "第十八章 平行四边形"),
        (182, "18.2 特殊的平行四边形", "第十八章 平行四边形"),
        (19, "第十九章 一次函数", "人教版 数学 八年级下册"),
        (191, "19.1 函数", "第十九章 一次函数"),
        (192, "19.2 一次函数", "第十九章 一次函数"),
    ];

    const MATH_JUNIOR: &[(i64, &str, &str)] = &[
        (11, "第十一章 三角形", "人教版 数学 八年级上册"),
        (111, "11.1 与三角形有关的线段", "第十一章 三角形"),
        (112, "11.2 与三角形有关的角", "第十一章 三角形"),
        (12, "第十二章 全等三角形", "人教版 数学 八年级上册"),
        (121, "12.1 全等三角形", "第十二章 全等三角形"),
        (122, "12.2 三角形全等的判定", "第十二章 全等三角形"),
        (123, "12.3 角的平分线的性质", "第十二章 全等三角形"),
        (4, "第四章 几何图形初步", "人教版 数学 七年级上册"),
        (43, "4.3 角", "第四章 几何图形初步"),
        (21, "第二十一章 一元二次方程", "人教版 数学 九年级上册"),
        (211, "21.1 一元二次方程", "第二十一章 一元二次方程"),
        (212, "21.2 解一元二次方程", "第二十一章 一元二次方程"),
        (213, "21.3 实际问题与一元二次方程", "第二十一章 一元二次方程"),
        (222, "22.2 二次函数与一元二次方程", "第二十二章 二次函数"),
    ];

    const CHINESE: &[(i64, &str, &str)] = &[
        (71, "第一单元", "统编版 语文 七年级上册"),
        (711, "1 春", "第一单元"),
        (712, "2 济南的冬天", "第一单元"),
        (713, "3 雨的四季", "第一单元"),
        (714, "4 古代诗歌四首", "第一单元"),
        (715, "写作 热爱生活，热爱写作", "第一单元"),
        (84, "第四单元", "统编版 语文 八年级上册"),
        (841, "14 背影", "第四单元"),
        (842, "15 白杨礼赞", "第四单元"),
        (843, "16 散文二篇", "第四单元"),
        (844, "17 昆明的雨", "第四单元"),
    ];

    const CARBON_OXYGEN: &str = "第三单元 生物圈中的绿色植物 / 第五章 绿色植物与生物圈中的碳—氧平衡";

    const SCIENCE: &[(i64, &str, &str)] = &[
        (10, "第十章 浮力", "人教版 物理 八年级下册"),
        (101, "第1节 浮力", "第十章 浮力"),
        (102, "第2节 阿基米德原理", "第十章 浮力"),
        (103, "第3节 物体的浮沉条件及应用", "第十章 浮力"),
        (9, "第九章 压强", "人教版 物理 八年级下册"),
        (94, "第4节 流体压强与流速的关系", "第九章 压强"),
        (5, "第五单元 化学方程式", "人教版 化学 九年级上册"),
        (51, "课题1 质量守恒定律", "第五单元 化学方程式"),
        (52, "课题2 如何正确书写化学方程式", "第五单元 化学方程式"),
        (53, "课题3 利用化学方程式的简单计算", "第五单元 化学方程式"),
        (354, "第四章 绿色植物是生物圈中有机物的制造者", "第三单元 生物圈中的绿色植物"),
        (355, "第五章 绿色植物与生物圈中的碳—氧平衡", "第三单元 生物圈中的绿色植物"),
        (3551, "第一节 光合作用吸收二氧化碳释放氧气", CARBON_OXYGEN),
        (3552, "第二节 绿色植物的呼吸作用", CARBON_OXYGEN),
    ];

    const ENGLISH: &[(i64, &str, &str)] = &[
        (1, "Unit 1 Hello!", "人教版 英语 三年级上册"),
        (2, "Unit 2 Colours", "人教版 英语 三年级上册"),
        (3, "Unit 3 Look at me!", "人教版 英语 三年级上册"),
        (5, "Unit 5 Let's eat!", "人教版 英语 三年级上册"),
    ];

    #[test]
    fn pythagoras_proof_suggests_the_section() {
        let found = best("勾股定理的证明（第1课时）课件", MATH_8B);
        assert_eq!(found[..3], [171, 172, 17]);
        assert!(!found.contains(&181));
        // Numbers and edition words alone decide nothing.
        assert_eq!(best("人教版八年级下册 17.1勾股定理", MATH_8B)[0], 171);
    }

    #[test]
    fn quadratic_equations() {
        assert_eq!(best("21.2 解一元二次方程（配方法）教学设计", MATH_JUNIOR)[0], 212);
        let review = best("人教版九年级上册第二十一章一元二次方程单元复习", MATH_JUNIOR);
        assert_eq!(review[0], 211);
        assert!(review.contains(&21) && review.contains(&222) && !review.contains(&122));
    }

    #[test]
    fn congruence_tests_and_a_one_character_section() {
        assert_eq!(best("12.2 三角形全等的判定（SSS）导学案", MATH_JUNIOR)[0], 122);
        // 4.3 角 is one character; 的 splits "角的度量" so 角 stands alone and finds it.
        assert_eq!(best("角的度量 课件", MATH_JUNIOR)[0], 43);
    }

    #[test]
    fn spring_by_zhu_ziqing_is_a_one_character_lesson() {
        let found = suggest("《春》朱自清 教学设计（第2课时）", &candidates(CHINESE), 5);
        assert_eq!(found[0].0, 711);
        assert!(found.iter().all(|(id, _)| *id == 711), "{found:?}");
        assert_eq!(best("春 PPT", CHINESE), [711]);
        // 春 inside a longer word is another word.
        assert!(best("春天在哪里", CHINESE).is_empty());
    }

    #[test]
    fn the_back_view() {
        assert_eq!(best("朱自清《背影》说课稿", CHINESE), [841]);
        assert_eq!(best("济南的冬天 课堂实录", CHINESE)[0], 712);
    }

    #[test]
    fn buoyancy_prefers_the_section_over_its_chapter() {
        let found = suggest("第十章 第1节 浮力 课件PPT", &candidates(SCIENCE), 5);
        assert_eq!(found[0], (101, 1.0));
        assert_eq!(found[1].0, 10);
        assert_eq!(best("阿基米德原理 习题", SCIENCE)[0], 102);
    }

    #[test]
    fn chemical_equations() {
        assert_eq!(best("如何正确书写化学方程式 练习题（含答案）", SCIENCE)[0], 52);
        // A unit review names the unit itself.
        assert_eq!(best("化学方程式 单元复习课件", SCIENCE)[0], 5);
        assert_eq!(best("利用化学方程式的简单计算", SCIENCE)[0], 53);
    }

    #[test]
    fn photosynthesis() {
        let found = best("光合作用 微课", SCIENCE);
        assert_eq!(found[0], 3551);
        assert!(!found.contains(&354));
    }

    #[test]
    fn english_units_and_full_width_text() {
        // English is compared by words: "hello" and "look" share letters, not meaning.
        assert_eq!(best("PEP三年级上册 Unit 3 Look at me! 第一课时", ENGLISH), [3]);
        assert_eq!(best("ＰＰＴ　勾股定理（第２课时）", MATH_8B)[0], 171);
    }

    #[test]
    fn nothing_shared_gives_nothing() {
        assert!(best("校园足球联赛报名表", MATH_8B).is_empty());
        assert!(best("课件PPT（第1课时）", MATH_8B).is_empty());
        assert!(best("", MATH_8B).is_empty());
        assert!(best("   ", CHINESE).is_empty());
        assert!(suggest("勾股定理", &[], 5).is_empty());
        assert!(suggest("勾股定理", &candidates(MATH_8B), 0).is_empty());
        assert!(best("勾股定理", &[(1, "", ""), (2, "第一单元", "")]).is_empty());
    }

    #[test]
    fn scores_are_ordered_within_range_and_limited() {
        let rows: Vec<(i64, &str, &str)> = [MATH_8B, MATH_JUNIOR, CHINESE, SCIENCE].concat();
        for title in ["二次根式", "勾股定理", "一元二次方程", "浮力", "春", "三角形"] {
            let found = suggest(title, &candidates(&rows), 3);
            assert!(!found.is_empty() && found.len() <= 3, "{title}");
            assert!(found.iter().all(|(_, s)| (0.0..=1.0).contains(s) && *s > 0.0), "{title}: {found:?}");
            assert!(found.windows(2).all(|w| w[0].1 >= w[1].1), "{title}: {found:?}");
        }
    }
}

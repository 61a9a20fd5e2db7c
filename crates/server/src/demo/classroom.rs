//! The demo classroom: homework in every state for the class of the printed student login (marked
//! and handed back, handed in awaiting marks, late, open, on paper), made through the product's
//! own steps and then moved back in time, and a few questions with answers.

use super::files;
use super::library::People;
use anyhow::Context;
use classroom::homework::{self, Assigned, HandInInput, HomeworkInput, MarkInput};
use classroom::questions::{self, QuestionInput};
use kernel::App;
use kernel::db::sql;
use library::attachments::File;

/// Seeds the classroom once: nothing happens when the region already has homework.
pub async fn seed(app: &App) -> anyhow::Result<()> {
    let (existing,): (i64,) = app.db.fetch_one(sql("SELECT COUNT(*) FROM homework")).await?;
    if existing > 0 {
        return Ok(());
    }
    let mut people = People::new(app);
    let Some(student) = login(app, "student01").await? else { return Ok(()) };
    let Some(student_actor) = people.actor(student).await? else { return Ok(()) };
    let Some(&class_id) = student_actor.class_ids.first() else { return Ok(()) };
    let teachers = questions::teachers_of(app, class_id).await?;
    let students = homework::students_of(app, class_id).await?;
    let due = |days: i64, hm: &str| {
        format!("{}T{hm}", kernel::today(app.config.display_utc_offset_minutes) + time::Duration::days(days))
    };
    // (subject, title, what to do, minutes, days until due as finally shown, hand-in, progress)
    let plan: [(&str, &str, &str, i64, i64, &str, Progress); 5] = [
        ("chinese", "《秋天的雨》朗读与摘抄", "朗读课文三遍，摘抄文中描写颜色的句子。", 20, -6, "online", Progress::Returned),
        ("math", "两位数乘两位数练习", "完成练习册第 32–33 页，写出竖式。", 25, -2, "online", Progress::HandedIn),
        ("english", "Unit 4 单词听写准备", "熟读 Unit 4 单词表，明天课上听写。", 15, 0, "paper", Progress::Paper),
        ("math", "面积单位换算", "完成课本第 68 页“做一做”，拍照上传。", 20, 1, "online", Progress::Open),
        ("chinese", "写一写我的好朋友", "写一段不少于 150 字的话，介绍你的好朋友。", 30, 2, "online", Progress::Open),
    ];
    let mut rng = super::Rng::new(77);
    for (i, (subject, title, body, minutes, days, hand_in, progress)) in plan.into_iter().enumerate() {
        let Some(teacher) = teachers.iter().find(|t| t.2 == subject).or(teachers.first()) else { continue };
        let Some(teacher_actor) = people.actor(teacher.0).await? else { continue };
        let input = HomeworkInput {
            title: title.into(),
            instructions: body.into(),
            subject: subject.into(),
            class_ids: vec![class_id],
            due: due(1, "20:00"),
            estimated_minutes: minutes,
            hand_in: hand_in.into(),
            confirm_load: true,
            ..Default::default()
        };
        let Assigned::Created(id) =
            homework::assign(app, &teacher_actor, &input, Vec::new()).await.context("assigning demo homework")?
        else {
            continue;
        };
        for (n, (sid, _)) in students.iter().enumerate() {
            // The printed student leaves the newest homework to do, so their list shows every state.
            let hands_in = match progress {
                Progress::Returned | Progress::HandedIn => n % 9 != 4,
                Progress::Open => *sid != student && n % 3 == 0,
                Progress::Paper => false,
            };
            if !hands_in {
                continue;
            }
            let Some(actor) = people.actor(*sid).await? else { continue };
            let photo = File {
                name: format!("IMG_{:04}.bmp", 2000 + i * 100 + n),
                bytes: files::bmp(96, 64, (i * 1000 + n) as u64).into(),
            };
            let answer =
                HandInInput { answer: "已完成，请老师批改。".into(), idempotency_key: format!("demo-{id}-{sid}") };
            homework::hand_in(app, &actor, id, &answer, vec![photo]).await.context("handing in demo homework")?;
        }
        let mut marked = Vec::new();
        if matches!(progress, Progress::Returned | Progress::Paper) {
            for (n, (sid, _)) in students.iter().enumerate() {
                let done = homework::store::work(&app.db, id, *sid).await?.is_some_and(|w| w.handed_in());
                if progress == Progress::Returned && !done {
                    continue;
                }
                if progress == Progress::Paper && n % 2 == 1 {
                    continue;
                }
                let score = 68 + rng.below(33) as i64;
                let mark = MarkInput {
                    score: score.to_string(),
                    evaluation: if score >= 90 {
                        "优".into()
                    } else if score >= 80 {
                        "良".into()
                    } else {
                        "合格".into()
                    },
                    feedback: rng.pick(FEEDBACK).into(),
                    resubmit: false,
                };
                homework::mark(app, &teacher_actor, id, *sid, &mark).await.context("marking demo homework")?;
                marked.push(*sid);
            }
        }
        // Move it back to the day it was set, so it shows as past, late or due.
        let shift = (days - 1) * 86_400;
        app.db
            .execute(
                sql("UPDATE homework SET due_at = due_at + $2, created_at = created_at + $2 - 86400, \
                     due_on = $3 WHERE id = $1")
                .bind(id)
                .bind(shift)
                .bind(kernel::today(app.config.display_utc_offset_minutes) + time::Duration::days(days)),
            )
            .await?;
        app.db
            .execute(
                sql("UPDATE submissions SET handed_in_at = handed_in_at + $2 - 3600, updated_at = updated_at + $2, \
                     marked_at = marked_at + $2 + 3600, returned_at = returned_at + $2 + 3600 WHERE homework_id = $1")
                .bind(id)
                .bind(shift),
            )
            .await?;
        if progress == Progress::Returned {
            // Two handed in after the deadline.
            app.db
                .execute(
                    sql("UPDATE submissions SET late = $2, handed_in_at = handed_in_at + 7200 WHERE homework_id = $1 \
                         AND student_id IN (SELECT student_id FROM submissions WHERE homework_id = $1 ORDER BY student_id LIMIT 2)")
                    .bind(id)
                    .bind(true),
                )
                .await?;
        }
    }
    questions(app, &mut people, &students, &teachers, student).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    Returned,
    HandedIn,
    Paper,
    Open,
}

const FEEDBACK: &[&str] = &[
    "书写工整，继续保持！",
    "思路清楚，第 3 题计算要细心。",
    "完成得很认真，注意标点符号。",
    "进步很大，老师为你高兴。",
    "个别字词有错误，请订正。",
];

async fn login(app: &App, login: &str) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = app.db.fetch_optional(sql("SELECT id FROM people WHERE login = $1").bind(login)).await?;
    Ok(row.map(|r| r.0))
}

/// A question answered and shared with the class, one answered and solved, one still waiting.
async fn questions(
    app: &App,
    people: &mut People<'_>,
    students: &[(i64, String)],
    teachers: &[(i64, String, String)],
    student: i64,
) -> anyhow::Result<()> {
    // Questions go to the printed teacher login, so the demo's teacher finds them waiting.
    let printed = login(app, "teacher01").await?;
    let Some(english) = teachers.iter().find(|t| Some(t.0) == printed).or(teachers.first()) else { return Ok(()) };
    let Some(teacher) = people.actor(english.0).await? else { return Ok(()) };
    let classmate = students.iter().map(|s| s.0).find(|s| *s != student).unwrap_or(student);
    let asks = [
        (
            student,
            "“What colour is it?” 怎么回答？",
            "Unit 4 第二课的对话里，回答颜色的时候要不要加 It's？",
            Some("要的，完整回答是 It's red. 口语里也可以只说 Red."),
            true,
        ),
        (
            classmate,
            "orange 是橙色还是橙子？",
            "课本上 orange 有两个意思，听写的时候写哪个？",
            Some("两个意思都对：颜色是“橙色”，水果是“橙子”。听写时看老师读的句子。"),
            false,
        ),
        (classmate, "单词 purple 怎么记？", "purple 老是拼错，有什么好办法吗？", None, false),
    ];
    for (asker, title, body, answer, share) in asks {
        let Some(actor) = people.actor(asker).await? else { continue };
        let input = QuestionInput { teacher_id: english.0, title: title.into(), text: body.into() };
        let id = questions::ask(app, &actor, &input, Vec::new()).await.context("asking a demo question")?;
        if let Some(text) = answer {
            questions::reply(app, &teacher, id, text, Vec::new()).await?;
            if share {
                questions::share(app, &teacher, id, true).await?;
            } else {
                questions::solve(app, &actor, id).await?;
            }
        }
        // Asked some hours ago, so the waiting time shows.
        app.db.execute(sql("UPDATE questions SET created_at = created_at - 10800 WHERE id = $1").bind(id)).await?;
    }
    Ok(())
}

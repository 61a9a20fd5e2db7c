//! The demo's messaging: the printed student's class group and parents' group with a few days of
//! realistic talk, a direct message between the printed parent and the head teacher, a school
//! notice that most parents have read and some have confirmed (the printed parent not yet), and
//! family-education deliveries, one sent and one to come. Everything goes through the product's own
//! steps and is then moved back in time.

use super::files;
use super::library::People;
use anyhow::Context;
use kernel::App;
use kernel::auth::Actor;
use kernel::db::sql;
use library::resources::model::ResourceInput;
use library::resources::{self, Decision};
use messaging::conversations::{self, Group, Kind, MessageInput};
use messaging::{family, notices};

/// Seeds messaging once: nothing happens when the region already has messages.
pub async fn seed(app: &App) -> anyhow::Result<()> {
    let (existing,): (i64,) = app.db.fetch_one(sql("SELECT COUNT(*) FROM messages")).await?;
    if existing > 0 {
        return Ok(());
    }
    let mut people = People::new(app);
    let mut actor = async |login: &str| -> anyhow::Result<Option<Actor>> {
        let row: Option<(i64,)> = app.db.fetch_optional(sql("SELECT id FROM people WHERE login = $1").bind(login)).await?;
        match row {
            Some((id,)) => people.actor(id).await,
            None => Ok(None),
        }
    };
    let (Some(student), Some(parent), Some(head), Some(teacher), Some(admin)) = (
        actor("student01").await?,
        actor("parent01").await?,
        actor("headteacher01").await?,
        actor("teacher01").await?,
        actor("school01-admin").await?,
    ) else {
        return Ok(());
    };
    let Some(&class_id) = student.class_ids.first() else { return Ok(()) };
    let class = conversations::sync_group(app, &Group { kind: Kind::Class, of: class_id }).await?;
    let parents = conversations::sync_group(app, &Group { kind: Kind::Parents, of: class_id }).await?;
    conversations::sync_group(app, &Group { kind: Kind::Staff, of: admin.unit_id }).await?;

    // Other parents and a classmate of the class, to make the groups talk.
    let others: Vec<i64> = conversations::store::member_ids(&app.db, parents)
        .await?
        .into_iter()
        .filter(|p| ![parent.person_id, head.person_id, teacher.person_id].contains(p))
        .take(3)
        .collect();
    let mut other_parents = Vec::new();
    for p in others {
        if let Some(a) = people.actor(p).await? {
            other_parents.push(a);
        }
    }
    let classmate = conversations::store::member_ids(&app.db, class).await?.into_iter().find(|p| *p != student.person_id);
    let classmate = match classmate {
        Some(p) => people.actor(p).await?.filter(|a| a.role == kernel::auth::Role::Student),
        None => None,
    };

    // (who, conversation, text, hours ago)
    let mut said: Vec<(&Actor, i64, String, i64)> = vec![
        (&head, parents, "各位家长好，本周五下午三点在一楼报告厅开期末家长会，请每个家庭至少来一位家长。".into(), 50),
        (&teacher, parents, "英语组提醒：下周一听写 Unit 4 单词，请家长督促孩子每天读 10 分钟。".into(), 26),
        (&head, class, "同学们，明天大扫除，请带一块干净的抹布。".into(), 30),
        (&teacher, class, "明天英语课听写 Unit 4，@全体 请复习单词表。".into(), 20),
        (&student, class, "老师，听写包括课文里的短语吗？".into(), 19),
        (&teacher, class, "包括第一部分的四个短语，其他不考。".into(), 18),
        (&head, parents, "天气转冷，请给孩子多带一件外套。明早七点五十前到校。".into(), 3),
    ];
    if let Some(p) = other_parents.first() {
        said.push((p, parents, "收到，谢谢老师！".into(), 49));
    }
    if let Some(p) = other_parents.get(1) {
        said.push((p, parents, "请问家长会需要带什么材料吗？".into(), 48));
        said.push((&head, parents, "不用带材料，带上孩子的成长手册就行。".into(), 47));
    }
    if let Some(c) = &classmate {
        said.push((c, class, "我也想问这个！".into(), 19));
    }
    said.sort_by_key(|s| -s.3);
    for (who, conversation, text, hours) in said {
        let m = conversations::send(app, who, conversation, &MessageInput { text, ..Default::default() }, Vec::new())
            .await
            .context("sending a demo message")?;
        backdate_message(app, m.id, hours).await?;
    }
    // The printed parent has read the group up to yesterday; the two newest are unread.
    let read_up_to: Option<(i64,)> = app
        .db
        .fetch_optional(
            sql("SELECT MAX(id) FROM messages WHERE conversation_id = $1 AND created_at < $2")
                .bind(parents)
                .bind(kernel::now() - 24 * 3600),
        )
        .await?;
    if let Some((up_to,)) = read_up_to {
        conversations::read(app, &parent, parents, up_to).await?;
    }
    conversations::history(app, &student, class, None).await?;

    // A direct message from the printed parent to the head teacher, answered.
    let direct = conversations::open_direct(app, &parent, head.person_id).await?;
    for (who, text, hours) in [
        (&parent, "李老师您好，孩子今天有点发烧，想请假一天，明天的作业我们会在家完成。", 6),
        (&head, "好的，让孩子好好休息。作业不着急，身体要紧。", 5),
    ] {
        let m =
            conversations::send(app, who, direct, &MessageInput { text: text.into(), ..Default::default() }, Vec::new()).await?;
        backdate_message(app, m.id, hours).await?;
    }
    conversations::history(app, &parent, direct, None).await?;

    // A school notice to all parents, asking for confirmation: most have read it, some confirmed;
    // the printed parent has not opened it yet.
    let notice = notices::send(
        app,
        &admin,
        &notices::NoticeInput {
            scope: "unit:parents".into(),
            title: "关于做好寒假安全教育的通知".into(),
            body:
                "各位家长：寒假将至，请配合学校做好防溺水、防火、交通安全和网络安全教育，看护好孩子。\n请阅读后点击“确认收到”。"
                    .into(),
            needs_confirm: true,
        },
    )
    .await
    .context("sending the demo notice")?;
    let recipients = notices::store::recipient_ids(&app.db, notice).await?;
    for (n, p) in recipients.iter().enumerate() {
        if *p == parent.person_id || n % 5 == 4 {
            continue;
        }
        if let Some(a) = people.actor(*p).await? {
            notices::acknowledge(app, &a, notice, n % 3 != 0).await?;
        }
    }
    app.db.execute(sql("UPDATE notices SET created_at = created_at - 20 * 3600 WHERE id = $1").bind(notice)).await?;
    // And one from the head teacher to the class's parents, which the printed parent has read.
    let class_notice = notices::send(
        app,
        &head,
        &notices::NoticeInput {
            scope: format!("class:{class_id}:parents"),
            title: "期末家长会时间安排".into(),
            body: "本周五下午三点，一楼报告厅。会后可与各科老师单独交流。".into(),
            needs_confirm: false,
        },
    )
    .await?;
    notices::acknowledge(app, &parent, class_notice, false).await?;
    app.db.execute(sql("UPDATE notices SET created_at = created_at - 50 * 3600 WHERE id = $1").bind(class_notice)).await?;

    family_education(app, &head, &admin).await?;
    family_reads(app, &mut people, parent.person_id).await
}

/// Family-education reading for the school's parents, written by the head teacher and published
/// by the school: the first sent now, the next a week on.
async fn family_education(app: &App, head: &Actor, admin: &Actor) -> anyhow::Result<()> {
    let meta = super::library::demo_meta();
    let pieces: [(&str, &str, [&str; 3]); 2] = [
        (
            "家庭教育：寒假里怎样陪孩子读书",
            "给家长的寒假亲子阅读建议：每天固定二十分钟，孩子选书，家长陪读。",
            [
                "每天固定一个时间读书，二十分钟就够。",
                "让孩子自己选书，家长只把关内容。",
                "读完聊一聊：你最喜欢哪个人物？为什么？",
            ],
        ),
        (
            "家庭教育：帮孩子管理好使用手机的时间",
            "和孩子一起定规则：什么时候用、用多久、用来做什么。",
            [
                "和孩子一起商量规则，写下来贴在墙上。",
                "家长以身作则，吃饭和睡前不看手机。",
                "用闹钟提醒时间到了，而不是反复催促。",
            ],
        ),
    ];
    let scratch = app.config.data_dir.join("demo-scratch");
    std::fs::create_dir_all(&scratch)?;
    let mut ids = Vec::new();
    for (title, description, lines) in pieces {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let path = scratch.join(format!("family-{}.pdf", ids.len()));
        std::fs::write(&path, files::pdf(title, &lines))?;
        let (upload, _) = library::uploads::store_file(app, head, &format!("{title}.pdf"), &path).await?;
        std::fs::remove_file(&path)?;
        let input = ResourceInput {
            title: title.into(),
            description: description.into(),
            stage: "primary".into(),
            subject: "mental-health".into(),
            resource_type: "extended-reading".into(),
            language: "zh".into(),
            keywords: "家庭教育，亲子".into(),
            licence: "cc-by-4.0".into(),
            page_count: Some(1),
            ..Default::default()
        };
        let id = resources::create(app, head, &meta, upload, &input).await.context("describing a family-education resource")?;
        resources::submit(app, head, &meta, id, "school").await?;
        let pending = super::library::pending_publications(app, id).await?;
        resources::decide(app, admin, &meta, &pending, Decision::Approve, "").await?;
        ids.push(id);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    library::search::refresh(app, &ids).await?;
    let offset = app.config.display_utc_offset_minutes;
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_whole_seconds(offset * 60)?);
    let first_at = format!("{:04}-{:02}-{:02}T{:02}:{:02}", now.year(), now.month() as u8, now.day(), now.hour(), now.minute());
    let input = family::FamilyInput {
        scope: "unit".into(),
        resources: ids.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(","),
        first_at,
    };
    family::schedule(app, admin, &input).await.context("scheduling demo family education")?;
    family::send_due(app).await?;
    Ok(())
}

/// Some parents have opened the family-education reading already (the printed parent not yet).
async fn family_reads(app: &App, people: &mut People<'_>, skip: i64) -> anyhow::Result<()> {
    let sent: Vec<(i64,)> = app.db.fetch_all(sql("SELECT notice_id FROM family_deliveries WHERE notice_id IS NOT NULL")).await?;
    for (notice,) in sent {
        for (n, p) in notices::store::recipient_ids(&app.db, notice).await?.into_iter().enumerate() {
            if p == skip || n % 5 > 1 {
                continue;
            }
            if let Some(a) = people.actor(p).await? {
                notices::acknowledge(app, &a, notice, false).await?;
            }
        }
    }
    Ok(())
}

async fn backdate_message(app: &App, id: i64, hours: i64) -> anyhow::Result<()> {
    app.db.execute(sql("UPDATE messages SET created_at = created_at - $2 WHERE id = $1").bind(id).bind(hours * 3600)).await?;
    Ok(())
}

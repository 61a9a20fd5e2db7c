//! The demo's messaging: the printed student's class group and parents' group with a few days of
//! realistic talk, a direct message between the printed parent and the head teacher, a school
//! notice that most parents have read and some have confirmed (the printed parent not yet), and
//! family-education deliveries, one sent and one to come. Everything goes through the product's own
//! steps and is then moved back in time.

use super::library::People;
use anyhow::Context;
use kernel::App;
use kernel::auth::Actor;
use kernel::db::sql;
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
        said.push((p, parents, "收到，谢谢李老师！".into(), 49));
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
        let m = conversations::send(app, who, direct, &MessageInput { text: text.into(), ..Default::default() }, Vec::new()).await?;
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
            body: "各位家长：寒假将至，请配合学校做好防溺水、防火、交通安全和网络安全教育，看护好孩子。\n请阅读后点击“确认收到”。".into(),
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

    family_education(app, &admin).await
}

/// Two family-education resources for the school's parents: the first sent now, the next a week on.
async fn family_education(app: &App, admin: &Actor) -> anyhow::Result<()> {
    let found: Vec<(i64,)> = app
        .db
        .fetch_all(
            sql("SELECT DISTINCT p.resource_id FROM publications p JOIN resources r ON r.id = p.resource_id \
                 WHERE p.status = 'approved' AND r.status = 'approved' AND substr($1, 1, length(p.scope_path)) = p.scope_path \
                 ORDER BY p.resource_id LIMIT 2")
            .bind(admin.unit_path.as_str()),
        )
        .await?;
    if found.is_empty() {
        return Ok(());
    }
    let offset = app.config.display_utc_offset_minutes;
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_whole_seconds(offset * 60)?);
    let first_at = format!("{:04}-{:02}-{:02}T{:02}:{:02}", now.year(), now.month() as u8, now.day(), now.hour(), now.minute());
    let input = family::FamilyInput {
        scope: "unit".into(),
        resources: found.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(","),
        first_at,
    };
    family::schedule(app, admin, &input).await.context("scheduling demo family education")?;
    family::send_due(app).await?;
    Ok(())
}

async fn backdate_message(app: &App, id: i64, hours: i64) -> anyhow::Result<()> {
    app.db.execute(sql("UPDATE messages SET created_at = created_at - $2 WHERE id = $1").bind(id).bind(hours * 3600)).await?;
    Ok(())
}

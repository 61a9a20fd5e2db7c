//! The homework benchmarks of issue #5 (run by bench/homework.sh; see bench/README.md):
//!
//! - `setup`: a school of classes of 60 students, each class with homework to hand in, and an
//!   API token per student and teacher, written to PLAN;
//! - `rush`: a deadline rush against a running server: hand-ins (1 KB of text and a 200 KB photo,
//!   every photo different) sent at a fixed rate, open loop, latency counted from each hand-in's
//!   turn in the schedule. With `--server`, the server is started here and killed with SIGKILL and
//!   restarted `--kills` times during the rush; clients resend what got no answer, with the same
//!   idempotency key, as a phone would. Every acknowledged hand-in is written to ACKS;
//! - `verify`: every acknowledged hand-in is in the database with its key, and its photo is in
//!   storage with the right hash and size;
//! - `marking`: a 60-student class's marking page and statistics page, fetched repeatedly.

#[path = "common/school.rs"]
mod school;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kernel::auth::Credential;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seeds the school into the database HANLIN_DATABASE_URL (or HANLIN_DATA_DIR's SQLite) names.
    Setup {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long, default_value_t = 34)]
        classes: usize,
        #[arg(long, default_value_t = 60)]
        students: usize,
        #[arg(long, default_value_t = 30)]
        homework: usize,
    },
    Rush {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long)]
        acks: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8090")]
        url: String,
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Hand-ins in flight at most; past that they queue (and their latency shows it).
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// A shell command that runs the server; it is started here, and killed and restarted.
        #[arg(long)]
        server: Option<String>,
        #[arg(long, default_value_t = 0)]
        kills: u32,
        /// Skip the first hand-ins of the plan (a second run hands in other homework).
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    Verify {
        #[arg(long)]
        acks: PathBuf,
    },
    Marking {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8090")]
        url: String,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 1)]
        clients: usize,
    },
}

#[derive(Serialize, Deserialize)]
struct Plan {
    /// (student token, homework id), in the order the rush hands them in.
    hand_ins: Vec<(String, i64, i64)>,
    teacher_token: String,
    /// The homework of the first class, and its students.
    marking_homework: Vec<i64>,
    marking_students: Vec<i64>,
}

#[derive(Serialize, Deserialize)]
struct Ack {
    n: usize,
    homework: i64,
    student: i64,
    key: String,
    sha256: String,
    size: usize,
}

const PHOTO_BYTES: usize = 200 * 1024;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Setup { plan, classes, students, homework } => setup(&plan, classes, students, homework).await,
            Command::Rush { plan, acks, url, rate, seconds, concurrency, server, kills, offset } => {
                rush(&plan, &acks, &url, rate, seconds, concurrency, server, kills, offset).await
            }
            Command::Verify { acks } => verify(&acks).await,
            Command::Marking { plan, url, seconds, clients } => marking(&plan, &url, seconds, clients).await,
        }
    })
}

async fn setup(plan_file: &Path, classes: usize, students: usize, homework: usize) -> anyhow::Result<()> {
    let app = school::open_app().await?;
    let db = &app.db;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let mut tx = db.begin().await?;
    let (_, seeded) = school::seed(&mut tx, ("压测市", "429800"), ("压测中学", "2142980001"), classes, students, today).await?;
    let class_ids: Vec<i64> = seeded.iter().map(|c| c.id).collect();
    let teachers: Vec<i64> = seeded.iter().map(|c| c.teacher).collect();
    let class_students: Vec<Vec<i64>> = seeded.into_iter().map(|c| c.students).collect();
    tx.commit().await?;
    let token_for = |person: i64| {
        let app = app.clone();
        async move {
            let actor =
                directory::accounts::actor::load(&app.db, person, None, Credential::Session, today).await?.context("actor")?;
            let new = directory::accounts::tokens::NewToken { name: "rush".into(), scope: "write".into(), days: 30 };
            let (_, token) = directory::accounts::tokens::create(&app.db, &actor, &new).await?;
            anyhow::Ok((actor, token))
        }
    };
    let mut homework_of: Vec<Vec<i64>> = Vec::new();
    let mut teacher_token = String::new();
    for (c, &teacher) in teachers.iter().enumerate() {
        let (actor, token) = token_for(teacher).await?;
        if c == 0 {
            teacher_token = token;
        }
        let mut ids = Vec::new();
        for h in 0..homework {
            let input = classroom::homework::HomeworkInput {
                title: format!("期末复习 {}", h + 1),
                instructions: "完成复习卷并拍照上传。".into(),
                subject: "math".into(),
                class_ids: vec![class_ids[c]],
                due: format!("{}T22:00", today + time::Duration::days(2)),
                estimated_minutes: 20,
                hand_in: "online".into(),
                confirm_load: true,
                ..Default::default()
            };
            match classroom::homework::assign(&app, &actor, &input, Vec::new()).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                classroom::homework::Assigned::Created(id) => ids.push(id),
                classroom::homework::Assigned::OverLimit(_) => bail!("confirmed homework refused"),
            }
        }
        homework_of.push(ids);
    }
    let mut tokens: Vec<Vec<(i64, String)>> = Vec::new();
    for members in &class_students {
        let mut t = Vec::new();
        for &s in members {
            t.push((s, token_for(s).await?.1));
        }
        tokens.push(t);
    }
    // Homework by homework, so the rush resembles a deadline: every student of a class handing in
    // the same assignment, class after class.
    let mut hand_ins = Vec::new();
    for h in 0..homework {
        for (class_tokens, class_homework) in tokens.iter().zip(&homework_of) {
            for (s, token) in class_tokens {
                hand_ins.push((token.clone(), class_homework[h], *s));
            }
        }
    }
    let plan =
        Plan { hand_ins, teacher_token, marking_homework: homework_of[0].clone(), marking_students: class_students[0].clone() };
    std::fs::write(plan_file, serde_json::to_vec(&plan)?)?;
    println!(
        "setup: {classes} classes of {students} students, {homework} homework each: {} hand-ins planned",
        plan.hand_ins.len()
    );
    Ok(())
}

/// The photo of hand-in `n`: a PNG signature, then bytes no other hand-in shares.
fn photo(base: &[u8], n: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    v[16..24].copy_from_slice(&(n as u64).to_le_bytes());
    v
}

fn base_photo() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0DIHDR".to_vec();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while v.len() < PHOTO_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(PHOTO_BYTES);
    v
}

const ANSWER: &str = "第一题：由勾股定理，斜边长为五。第二题：面积为十二平方厘米。第三题：先求出底边，再用面积公式。";

struct Server {
    command: String,
    child: Option<tokio::process::Child>,
}

impl Server {
    async fn start(&mut self, url: &str) -> anyhow::Result<()> {
        let child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec {}", self.command))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = client.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not become ready within 60 s")
    }

    async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn rush(
    plan_file: &Path,
    acks_file: &Path,
    url: &str,
    rate: u64,
    seconds: u64,
    concurrency: usize,
    server: Option<String>,
    kills: u32,
    offset: usize,
) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_slice(&std::fs::read(plan_file)?)?;
    let total = (rate * seconds) as usize;
    if plan.hand_ins.len() < offset + total {
        bail!("the plan has {} hand-ins; this rush needs {}", plan.hand_ins.len(), offset + total);
    }
    let mut server = server.map(|command| Server { command, child: None });
    if let Some(s) = server.as_mut() {
        s.start(url).await?;
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).timeout(Duration::from_secs(30)).build()?;
    let base = Arc::new(base_photo());
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Ack, Duration, u32)>();
    let hand_ins = Arc::new(plan.hand_ins);
    let start = Instant::now() + Duration::from_millis(200);
    let deadline = start + Duration::from_secs(seconds + 60);
    let url = Arc::new(url.to_string());
    let spawner = {
        let (client, base, permits, hand_ins, url) =
            (client.clone(), base.clone(), permits.clone(), hand_ins.clone(), url.clone());
        tokio::spawn(async move {
            for i in 0..total {
                let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / rate);
                tokio::time::sleep_until(due.into()).await;
                let permit = permits.clone().acquire_owned().await.expect("semaphore open");
                let (client, base, hand_ins, url, tx) = (client.clone(), base.clone(), hand_ins.clone(), url.clone(), tx.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    let n = offset + i;
                    let (token, homework, student) = hand_ins[n].clone();
                    let bytes = photo(&base, n);
                    let sha256 = hex::encode(Sha256::digest(&bytes));
                    let key = format!("rush-{n}");
                    let body = bytes;
                    let mut tries = 0;
                    while Instant::now() < deadline {
                        tries += 1;
                        let form = reqwest::multipart::Form::new()
                            .text("answer", ANSWER.repeat(10))
                            .text("idempotency_key", key.clone())
                            .part("files", reqwest::multipart::Part::bytes(body.clone()).file_name("photo.png"));
                        let sent = client
                            .post(format!("{url}/api/v1/homework/{homework}/submissions"))
                            .bearer_auth(&token)
                            .multipart(form)
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == 201 || r.status() == 200 => {
                                let ack = Ack { n, homework, student, key, sha256, size: body.len() };
                                let _ = tx.send((ack, due.elapsed(), tries));
                                return;
                            }
                            Ok(r) if r.status().is_client_error() => {
                                eprintln!("hand-in {n} refused: {} {}", r.status(), r.text().await.unwrap_or_default());
                                return;
                            }
                            // Connection refused or reset while the server restarts, or 503 while it starts.
                            _ => tokio::time::sleep(Duration::from_millis(100)).await,
                        }
                    }
                });
            }
        })
    };
    let killer = async {
        if let Some(s) = server.as_mut()
            && kills > 0
        {
            for k in 0..kills {
                let at = start + Duration::from_millis(seconds * 1000 * (u64::from(k) + 1) / (u64::from(kills) + 1));
                tokio::time::sleep_until(at.into()).await;
                s.kill().await;
                s.start(&url).await.expect("restart");
            }
        }
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(acks_file)?);
    let mut latencies = Vec::with_capacity(total);
    let mut retried = 0;
    let mut last_ack = start;
    let collect = async {
        while let Some((ack, latency, tries)) = rx.recv().await {
            last_ack = Instant::now();
            use std::io::Write;
            serde_json::to_writer(&mut out, &ack).expect("write ack");
            out.write_all(b"\n").expect("write ack");
            latencies.push(latency);
            if tries > 1 {
                retried += 1;
            }
        }
    };
    // The channel closes when every hand-in task has finished.
    let (_, _, _) = tokio::join!(async { spawner.await.expect("spawner") }, killer, collect);
    let elapsed = start.elapsed();
    use std::io::Write;
    out.flush()?;
    if let Some(s) = server.as_mut() {
        s.kill().await;
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Throughput is what was acknowledged over the time it took, which exceeds the schedule's
    // length when the server falls behind.
    let busy_for = last_ack.saturating_duration_since(start).max(Duration::from_secs(seconds));
    println!(
        "rush: {total} hand-ins scheduled at {rate}/s for {seconds} s; acknowledged {} ({} after a retry, {} given up after {} s) \
         in {:.1} s: {:.0} hand-ins/s",
        latencies.len(),
        retried,
        total - latencies.len(),
        seconds + 60,
        busy_for.as_secs_f64(),
        latencies.len() as f64 / busy_for.as_secs_f64()
    );
    println!(
        "latency from each hand-in's turn: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (all done after {:.1} s)",
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(pct(0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        elapsed.as_secs_f64()
    );
    if kills > 0 {
        println!("server killed with SIGKILL and restarted {kills} times during the rush");
    }
    Ok(())
}

async fn verify(acks_file: &Path) -> anyhow::Result<()> {
    let app = school::open_app().await?;
    let text = std::fs::read_to_string(acks_file)?;
    let (mut checked, mut lost) = (0, 0);
    for line in text.lines().filter(|l| !l.is_empty()) {
        let ack: Ack = serde_json::from_str(line)?;
        let row: Option<(Option<String>, String, i64)> = app
            .db
            .fetch_optional(
                kernel::db::sql(
                    "SELECT s.idempotency_key, a.blob_sha256, a.size FROM submissions s \
                     JOIN submission_attachments sa ON sa.submission_id = s.id JOIN attachments a ON a.id = sa.attachment_id \
                     WHERE s.homework_id = $1 AND s.student_id = $2",
                )
                .bind(ack.homework)
                .bind(ack.student),
            )
            .await?;
        let stored = match &row {
            Some((Some(key), sha, size)) if *key == ack.key && *sha == ack.sha256 && *size as usize == ack.size => {
                let blob = format!("blobs/{}/{}/{}", &sha[..2], &sha[2..4], sha);
                app.storage.size(&blob).await?.is_some_and(|s| s as usize == ack.size)
            }
            _ => false,
        };
        checked += 1;
        if !stored {
            lost += 1;
            eprintln!("lost: hand-in {} (homework {}, student {}): {row:?}", ack.n, ack.homework, ack.student);
        }
    }
    println!("verify: {checked} acknowledged hand-ins checked in the database and storage; {lost} lost");
    if lost > 0 {
        bail!("{lost} acknowledged hand-ins were lost");
    }
    Ok(())
}

async fn marking(plan_file: &Path, url: &str, seconds: u64, clients: usize) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_slice(&std::fs::read(plan_file)?)?;
    let client = reqwest::Client::new();
    let homework = plan.marking_homework[0];
    let student = plan.marking_students[0];
    let (count,): (i64,) = {
        let v: serde_json::Value =
            client.get(format!("{url}/api/v1/homework/{homework}")).bearer_auth(&plan.teacher_token).send().await?.json().await?;
        (v["works"].as_array().map(|w| w.iter().filter(|w| w["state"] != "not_handed_in").count() as i64).unwrap_or(0),)
    };
    println!("marking: homework {homework} of a class of {} students, {count} handed in", plan.marking_students.len());
    for (what, path) in
        [("statistics page", format!("/homework/{homework}")), ("marking page", format!("/homework/{homework}/mark/{student}"))]
    {
        let until = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, url, token, path) = (client.clone(), url.to_string(), plan.teacher_token.clone(), path.clone());
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    let r = client.get(format!("{url}{path}")).bearer_auth(&token).send().await.expect("request");
                    assert!(r.status().is_success(), "{path}: {}", r.status());
                    let _ = r.bytes().await.expect("body");
                    times.push(t.elapsed());
                }
                times
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await?);
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
        println!(
            "{what} ({clients} client(s), {} requests): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            all.len(),
            pct(0.5),
            pct(0.99),
            all.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or_default()
        );
    }
    Ok(())
}

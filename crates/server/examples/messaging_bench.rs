//! The messaging benchmarks (run by bench/messaging.sh; see "Messaging benchmarks" in bench/README.md):
//!
//! - `setup`: a school of classes (a teacher and N students each, so each class group has N + 1
//!   members), parents linked to its students, a school administrator, a session (the cookie's
//!   token) for every one of them written straight to the database (a password login costs ~50 ms
//!   of Argon2 each), and every class group created, written to PLAN;
//! - `live`: every class member opens the WebSocket `GET /api/v1/live` (cookie auth), in batches;
//!   the server's RSS is read with all of them open and idle; a broadcast (one message in every
//!   group, so every socket gets a frame) and the RSS after it; then the fan-out run: messages sent
//!   to the groups at a fixed total rate, open loop, for a fixed time, through
//!   `POST /api/v1/conversations/{id}/messages`, and every delivery timed in this process from the
//!   moment its send request was issued to the moment the receiving socket got the frame;
//! - `notice`: the administrator sends notices to the school's parents (`POST /api/v1/notices`,
//!   `unit:parents`), timed; the read-receipt summary `GET /api/v1/notices/{id}/summary` is timed
//!   before and after some of the parents have read the notice (`GET /api/v1/notices/{id}`).
//!
//! Each measured figure is printed as a `RESULT …` line (key=value), and each target as a
//! `VERDICT …` line with PASS or FAIL, which bench/messaging.sh gathers into its summary.

#[path = "common/school.rs"]
mod school;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use directory::people::model::{NewPerson, Relation};
use futures_util::StreamExt;
use kernel::auth::Role;
use messaging::conversations::{Group, Kind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};

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
        /// Classes, one group each.
        #[arg(long, default_value_t = 167)]
        classes: usize,
        /// Students a class; with its teacher, a group has one more member.
        #[arg(long, default_value_t = 59)]
        students: usize,
        /// Parents in the school, each the guardian of one student (round robin over the students).
        #[arg(long, default_value_t = 10_000)]
        parents: usize,
    },
    /// Connections, RSS, a broadcast, then the fan-out run.
    Live {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8091")]
        url: String,
        #[command(flatten)]
        opts: LiveOptions,
    },
    /// A notice to every parent of the school, and its read-receipt summary.
    Notice {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8091")]
        url: String,
        /// Notices sent (each timed); the summary is measured on the last.
        #[arg(long, default_value_t = 3)]
        notices: usize,
        /// Summary requests per measurement, one after the other.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Share of the parents who read the notice between the two measurements.
        #[arg(long, default_value_t = 0.5)]
        read_share: f64,
        /// Parents reading at once.
        #[arg(long, default_value_t = 16)]
        read_concurrency: usize,
    },
}

#[derive(Clone, Serialize, Deserialize)]
struct Who {
    id: i64,
    /// The session cookie's value.
    token: String,
}

#[derive(Serialize, Deserialize)]
struct GroupPlan {
    conversation: i64,
    /// The teacher first, then the students.
    members: Vec<Who>,
}

#[derive(Serialize, Deserialize)]
struct Plan {
    groups: Vec<GroupPlan>,
    admin: Who,
    parents: Vec<Who>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Setup { plan, classes, students, parents } => setup(&plan, classes, students, parents).await,
            Command::Live { plan, url, opts } => live(&plan, &url, opts).await,
            Command::Notice { plan, url, notices, requests, read_share, read_concurrency } => {
                notice(&plan, &url, notices, requests, read_share, read_concurrency).await
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// setup

async fn setup(plan_file: &Path, classes: usize, students: usize, parents: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = school::open_app().await?;
    let db = &app.db;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let meta = kernel::web::RequestMeta {
        ip: "127.0.0.1".into(),
        user_agent: "messaging_bench".into(),
        locale: kernel::i18n::Locale::ZhCn,
        anon_csrf: String::new(),
        is_api: true,
        path: "/api/v1/auth/login".into(),
    };
    let mut tx = db.begin().await?;
    let (school, seeded) =
        school::seed(&mut tx, ("消息压测市", "429700"), ("消息压测中学", "2142970001"), classes, students, today).await?;
    let admin_id =
        directory::people::store::create(&mut tx, &NewPerson { name: "校管理员".into(), ..Default::default() }).await?;
    directory::people::store::assign(&mut tx, admin_id, Role::SchoolAdmin, school, None, None, today).await?;
    let admin = Who { id: admin_id, token: directory::accounts::sessions::create(&mut tx, &app, admin_id, &meta, true).await? };
    let session = async |tx: &mut kernel::db::Tx, id: i64| -> anyhow::Result<Who> {
        Ok(Who { id, token: directory::accounts::sessions::create(tx, &app, id, &meta, true).await? })
    };
    let mut class_ids = Vec::new();
    let mut members: Vec<Vec<Who>> = Vec::new();
    let mut all_students = Vec::new();
    for class in seeded {
        let mut list = vec![session(&mut tx, class.teacher).await?];
        for id in class.students {
            list.push(session(&mut tx, id).await?);
            all_students.push(id);
        }
        class_ids.push(class.id);
        members.push(list);
    }
    let mut parent_list = Vec::new();
    for p in 0..parents {
        let id = directory::people::store::create(&mut tx, &NewPerson { name: format!("家长{p}"), ..Default::default() }).await?;
        directory::people::store::assign(&mut tx, id, Role::Parent, school, None, None, today).await?;
        if !all_students.is_empty() {
            let relation = if p % 2 == 0 { Relation::Mother } else { Relation::Father };
            directory::people::store::link_guardian(&mut tx, id, all_students[p % all_students.len()], relation).await?;
        }
        parent_list.push(Who { id, token: directory::accounts::sessions::create(&mut tx, &app, id, &meta, true).await? });
    }
    tx.commit().await?;
    // The class groups, as the first member to list their conversations would create them.
    let mut groups = Vec::new();
    for (class, list) in class_ids.iter().zip(members) {
        let conversation = messaging::conversations::sync_group(&app, &Group { kind: Kind::Class, of: *class })
            .await
            .map_err(|e| anyhow::anyhow!("class group of {class}: {e}"))?;
        let in_group = messaging::conversations::store::member_ids(&app.db, conversation).await?.len();
        if in_group != list.len() {
            bail!("the group of class {class} has {in_group} members, expected {}", list.len());
        }
        groups.push(GroupPlan { conversation, members: list });
    }
    let people: usize = groups.iter().map(|g| g.members.len()).sum();
    let plan = Plan { groups, admin, parents: parent_list };
    std::fs::write(plan_file, serde_json::to_vec(&plan)?)?;
    println!(
        "setup: {classes} classes of {students} students and a teacher ({people} people in {classes} groups of {}), \
         {parents} parents, a school administrator, {} sessions, in {:.1} s",
        students + 1,
        people + parents + 1,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// measuring helpers

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(what: &str, figure: String, target: &str, pass: bool) {
    println!("VERDICT {what}: {figure} (target {target}) {}", if pass { "PASS" } else { "FAIL" });
}

/// (VmRSS, VmHWM) of a process, in MiB.
fn rss_of(pid: &str) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU ticks (user + system) of a process.
fn cpu_of(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    // The command name may hold spaces; fields after it are counted from its closing parenthesis.
    let rest = stat.rsplit_once(')').map(|r| r.1).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// Busy CPU ticks of the whole machine.
fn cpu_all() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system (idle) (iowait) irq softirq steal
    [0usize, 1, 2, 5, 6, 7].iter().filter_map(|i| f.get(*i)).sum()
}

/// CPU used by the server, this process and everything else over a window, in % of one core.
struct CpuWindow {
    server: Option<String>,
    at: Instant,
    server_ticks: u64,
    self_ticks: u64,
    all_ticks: u64,
}

impl CpuWindow {
    fn start(server: Option<String>) -> CpuWindow {
        let server_ticks = server.as_deref().map(cpu_of).unwrap_or(0);
        CpuWindow { server, at: Instant::now(), server_ticks, self_ticks: cpu_of("self"), all_ticks: cpu_all() }
    }

    fn finish(&self) -> String {
        let hz = 100.0; // USER_HZ on Linux
        let secs = self.at.elapsed().as_secs_f64();
        let pc = |ticks: u64| ticks as f64 / hz / secs * 100.0;
        let server = self.server.as_deref().map(cpu_of).unwrap_or(0).saturating_sub(self.server_ticks);
        let me = cpu_of("self").saturating_sub(self.self_ticks);
        let all = cpu_all().saturating_sub(self.all_ticks);
        format!(
            "cpu_all={:.0} cpu_server={:.0} cpu_client={:.0} cpu_other={:.0}",
            pc(all),
            pc(server),
            pc(me),
            pc(all.saturating_sub(server + me))
        )
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket clients

/// What the sockets saw, shared by all of them.
#[derive(Default)]
struct Seen {
    /// (message id, when the frame arrived), every `message` frame of every socket.
    deliveries: Mutex<Vec<(i64, Instant)>>,
    count: AtomicUsize,
    notice_reads: AtomicUsize,
    overflow: AtomicUsize,
    resync: AtomicUsize,
    closed: AtomicUsize,
}

#[derive(Deserialize)]
struct FrameHead {
    r#type: String,
    message: Option<MessageHead>,
}

#[derive(Deserialize)]
struct MessageHead {
    id: i64,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens the live socket with the session cookie and waits for its hello.
async fn open_socket(addr: SocketAddr, token: &str) -> anyhow::Result<Ws> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut req = format!("ws://{addr}/api/v1/live").into_client_request()?;
    req.headers_mut().insert("cookie", HeaderValue::from_str(&format!("{}={token}", directory::accounts::SESSION_COOKIE))?);
    // Small buffers, as the server's: tens of thousands of sockets in one process.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0).max_message_size(Some(1 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, tcp, Some(config)).await?;
    let hello = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(m) = ws.next().await {
            if let Message::Text(t) = m?
                && t.contains("\"hello\"")
            {
                return Ok(());
            }
        }
        bail!("closed before the hello")
    })
    .await;
    match hello {
        Ok(r) => r.map(|_| ws),
        Err(_) => bail!("no hello within 60 s"),
    }
}

/// Reads a socket until it closes, recording what it gets.
fn read_socket(mut ws: Ws, seen: Arc<Seen>) {
    tokio::spawn(async move {
        while let Some(m) = ws.next().await {
            match m {
                Ok(Message::Text(t)) => {
                    let at = Instant::now();
                    let Ok(head) = serde_json::from_str::<FrameHead>(t.as_str()) else { continue };
                    match (head.r#type.as_str(), head.message) {
                        ("message", Some(m)) => {
                            seen.deliveries.lock().expect("lock").push((m.id, at));
                            seen.count.fetch_add(1, Ordering::Relaxed);
                        }
                        ("notice_read", _) => {
                            seen.notice_reads.fetch_add(1, Ordering::Relaxed);
                        }
                        ("overflow", _) => {
                            seen.overflow.fetch_add(1, Ordering::Relaxed);
                        }
                        ("resync", _) => {
                            seen.resync.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        seen.closed.fetch_add(1, Ordering::Relaxed);
    });
}

fn socket_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    host.parse().with_context(|| format!("--url must be http://IP:PORT, not {url}"))
}

fn cookie(token: &str) -> String {
    format!("{}={token}", directory::accounts::SESSION_COOKIE)
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(512).timeout(Duration::from_secs(30)).tcp_nodelay(true).build()?)
}

/// An error and its causes on one line ("error sending request: connection reset …").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[derive(Deserialize)]
struct Sent {
    message: MessageHead,
}

/// Sends a message as `who`; its id.
async fn send_message(client: &reqwest::Client, url: &str, conversation: i64, who: &Who, text: &str) -> anyhow::Result<i64> {
    let r = client
        .post(format!("{url}/api/v1/conversations/{conversation}/messages"))
        .header("cookie", cookie(&who.token))
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", error_chain(&e.without_url())))?;
    let status = r.status();
    if status != reqwest::StatusCode::CREATED {
        bail!("{status} {}", r.text().await.unwrap_or_default());
    }
    Ok(r.json::<Sent>().await?.message.id)
}

// ---------------------------------------------------------------------------------------------
// live: connections, broadcast, fan-out

/// How the live phase runs: its options on the command line.
#[derive(clap::Args)]
struct LiveOptions {
    /// The server's process id, for its RSS (/proc/PID/status) and CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// WebSocket handshakes in flight at most while connecting.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Seconds the sockets stay open and idle before the RSS is read.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// Messages per second, all groups together (0: no fan-out run).
    #[arg(long, default_value_t = 500)]
    rate: u64,
    #[arg(long, default_value_t = 40)]
    seconds: u64,
    /// Seconds to wait after the last send for deliveries still on their way.
    #[arg(long, default_value_t = 15)]
    drain_seconds: u64,
    /// Every delivery's latency in ms, one a line, for a histogram.
    #[arg(long)]
    latencies: Option<PathBuf>,
    /// Send requests in flight at most (each is a socket in this process and in the server).
    #[arg(long, default_value_t = 512)]
    in_flight: usize,
    /// Further fan-out runs after the target one, at these rates (e.g. 250,100), for reference.
    #[arg(long, value_delimiter = ',')]
    extra_rates: Vec<u64>,
    #[arg(long, default_value_t = 20)]
    extra_seconds: u64,
}

/// Per message sent: its group and when its request was issued.
struct SendRecord {
    id: i64,
    group: usize,
    /// Its turn in the schedule, and when its request actually left.
    due: Instant,
    issued: Instant,
}

async fn live(plan_file: &Path, url: &str, o: LiveOptions) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_slice(&std::fs::read(plan_file)?)?;
    let addr = socket_addr(url)?;
    let pid = o.server_pid.map(|p| p.to_string());
    let rss = || pid.as_deref().and_then(rss_of);
    let mb = |v: Option<(f64, f64)>| v.map(|r| format!("{:.0}", r.0)).unwrap_or_else(|| "n/a".into());
    let before = rss();
    let seen = Arc::new(Seen::default());

    // 1. Every member of every group connects.
    let people: Vec<(usize, Who)> =
        plan.groups.iter().enumerate().flat_map(|(g, gp)| gp.members.iter().map(move |w| (g, w.clone()))).collect();
    let total = people.len();
    println!(
        "live: {total} people in {} groups open their WebSocket, {} handshakes at a time ...",
        plan.groups.len(),
        o.connect_concurrency
    );
    let permits = Arc::new(tokio::sync::Semaphore::new(o.connect_concurrency));
    let connect_started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for (g, who) in people {
        let (permits, seen) = (permits.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            let mut last = None;
            for attempt in 0..3 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                match open_socket(addr, &who.token).await {
                    Ok(ws) => {
                        read_socket(ws, seen);
                        return (g, true, attempt, None);
                    }
                    Err(e) => last = Some(e.to_string()),
                }
            }
            (g, false, 3, last)
        }));
    }
    let mut online = vec![0usize; plan.groups.len()];
    let (mut failed, mut retried) = (0usize, 0usize);
    let mut first_error = None;
    for t in tasks {
        let (g, ok, attempts, error) = t.await?;
        if ok {
            online[g] += 1;
        } else {
            failed += 1;
            first_error = first_error.or(error);
        }
        if attempts > 0 {
            retried += 1;
        }
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    let open = total - failed;
    println!(
        "  {open} of {total} open ({failed} failed, {retried} after a retry) in {connect_secs:.1} s: {:.0} handshakes/s{}",
        open as f64 / connect_secs,
        first_error.map(|e| format!("; first error: {e}")).unwrap_or_default()
    );
    tokio::time::sleep(Duration::from_secs(o.idle_seconds)).await;
    let idle = rss();
    let closed_idle = seen.closed.load(Ordering::Relaxed);
    let client_idle = rss_of("self");
    println!(
        "  server RSS: {} MiB before, {} MiB with {} sockets open and idle for {} s ({} closed meanwhile); this client: {} MiB",
        mb(before),
        mb(idle),
        open,
        o.idle_seconds,
        closed_idle,
        mb(client_idle)
    );

    // 2. A broadcast: one message in every group, so that every socket gets a frame.
    let client = http_client()?;
    let url = Arc::new(url.to_string());
    let broadcast_started = Instant::now();
    let mut sends = Vec::new();
    for (g, gp) in plan.groups.iter().enumerate() {
        let (client, url, teacher, conversation) = (client.clone(), url.clone(), gp.members[0].clone(), gp.conversation);
        sends.push(tokio::spawn(async move {
            let issued = Instant::now();
            send_message(&client, &url, conversation, &teacher, "各位同学：明天上午第一节课改在实验室上，请带好实验记录本。")
                .await
                .map(|id| SendRecord { id, group: g, issued, due: issued })
        }));
    }
    let mut broadcast = Vec::new();
    for s in sends {
        match s.await? {
            Ok(r) => broadcast.push(r),
            Err(e) => eprintln!("  broadcast send failed: {e}"),
        }
    }
    let expected: usize = broadcast.iter().map(|r| online[r.group]).sum();
    let wait_until = Instant::now() + Duration::from_secs(60);
    while seen.count.load(Ordering::Relaxed) < expected && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (got, lat, last_at) = latencies_of(&seen, &broadcast);
    let lat = lat.from_issued;
    let all_in = last_at.map(|t| ms(t.saturating_duration_since(broadcast_started))).unwrap_or(f64::NAN);
    println!(
        "  broadcast: {} messages (one a group) → {got} of {expected} deliveries; the last {all_in:.0} ms after the first send; \
         latency p50 {:.1} ms, p99 {:.1} ms",
        broadcast.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss();
    println!(
        "  server RSS 5 s after the broadcast: {} MiB (peak so far {} MiB)",
        mb(after),
        after.map(|r| format!("{:.0}", r.1)).unwrap_or("n/a".into())
    );
    println!(
        "RESULT connections open={open} failed={failed} seconds={connect_secs:.1} per_s={:.0} rss_before_mb={} rss_idle_mb={} \
         rss_after_broadcast_mb={} hwm_mb={} client_rss_mb={} broadcast_messages={} broadcast_deliveries={got} \
         broadcast_expected={expected} broadcast_all_in_ms={all_in:.0} broadcast_p99_ms={:.1}",
        open as f64 / connect_secs,
        mb(before),
        mb(idle),
        mb(after),
        after.map(|r| format!("{:.0}", r.1)).unwrap_or("n/a".into()),
        mb(client_idle),
        broadcast.len(),
        pct(&lat, 0.99)
    );
    let limit = 1024.0;
    let rss_ok = |v: Option<(f64, f64)>| v.is_some_and(|r| r.0 <= limit);
    verdict(
        "connections open",
        format!("{open} of {total} WebSockets open on one node"),
        "10,000",
        open >= 10_000 && failed == 0,
    );
    verdict("server RSS, connections idle", format!("{} MiB", mb(idle)), "≤ 1 GiB", rss_ok(idle) && open >= 10_000);
    verdict(
        "server RSS after a broadcast",
        format!("{} MiB ({got} of {expected} delivered)", mb(after)),
        "≤ 1 GiB",
        rss_ok(after) && got >= expected && open >= 10_000,
    );

    if o.rate == 0 {
        return Ok(());
    }

    // 3. The fan-out runs: the target rate, then any others, on the same sockets.
    let run = Fanout { groups: Arc::new(plan.groups), online: Arc::new(online), client, url, seen, pid, in_flight: o.in_flight };
    run.run(o.rate, o.seconds, o.drain_seconds, o.latencies.as_deref(), true).await?;
    for rate in o.extra_rates.iter().copied().filter(|r| *r > 0) {
        run.settle().await;
        run.run(rate, o.extra_seconds, o.drain_seconds, None, false).await?;
    }
    Ok(())
}

/// What a fan-out run needs: the groups, who is online in each, the sockets' records.
struct Fanout {
    groups: Arc<Vec<GroupPlan>>,
    online: Arc<Vec<usize>>,
    client: reqwest::Client,
    url: Arc<String>,
    seen: Arc<Seen>,
    pid: Option<String>,
    in_flight: usize,
}

impl Fanout {
    /// Waits until no frame has arrived for 3 s (a run that overloaded the server leaves work behind).
    async fn settle(&self) {
        let until = Instant::now() + Duration::from_secs(120);
        let mut last = usize::MAX;
        while Instant::now() < until {
            let now = self.seen.count.load(Ordering::Relaxed);
            if now == last {
                return;
            }
            last = now;
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }

    /// Messages to the groups at `rate` a second, open loop, for `seconds`; every delivery timed.
    async fn run(
        &self,
        rate: u64,
        seconds: u64,
        drain_seconds: u64,
        latencies: Option<&Path>,
        target: bool,
    ) -> anyhow::Result<()> {
        let seen = &self.seen;
        seen.deliveries.lock().expect("lock").clear();
        seen.count.store(0, Ordering::Relaxed);
        let groups = self.groups.clone();
        let count = (rate * seconds) as usize;
        let group_count = groups.len();
        println!(
            "  fan-out: {count} messages at {rate}/s for {seconds} s to {group_count} groups (each message from another member; \
             every member online; at most {} requests in flight) ...",
            self.in_flight
        );
        let cpu = CpuWindow::start(self.pid.clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Result<SendRecord, String>, Duration)>();
        let start = Instant::now() + Duration::from_millis(200);
        // Open loop: message i is due at start + i / rate whatever happened before it. Past
        // `in_flight` unanswered requests it waits here for one to finish (each open request is a
        // socket, in this process and the server's), and that wait counts in its latency.
        let permits = Arc::new(tokio::sync::Semaphore::new(self.in_flight));
        let spawner = {
            let (client, url, groups, permits) = (self.client.clone(), self.url.clone(), groups.clone(), permits.clone());
            tokio::spawn(async move {
                for i in 0..count {
                    let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / rate);
                    tokio::time::sleep_until(due.into()).await;
                    let (client, url, groups, tx, permits) =
                        (client.clone(), url.clone(), groups.clone(), tx.clone(), permits.clone());
                    tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await.expect("semaphore open");
                        let g = i % group_count;
                        let gp = &groups[g];
                        let who = &gp.members[(i / group_count) % gp.members.len()];
                        let text = format!("第{i}条：今天的作业是练习册第{}页，明早交给课代表。", i % 97 + 1);
                        let issued = Instant::now();
                        let lag = issued.saturating_duration_since(due);
                        let r = send_message(&client, &url, gp.conversation, who, &text).await;
                        let _ = tx.send((r.map(|id| SendRecord { id, group: g, issued, due }).map_err(|e| e.to_string()), lag));
                    });
                }
            })
        };
        let mut records = Vec::with_capacity(count);
        let mut errors: HashMap<String, usize> = HashMap::new();
        let mut lags = Vec::with_capacity(count);
        let mut last_answer = start;
        for _ in 0..count {
            let Some((r, lag)) = rx.recv().await else { break };
            last_answer = Instant::now();
            lags.push(ms(lag));
            match r {
                Ok(rec) => records.push(rec),
                Err(e) => *errors.entry(e.chars().take(160).collect()).or_default() += 1,
            }
        }
        spawner.await?;
        let sent_in = last_answer.saturating_duration_since(start);
        let expected: usize = records.iter().map(|r| self.online[r.group]).sum();
        let drain_until = Instant::now() + Duration::from_secs(drain_seconds);
        while seen.count.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu_line = cpu.finish();
        let (got, lat, last_at) = latencies_of(seen, &records);
        let stray = seen.count.load(Ordering::Relaxed).saturating_sub(got);
        let span = last_at.map(|t| t.saturating_duration_since(start)).unwrap_or_default().max(Duration::from_secs(seconds));
        lags.sort_by(f64::total_cmp);
        let failed_sends: usize = errors.values().sum();
        for (e, n) in &errors {
            eprintln!("  {n} sends failed: {e}");
        }
        if let Some(path) = latencies {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
            for l in &lat.from_due {
                writeln!(out, "{l:.3}")?;
            }
        }
        let d = &lat.from_due;
        let (p50, p95, p99, max) = (pct(d, 0.5), pct(d, 0.95), pct(d, 0.99), d.last().copied().unwrap_or(f64::NAN));
        let i99 = pct(&lat.from_issued, 0.99);
        let i50 = pct(&lat.from_issued, 0.5);
        // Deliveries within 100 ms, of all expected ones (a missing delivery counts as late).
        let within = d.iter().filter(|l| **l <= 100.0).count() as f64 / expected.max(1) as f64 * 100.0;
        let after = self.pid.as_deref().and_then(rss_of);
        let rate_got = records.len() as f64 / sent_in.as_secs_f64().max(seconds as f64);
        println!(
            "  sent {} of {count} ({failed_sends} failed) in {:.1} s ({rate_got:.0} messages/s); a request waited for its turn \
             (generator lag, or no free slot) p99 {:.1} ms, max {:.1} ms",
            records.len(),
            sent_in.as_secs_f64(),
            pct(&lags, 0.99),
            lags.last().copied().unwrap_or(f64::NAN)
        );
        println!(
            "  deliveries: {got} of {expected} ({} missing) in {:.1} s: {:.0} deliveries/s; {stray} frames of messages whose send \
             got no answer; overflow frames {}, resync frames {}, sockets closed {}",
            expected.saturating_sub(got),
            span.as_secs_f64(),
            got as f64 / span.as_secs_f64(),
            seen.overflow.load(Ordering::Relaxed),
            seen.resync.load(Ordering::Relaxed),
            seen.closed.load(Ordering::Relaxed)
        );
        println!(
            "  latency, the send's turn in the schedule → frame on the receiving socket: p50 {p50:.1} ms, p95 {p95:.1} ms, \
             p99 {p99:.1} ms, max {max:.1} ms; {within:.2}% of the expected deliveries within 100 ms \
             (counted from the request actually leaving: p50 {i50:.1} ms, p99 {i99:.1} ms)"
        );
        println!(
            "  server RSS after the run: {} MiB (peak {} MiB); {cpu_line} (% of one core)",
            after.map(|r| format!("{:.0}", r.0)).unwrap_or("n/a".into()),
            after.map(|r| format!("{:.0}", r.1)).unwrap_or("n/a".into())
        );
        println!(
            "RESULT fanout rate={rate} seconds={seconds} groups={group_count} sent={} sent_per_s={rate_got:.0} failed={failed_sends} \
             deliveries={got} expected={expected} missing={} deliveries_per_s={:.0} p50_ms={p50:.1} p95_ms={p95:.1} p99_ms={p99:.1} \
             max_ms={max:.1} issued_p50_ms={i50:.1} issued_p99_ms={i99:.1} within_100ms_pct={within:.2} lag_p99_ms={:.1} overflow={} \
             closed={} rss_mb={} hwm_mb={} {cpu_line}",
            records.len(),
            expected.saturating_sub(got),
            got as f64 / span.as_secs_f64(),
            pct(&lags, 0.99),
            seen.overflow.load(Ordering::Relaxed),
            seen.closed.load(Ordering::Relaxed),
            after.map(|r| format!("{:.0}", r.0)).unwrap_or("n/a".into()),
            after.map(|r| format!("{:.0}", r.1)).unwrap_or("n/a".into())
        );
        let complete = failed_sends == 0 && got >= expected && records.len() == count;
        let figure = format!(
            "p99 {p99:.1} ms over {got} deliveries ({:.0}/s), {} of {expected} missing, {failed_sends} sends failed",
            got as f64 / span.as_secs_f64(),
            expected.saturating_sub(got)
        );
        let members = groups.first().map(|g| g.members.len()).unwrap_or(0);
        let name = format!("fan-out to {members}-member groups at {rate}/s");
        if target {
            verdict(&name, figure, "every online member, p99 ≤ 100 ms", complete && p99 <= 100.0);
        } else {
            println!("INFO {name} (below the target rate, for reference): {figure}");
        }
        Ok(())
    }
}

/// Latencies in ms, sorted: from each send's turn in the schedule, and from its request leaving.
struct Latencies {
    from_due: Vec<f64>,
    from_issued: Vec<f64>,
}

/// Deliveries of these messages: how many, their latencies, and when the last arrived.
fn latencies_of(seen: &Seen, sent: &[SendRecord]) -> (usize, Latencies, Option<Instant>) {
    let times: HashMap<i64, (Instant, Instant)> = sent.iter().map(|r| (r.id, (r.due, r.issued))).collect();
    let deliveries = seen.deliveries.lock().expect("lock");
    let mut lat = Latencies { from_due: Vec::with_capacity(deliveries.len()), from_issued: Vec::with_capacity(deliveries.len()) };
    let mut last: Option<Instant> = None;
    for (id, at) in deliveries.iter() {
        if let Some((due, issued)) = times.get(id) {
            lat.from_due.push(ms(at.saturating_duration_since(*due)));
            lat.from_issued.push(ms(at.saturating_duration_since(*issued)));
            last = Some(last.map_or(*at, |l| l.max(*at)));
        }
    }
    lat.from_due.sort_by(f64::total_cmp);
    lat.from_issued.sort_by(f64::total_cmp);
    (lat.from_due.len(), lat, last)
}

// ---------------------------------------------------------------------------------------------
// notice

#[derive(Deserialize)]
struct SummaryAnswer {
    summary: SummaryCounts,
    outstanding: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct SummaryCounts {
    recipients: i64,
    read: i64,
}

/// `requests` summary requests one after the other: sorted latencies (ms) and the last answer.
async fn time_summary(
    client: &reqwest::Client,
    url: &str,
    admin: &Who,
    id: i64,
    requests: usize,
) -> anyhow::Result<(Vec<f64>, SummaryAnswer)> {
    let mut times = Vec::with_capacity(requests);
    let mut last = None;
    for _ in 0..requests {
        let t = Instant::now();
        let r = client.get(format!("{url}/api/v1/notices/{id}/summary")).header("cookie", cookie(&admin.token)).send().await?;
        if r.status() != reqwest::StatusCode::OK {
            bail!("summary: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
        let body = r.bytes().await?;
        times.push(ms(t.elapsed()));
        last = Some(body);
    }
    times.sort_by(f64::total_cmp);
    let answer: SummaryAnswer = serde_json::from_slice(&last.context("no request")?)?;
    Ok((times, answer))
}

async fn notice(
    plan_file: &Path,
    url: &str,
    notices: usize,
    requests: usize,
    read_share: f64,
    read_concurrency: usize,
) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_slice(&std::fs::read(plan_file)?)?;
    let parents = plan.parents.len() as i64;
    let client = http_client()?;
    let admin = &plan.admin;
    // The sender's page holds a live socket too: it gets a notice_read frame for every reading.
    let seen = Arc::new(Seen::default());
    read_socket(open_socket(socket_addr(url)?, &admin.token).await?, seen.clone());

    // 1. Notices to every parent of the school.
    let mut creation = Vec::new();
    let mut id = 0;
    let mut recipients_ok = true;
    for n in 0..notices.max(1) {
        let body = serde_json::json!({
            "scope": "unit:parents",
            "title": format!("关于期末家长会的通知（{}）", n + 1),
            "body": "各位家长：本学期期末家长会定于下周五下午三点在各班教室举行，请准时参加。如不能到场，请提前与班主任联系。",
            "needs_confirm": false,
        });
        let t = Instant::now();
        let r = client.post(format!("{url}/api/v1/notices")).header("cookie", cookie(&admin.token)).json(&body).send().await?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await?;
        let took = ms(t.elapsed());
        if status != reqwest::StatusCode::CREATED {
            bail!("notice: {status} {answer}");
        }
        id = answer["id"].as_i64().context("notice id")?;
        let recipients = answer["recipients"].as_i64().unwrap_or(0);
        recipients_ok &= recipients == parents;
        println!("notice {}: created in {took:.0} ms for {recipients} recipients", n + 1);
        creation.push(took);
    }
    let worst = creation.iter().copied().fold(f64::NAN, f64::max);
    let mut sorted = creation.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "RESULT notice_create notices={} recipients={parents} ms={} median_ms={:.0} max_ms={worst:.0}",
        creation.len(),
        creation.iter().map(|c| format!("{c:.0}")).collect::<Vec<_>>().join(","),
        pct(&sorted, 0.5)
    );
    verdict(
        &format!("notice to {parents} parents created"),
        format!("{worst:.0} ms, the slowest of {} (median {:.0} ms)", creation.len(), pct(&sorted, 0.5)),
        "≤ 2 s",
        worst <= 2000.0 && recipients_ok,
    );

    // 2. Its summary, nobody having read it.
    let (times, answer) = time_summary(&client, url, admin, id, requests).await?;
    report_summary("before", &times, &answer, parents, 0);

    // 3. Some of the parents read it.
    let readers = ((parents as f64 * read_share).round() as usize).min(plan.parents.len());
    let permits = Arc::new(tokio::sync::Semaphore::new(read_concurrency.max(1)));
    let reads_started = Instant::now();
    let mut tasks = Vec::with_capacity(readers);
    for who in plan.parents.iter().take(readers).cloned() {
        let (client, url, permits) = (client.clone(), url.to_string(), permits.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            let t = Instant::now();
            let r = client.get(format!("{url}/api/v1/notices/{id}")).header("cookie", cookie(&who.token)).send().await;
            match r {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    Ok(ms(t.elapsed()))
                }
                Ok(r) => Err(format!("{}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    let mut read_times = Vec::with_capacity(readers);
    let mut read_errors = 0;
    for t in tasks {
        match t.await? {
            Ok(ms) => read_times.push(ms),
            Err(e) => {
                if read_errors == 0 {
                    eprintln!("a reading failed: {e}");
                }
                read_errors += 1;
            }
        }
    }
    let read_secs = reads_started.elapsed().as_secs_f64();
    read_times.sort_by(f64::total_cmp);
    // The sender's socket gets the last counts a moment after the last reading.
    let until = Instant::now() + Duration::from_secs(10);
    while seen.notice_reads.load(Ordering::Relaxed) < read_times.len() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{} parents read it ({read_concurrency} at a time, {read_errors} failed) in {read_secs:.1} s: {:.0} readings/s, p50 {:.1} ms, p99 {:.1} ms; \
         the sender's socket got {} notice_read frames",
        read_times.len(),
        read_times.len() as f64 / read_secs,
        pct(&read_times, 0.5),
        pct(&read_times, 0.99),
        seen.notice_reads.load(Ordering::Relaxed)
    );
    println!(
        "RESULT notice_reads reads={} failed={read_errors} seconds={read_secs:.1} per_s={:.0} p50_ms={:.1} p99_ms={:.1} notice_read_frames={}",
        read_times.len(),
        read_times.len() as f64 / read_secs,
        pct(&read_times, 0.5),
        pct(&read_times, 0.99),
        seen.notice_reads.load(Ordering::Relaxed)
    );

    // 4. The summary again.
    let (times, answer) = time_summary(&client, url, admin, id, requests).await?;
    report_summary("after", &times, &answer, parents, read_times.len() as i64);
    Ok(())
}

fn report_summary(phase: &str, times: &[f64], answer: &SummaryAnswer, parents: i64, read: i64) {
    let (p50, p99, max) = (pct(times, 0.5), pct(times, 0.99), times.last().copied().unwrap_or(f64::NAN));
    let right = answer.summary.recipients == parents && answer.summary.read == read;
    println!(
        "summary {phase} the readings ({} requests, one at a time): p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; \
         it says {} recipients, {} read, {} outstanding names listed{}",
        times.len(),
        answer.summary.recipients,
        answer.summary.read,
        answer.outstanding.len(),
        if right { String::new() } else { format!(" — WRONG: expected {parents} recipients, {read} read") }
    );
    println!(
        "RESULT summary phase={phase} requests={} p50_ms={p50:.1} p99_ms={p99:.1} max_ms={max:.1} recipients={} read={} correct={right}",
        times.len(),
        answer.summary.recipients,
        answer.summary.read
    );
    verdict(
        &format!("read-receipt summary, {read} of {parents} read"),
        format!("p99 {p99:.1} ms (p50 {p50:.1} ms) over {} requests", times.len()),
        "≤ 100 ms",
        right && p99 <= 100.0,
    );
}

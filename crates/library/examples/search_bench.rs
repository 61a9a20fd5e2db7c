//! Search benchmark of issue #4 (see "Search benchmark" in bench/README.md).
//!
//! Builds an on-disk index of N synthetic resources (default 1,000,000) with `SearchIndex::rebuild`
//! and times it, then runs a realistic query mix as C concurrent clients (default 8, one OS thread
//! each, closed loop) for D seconds after a warm-up, and again as a single client. Every query is
//! made as a teacher of a random school (`visible_in` = that school and its ancestors) and computes
//! all facets, as the library's search page does.
//!
//! Everything is drawn from a seeded generator, so two runs with the same flags index the same
//! documents and send the same queries. Resources: titles and descriptions combine the topics of
//! the bundled textbook catalogue (and some general ones) with resource types, grades, editions,
//! modifiers, schools and teachers; facet values come from the code lists in `vocab`, skewed as in
//! a real library; publication scopes spread over a synthetic province (16 cities, 100 districts,
//! 16,000 schools).
//!
//! Results are printed as `RESULT …` lines for bench/search.sh.
//!
//! ```sh
//! cargo run --release -p library --example search_bench -- --docs 1000000 --clients 8 --seconds 30
//! cargo run --release -p library --example search_bench -- --index-dir /tmp/idx   # reuse if built
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use library::catalogue::DEMO_CATALOGUE;
use library::search::index::{Facet, IndexedResource, SearchIndex, SearchQuery, Sort};
use library::sniff;
use library::vocab;

const USAGE: &str = "usage: search_bench [--docs N] [--clients C] [--seconds D] [--rate Q] [--single-seconds S] \
                     [--warmup-seconds W] [--index-dir DIR] [--seed X]";

struct Args {
    docs: u64,
    clients: usize,
    seconds: u64,
    /// Queries per second the clients send together in the paced run; 0 skips it.
    rate: u64,
    single_seconds: u64,
    warmup_seconds: u64,
    /// Kept after the run; an index already in it is reused and the rebuild skipped.
    index_dir: Option<PathBuf>,
    seed: u64,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        docs: 1_000_000,
        clients: 8,
        seconds: 30,
        rate: 200,
        single_seconds: 15,
        warmup_seconds: 5,
        index_dir: None,
        seed: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{flag}: not a number: {value}"));
        match flag.as_str() {
            "--docs" => out.docs = number()?,
            "--clients" => out.clients = number()?.max(1) as usize,
            "--seconds" => out.seconds = number()?,
            "--rate" => out.rate = number()?,
            "--single-seconds" => out.single_seconds = number()?,
            "--warmup-seconds" => out.warmup_seconds = number()?,
            "--seed" => out.seed = number()?,
            "--index-dir" => out.index_dir = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok(out)
}

fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    // Format facet values must be the ids uploads really get.
    for (format, _) in [SLIDES, DOCUMENTS, VIDEOS, MEDIA, READING].concat() {
        if sniff::declared(&format!("x.{format}")).map(|f| f.id) != Some(format) {
            fail(&format!("{format} is not a format id of library::sniff"));
        }
    }
    let world = World::new(args.seed);
    let (dir, temporary) = match &args.index_dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("hanlin-search-bench-{}", std::process::id())), true),
    };
    let index = SearchIndex::open(Some(&dir)).unwrap_or_else(|e| fail(&format!("opening {}: {e}", dir.display())));
    if index.is_empty() {
        rebuild(&index, &world, &args, &dir);
    } else {
        println!("reusing the index in {} ({} documents): no rebuild", dir.display(), index.len());
    }
    let docs = index.len();

    if args.warmup_seconds > 0 {
        let warm = run(&index, &world, args.clients, None, args.warmup_seconds, args.seed ^ 0x5741_524d);
        println!("warm-up: {} queries in {} s at {} clients", warm.samples.len(), args.warmup_seconds, args.clients);
    }
    // Three runs: the clients as fast as they can (the throughput), the clients sending the target
    // load together (the latency under it), and one client alone (the latency of a query by itself).
    let mut runs = vec![("max", args.clients, None, args.seconds)];
    if args.rate > 0 {
        runs.push(("paced", args.clients, Some(args.rate as f64), args.seconds));
    }
    if args.clients > 1 {
        runs.push(("single", 1, None, args.single_seconds));
    }
    for (mode, clients, rate, seconds) in runs.into_iter().filter(|r| r.3 > 0) {
        let cpu = Cpu::now();
        let run = run(&index, &world, clients, rate, seconds, args.seed ^ clients as u64);
        let (ours, others) = cpu.since();
        run.report(mode, clients, docs, ours, others);
    }
    drop(index);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("search_bench: {message}");
    std::process::exit(1);
}

fn rebuild(index: &SearchIndex, world: &World, args: &Args, dir: &Path) {
    // Generation alone, timed apart so the rebuild figure can be read without it.
    let started = Instant::now();
    let mut bytes = 0usize;
    let sample = args.docs.clamp(1, 100_000);
    for i in 0..sample {
        let r = world.resource(i);
        bytes += r.title.len() + r.description.len();
    }
    let generation = started.elapsed().as_secs_f64() * args.docs as f64 / sample as f64;
    println!(
        "generating {} resources (avg title+description {} bytes) takes about {generation:.1} s of the rebuild below",
        args.docs,
        bytes / sample as usize
    );
    for i in [0, 1, 2, 3, 4] {
        let r = world.resource(i);
        println!("  e.g. {} | {} | {} {} {:?}", r.title, r.description, r.subject, r.resource_type, r.scope_paths);
    }

    let cpu = Cpu::now();
    let started = Instant::now();
    let mut last = Instant::now();
    let count = index
        .rebuild((0..args.docs).map(|i| world.resource(i)), &mut |n| {
            if last.elapsed() >= Duration::from_secs(10) {
                eprintln!("  indexed {n} in {:.0} s", started.elapsed().as_secs_f64());
                last = Instant::now();
            }
        })
        .unwrap_or_else(|e| fail(&format!("rebuild: {e}")));
    let seconds = started.elapsed().as_secs_f64();
    let (ours, others) = cpu.since();
    println!(
        "RESULT rebuild docs={count} seconds={seconds:.2} docs_per_s={:.0} peak_rss_mb={:.0} index_mb={:.0} cpu_self={ours:.0} cpu_other={others:.0}",
        count as f64 / seconds,
        proc_status_kb("VmHWM") as f64 / 1024.0,
        dir_bytes(dir) as f64 / 1e6,
    );
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
}

fn proc_status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

/// CPU used by this process and by everything else on the machine, for reporting interference.
struct Cpu {
    at: Instant,
    machine: u64,
    ours: u64,
}

impl Cpu {
    fn ticks() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
        let f: Vec<u64> = stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        let machine = f.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum();
        let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // After the command name (which may hold spaces) come the state, then from the 2nd on the
        // fields numbered from 4 in proc(5): utime (14) and stime (15) are the 12th and 13th.
        let rest = own.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
        (machine, f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0))
    }

    fn now() -> Cpu {
        let (machine, ours) = Cpu::ticks();
        Cpu { at: Instant::now(), machine, ours }
    }

    /// Percent of one core (200 = both of two cores) used by this process and by the others.
    fn since(&self) -> (f64, f64) {
        let (machine, ours) = Cpu::ticks();
        // USER_HZ is 100 on every Linux this runs on.
        let per = self.at.elapsed().as_secs_f64();
        let ours = ours.saturating_sub(self.ours) as f64 / per;
        let all = machine.saturating_sub(self.machine) as f64 / per;
        (ours, (all - ours).max(0.0))
    }
}

// ---------------------------------------------------------------- the query run

/// What a query of the mix looks like, to break the latencies down.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Empty text, one or two facet filters.
    Browse,
    /// A catalogue or general topic: 勾股定理.
    Topic,
    /// A topic and a resource type: 勾股定理 课件.
    TopicType,
    /// One or two words found in many titles: 期末复习 课件.
    Common,
    /// Grade, subject and type: 八年级数学 课件.
    GradeSubject,
    /// A topic and a modifier: 勾股定理 第1课时.
    TopicModifier,
    /// A teacher's name: 王芳老师.
    Teacher,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Browse => "browse",
            Kind::Topic => "topic",
            Kind::TopicType => "topic+type",
            Kind::Common => "common-words",
            Kind::GradeSubject => "grade+subject+type",
            Kind::TopicModifier => "topic+modifier",
            Kind::Teacher => "teacher",
        }
    }
}

struct Sample {
    nanos: u64,
    kind: Kind,
    matches: u64,
}

struct Run {
    seconds: f64,
    samples: Vec<Sample>,
}

/// `clients` threads send queries for `seconds`: each as soon as the previous one is answered, or,
/// with a `rate` (queries per second for all clients together), each at its turn in a fixed
/// schedule. A paced query's latency counts from its turn, so a server falling behind shows as
/// latency rather than as fewer queries sent.
fn run(index: &SearchIndex, world: &World, clients: usize, rate: Option<f64>, seconds: u64, seed: u64) -> Run {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let samples = std::thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let stop = &stop;
                s.spawn(move || {
                    let mut rng = Rng::new(seed).fork(c as u64);
                    let mut mine = Vec::with_capacity(seconds as usize * 2_000);
                    // Client c's turns: c/rate, (c + clients)/rate, ...
                    let interval = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
                    let mut turn = started + rate.map_or(Duration::ZERO, |r| Duration::from_secs_f64(c as f64 / r));
                    while !stop.load(Ordering::Relaxed) {
                        let (kind, q) = world.query(&mut rng);
                        let t = match interval {
                            Some(interval) => {
                                std::thread::sleep(turn.saturating_duration_since(Instant::now()));
                                let t = turn;
                                turn += interval;
                                t
                            }
                            None => Instant::now(),
                        };
                        let results = index.search(&q).unwrap_or_else(|e| fail(&format!("search: {e}")));
                        mine.push(Sample { nanos: t.elapsed().as_nanos() as u64, kind, matches: results.total as u64 });
                    }
                    mine
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        threads.into_iter().flat_map(|t| t.join().unwrap_or_else(|_| fail("a client panicked"))).collect::<Vec<Sample>>()
    });
    Run { seconds: started.elapsed().as_secs_f64(), samples }
}

/// (p50, p90, p99, max, mean) in ms, and the mean number of matches, of these samples.
fn figures(samples: &[&Sample]) -> ([f64; 5], f64) {
    let mut nanos: Vec<u64> = samples.iter().map(|s| s.nanos).collect();
    nanos.sort_unstable();
    let n = nanos.len().max(1);
    let ms = |p: f64| nanos.get(((n as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0) as f64 / 1e6;
    let mean = nanos.iter().sum::<u64>() as f64 / n as f64 / 1e6;
    ([ms(0.50), ms(0.90), ms(0.99), ms(1.0), mean], samples.iter().map(|s| s.matches).sum::<u64>() as f64 / n as f64)
}

impl Run {
    fn report(&self, mode: &str, clients: usize, docs: u64, ours: f64, others: f64) {
        let all: Vec<&Sample> = self.samples.iter().collect();
        let ([p50, p90, p99, max, mean], matches) = figures(&all);
        println!(
            "RESULT search mode={mode} docs={docs} clients={clients} queries={} seconds={:.2} qps={:.1} p50_ms={p50:.2} p90_ms={p90:.2} \
             p99_ms={p99:.2} max_ms={max:.2} mean_ms={mean:.2} mean_matches={matches:.0} cpu_self={ours:.0} cpu_other={others:.0}",
            all.len(),
            self.seconds,
            all.len() as f64 / self.seconds,
        );
        let mut kinds: Vec<Kind> = self.samples.iter().map(|s| s.kind).collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let some: Vec<&Sample> = all.iter().copied().filter(|s| s.kind == kind).collect();
            let ([p50, _, p99, max, mean], matches) = figures(&some);
            println!(
                "  {:<20} {:>5.1}% of queries  p50 {p50:>6.2} ms  p99 {p99:>6.2} ms  max {max:>6.2} ms  mean {mean:>6.2} ms  {matches:>7.0} matches",
                kind.name(),
                100.0 * some.len() as f64 / all.len().max(1) as f64,
            );
        }
    }
}

// ---------------------------------------------------------------- deterministic randomness

/// splitmix64: tiny, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent generator for item `i` (a document, a client), whatever was drawn before.
    fn fork(&self, i: u64) -> Rng {
        Rng(mix(self.0 ^ mix(i.wrapping_add(0x632B_E59B_D9B4_E019))))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as usize) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index in 0..n where the first ones come far more often (a rough power law): popular
    /// topics, active schools.
    fn skewed(&mut self, n: usize) -> usize {
        ((self.unit().powi(2) * n as f64) as usize).min(n.saturating_sub(1))
    }

    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|i| i.1).sum();
        let mut at = self.below(total as usize) as u32;
        for (item, weight) in items {
            if at < *weight {
                return item;
            }
            at -= weight;
        }
        &items[items.len() - 1].0
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------- the synthetic world

/// Editions a subject's textbooks come in, the most used first. The demo catalogue holds one
/// edition per book; the others are copies of its tree under other node ids, so chapter facets
/// have as many values as a region with several editions in use.
const SUBJECT_EDITIONS: &[(&str, &[&str])] = &[
    ("math", &["pep", "bnu", "sujiao", "hujiao", "huke", "zhejiao", "ecnu", "jijiao", "xiangjiao", "qingdao"]),
    ("chinese", &["tongbian"]),
    ("english", &["pep", "fltrp", "yilin", "renai", "jijiao"]),
    ("physics", &["pep", "suke", "huke", "bnu", "jiaoke"]),
    ("chemistry", &["pep", "hujiao", "keyue", "lujiao"]),
    ("biology", &["pep", "bnu", "sujiao", "jijiao"]),
];

/// Subjects of resources not tied to the catalogue, by share.
const SUBJECT_WEIGHTS: &[(&str, u32)] = &[
    ("chinese", 20),
    ("math", 20),
    ("english", 14),
    ("physics", 6),
    ("chemistry", 5),
    ("biology", 5),
    ("history", 4),
    ("geography", 4),
    ("morality", 4),
    ("politics", 3),
    ("science", 3),
    ("info-tech", 2),
    ("info-sci", 2),
    ("music", 2),
    ("fine-arts", 2),
    ("pe", 2),
    ("mental-health", 1),
    ("practice", 1),
    ("labour", 1),
    ("calligraphy", 1),
    ("general-tech", 1),
    ("language", 1),
    ("health", 1),
    ("specialty", 1),
];

/// Topics of the subjects the demo catalogue lacks, and more of those it has.
const GENERAL_TOPICS: &[(&str, &[&str])] = &[
    (
        "history",
        &[
            "秦统一中国",
            "丝绸之路",
            "辛亥革命",
            "五四运动",
            "改革开放",
            "工业革命",
            "文艺复兴",
            "贞观之治",
            "郑和下西洋",
            "鸦片战争",
        ],
    ),
    (
        "geography",
        &["地球的运动", "世界的气候", "中国的河流", "人口与人种", "地图的阅读", "板块运动", "季风气候", "城市化", "农业区位因素"],
    ),
    ("morality", &["珍爱生命", "友谊的天空", "走进法治天地", "责任与角色", "诚实守信", "网络生活新空间", "建设美丽中国"]),
    ("politics", &["中国特色社会主义", "经济全球化", "人民代表大会制度", "文化自信", "哲学与文化", "逻辑与思维"]),
    ("science", &["植物的生长变化", "物体的运动", "水的三态变化", "声音的产生", "太阳系大家族", "电路", "岩石与土壤"]),
    ("info-tech", &["算法与程序设计", "Python编程基础", "数据与计算", "网络基础", "信息安全", "人工智能初步"]),
    ("info-sci", &["身边的算法", "在线学习与生活", "数据编码", "过程与控制", "互联网应用与创新"]),
    ("music", &["歌唱祖国", "京剧欣赏", "民族乐器", "合唱训练", "节奏与节拍", "欢乐颂"]),
    ("fine-arts", &["色彩的情感", "中国画", "剪纸艺术", "线描写生", "手工制作", "书法与篆刻"]),
    ("pe", &["立定跳远", "篮球运球", "广播体操", "足球传球", "队列队形", "跳绳", "50米快速跑"]),
    ("mental-health", &["情绪管理", "学会交往", "考前心理调适", "认识自我", "青春期心理"]),
    ("practice", &["校园垃圾分类调查", "家乡的传统节日", "研学旅行", "社区服务"]),
    ("labour", &["整理与收纳", "烹饪与营养", "植物种植", "传统工艺制作"]),
    ("calligraphy", &["楷书基本笔画", "永字八法", "隶书入门", "硬笔书法"]),
    ("general-tech", &["技术与设计", "结构与设计", "控制与设计"]),
    ("language", &["绘本阅读", "儿歌", "看图讲述"]),
    ("health", &["保护眼睛", "好习惯", "安全过马路"]),
    ("specialty", &["汽车维修基础", "电工基础", "会计基础", "计算机应用基础", "烹饪工艺"]),
    ("chinese", &["作文指导", "阅读理解", "古诗词鉴赏", "文言文阅读", "病句修改", "名著阅读", "口语交际", "整本书阅读"]),
    ("math", &["计算专项训练", "应用题", "几何证明", "函数图像", "数学思想方法", "思维训练", "压轴题"]),
    ("english", &["语法专项", "听力训练", "完形填空", "阅读理解", "书面表达", "自然拼读", "时态复习"]),
    ("physics", &["实验探究", "电学综合", "力学综合", "估测题", "作图题"]),
    ("chemistry", &["化学实验基本操作", "酸碱盐", "化学方程式配平", "物质推断题"]),
    ("biology", &["显微镜的使用", "生态系统", "遗传与变异", "人体的消化系统"]),
];

/// Resource types by share (`vocab::RESOURCE_TYPES` codes), and the formats of each.
const TYPES: &[(&str, u32)] = &[
    ("courseware", 25),
    ("lesson-plan", 15),
    ("exercise", 12),
    ("test-paper", 10),
    ("study-guide", 8),
    ("micro-lecture", 8),
    ("teaching-design", 7),
    ("lesson-video", 4),
    ("material", 4),
    ("lesson-talk", 3),
    ("homework-design", 2),
    ("extended-reading", 1),
    ("simulation", 1),
    ("other", 1),
];

const SLIDES: &[(&str, u32)] = &[("pptx", 85), ("ppt", 10), ("pdf", 5)];
const DOCUMENTS: &[(&str, u32)] = &[("docx", 70), ("pdf", 20), ("doc", 10)];
const VIDEOS: &[(&str, u32)] = &[("mp4", 90), ("mov", 5), ("webm", 5)];
const MEDIA: &[(&str, u32)] = &[("jpg", 30), ("png", 20), ("mp3", 20), ("zip", 20), ("mp4", 10)];
const READING: &[(&str, u32)] = &[("pdf", 60), ("epub", 20), ("docx", 20)];

fn formats(resource_type: &str) -> &'static [(&'static str, u32)] {
    match resource_type {
        "courseware" => SLIDES,
        "micro-lecture" | "lesson-video" => VIDEOS,
        "material" | "simulation" | "other" => MEDIA,
        "extended-reading" => READING,
        _ => DOCUMENTS,
    }
}

const LICENCES: &[(&str, u32)] = &[
    ("platform", 45),
    ("cc-by-nc-4.0", 15),
    ("cc-by-4.0", 10),
    ("cc-by-nc-sa-4.0", 10),
    ("cc-by-sa-4.0", 8),
    ("cc-by-nc-nd-4.0", 5),
    ("cc-by-nd-4.0", 4),
    ("cc0-1.0", 3),
];

/// Highest publication level by share: most resources stay in their school.
const LEVELS: &[(usize, u32)] = &[(0, 55), (1, 25), (2, 13), (3, 7)];
const LEVEL_CODES: [&str; 4] = ["school", "district", "city", "province"];

const STAGES: &[(&str, u32)] = &[("primary", 45), ("junior", 35), ("senior", 15), ("preschool", 3), ("vocational", 2)];

const MODIFIERS: &[&str] = &[
    "第1课时",
    "第2课时",
    "第3课时",
    "复习",
    "拓展",
    "公开课",
    "精品",
    "分层作业",
    "含答案",
    "优质课",
    "新课标",
    "大单元教学",
    "同步练习",
    "易错题",
    "知识点总结",
    "基础巩固",
    "能力提升",
    "课后练习",
    "预习",
    "期中复习",
    "期末复习",
    "单元检测",
    "专题训练",
    "赛课",
    "示范课",
];

const FEATURES: &[&str] = &[
    "设计新颖，环节完整",
    "层次清晰，难度适中",
    "配有详细答案与解析",
    "注重学生核心素养的培养",
    "图文并茂，便于课堂使用",
    "突出重点，突破难点",
    "体现新课标理念",
    "可直接用于课堂教学",
    "附有板书设计和教学反思",
    "包含多个互动环节",
];

const GOALS: &[&str] = &[
    "理解基本概念",
    "掌握解题方法",
    "提高阅读能力",
    "培养探究意识",
    "形成知识体系",
    "提升表达能力",
    "学会合作学习",
    "巩固所学知识",
    "发展空间观念",
    "养成良好习惯",
];

const ACTIVITIES: &[&str] =
    &["小组合作探究", "情境导入", "实验演示", "问题链引导", "动手操作", "角色扮演", "思维导图梳理", "随堂检测", "微视频讲解"];

const AWARDS: &[&str] = &["优质课评比一等奖", "教学设计大赛二等奖", "基本功比赛一等奖", "精品课", "优秀课例"];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑",
    "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜",
    "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾",
    "夏", "韦", "付", "方", "白",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚",
    "桂", "英", "华", "玲", "红", "梅", "建", "文", "辉", "鹏", "晨", "佳", "欣", "宇", "婷", "雪", "琳", "晓", "海", "燕", "波",
    "俊", "峰", "颖", "莉", "新", "亮", "志", "春", "凤", "兰", "丹", "萍", "飞", "斌", "宁", "浩", "凯", "倩", "慧", "思", "雨",
    "子", "嘉", "悦",
];

const PLACES: &[&str] = &[
    "江城", "汉阳", "襄州", "荆门", "宜都", "黄石", "孝感", "咸宁", "随州", "恩施", "十堰", "鄂州", "荆州", "黄冈", "仙桃",
    "潜江", "天门", "东湖", "南湖", "西山", "北岭", "青山", "洪山", "江岸", "硚口", "武昌", "汉南", "新洲", "黄陂", "蔡甸",
    "江夏", "沙市", "夷陵", "猇亭",
];

const SCHOOL_KINDS: &[(&str, u32)] = &[
    ("小学", 45),
    ("实验小学", 8),
    ("中学", 20),
    ("初级中学", 10),
    ("实验中学", 5),
    ("高级中学", 6),
    ("外国语学校", 2),
    ("幼儿园", 3),
    ("职业技术学校", 1),
];

const COMMON_QUERIES: &[&str] = &[
    "课件",
    "教案",
    "期末复习",
    "期中复习",
    "作文",
    "阅读理解",
    "古诗",
    "实验",
    "单元测试",
    "公开课",
    "说课",
    "微课",
    "知识点",
    "试卷",
    "练习",
    "复习",
    "导学案",
    "教学设计",
    "思维导图",
    "分层作业",
    "中考",
    "高考",
    "口语交际",
    "习作",
    "计算",
    "应用题",
    "语法",
];

/// A row of the demo catalogue: one textbook node (a section, or a chapter without sections).
struct Node {
    book: usize,
    chapter: usize,
    /// `None`: the row is a chapter without sections.
    section: Option<usize>,
    /// The row's title as printed in the book ("17.1 勾股定理").
    label: String,
    /// The topic without its number ("勾股定理").
    topic: String,
}

struct Book {
    stage: String,
    grade: i64,
    subject: String,
    volume: String,
    editions: &'static [&'static str],
}

struct School {
    /// The school's ancestors and itself: what its teachers may see.
    visible_in: Vec<String>,
    name: String,
}

struct World {
    seed: u64,
    books: Vec<Book>,
    nodes: Vec<Node>,
    /// Indexes into `nodes` of each book's nodes.
    by_book: Vec<Vec<usize>>,
    /// Query topics, popular ones first: the catalogue's and general ones, shuffled once.
    topics: Vec<String>,
    schools: Vec<School>,
}

/// "第十七章 勾股定理" → "勾股定理"; "17.1 勾股定理" → "勾股定理"; "课题1 空气" → "空气"; "第一单元" stays.
fn topic(label: &str) -> String {
    let label = label.strip_prefix("Unit ").map_or(label, |rest| rest.split_once(' ').map_or(rest, |(_, t)| t));
    match label.split_once(' ') {
        Some((head, rest))
            if head.starts_with(|c: char| c.is_ascii_digit())
                || head.starts_with("课题")
                || (head.starts_with('第') && ["章", "节", "单元", "课"].iter().any(|s| head.ends_with(s))) =>
        {
            rest.trim().to_string()
        }
        _ => label.trim().to_string(),
    }
}

impl World {
    fn new(seed: u64) -> World {
        let mut books: Vec<Book> = Vec::new();
        let mut nodes = Vec::new();
        let mut chapters: Vec<(usize, String)> = Vec::new();
        for line in DEMO_CATALOGUE.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let [stage, grade, subject, _edition, volume, chapter, section] = cells[..] else { continue };
            let grade = grade.parse().unwrap_or(1);
            let book = match books
                .iter()
                .position(|b| b.stage == stage && b.grade == grade && b.subject == subject && b.volume == volume)
            {
                Some(b) => b,
                None => {
                    let editions = SUBJECT_EDITIONS.iter().find(|e| e.0 == subject).map_or(&[][..], |e| e.1);
                    books.push(Book { stage: stage.into(), grade, subject: subject.into(), volume: volume.into(), editions });
                    books.len() - 1
                }
            };
            let chapter_idx = match chapters.iter().position(|c| c.0 == book && c.1 == chapter) {
                Some(c) => c,
                None => {
                    chapters.push((book, chapter.to_string()));
                    chapters.len() - 1
                }
            };
            let label = if section.is_empty() { chapter } else { section };
            let section_idx = (!section.is_empty()).then(|| nodes.iter().filter(|n: &&Node| n.chapter == chapter_idx).count());
            nodes.push(Node { book, chapter: chapter_idx, section: section_idx, label: label.into(), topic: topic(label) });
        }
        let mut rng = Rng::new(seed).fork(u64::MAX);
        let mut topics: Vec<String> = nodes.iter().map(|n| n.topic.clone()).collect();
        topics.extend(chapters.iter().map(|c| topic(&c.1)).filter(|t| !t.starts_with('第')));
        topics.extend(GENERAL_TOPICS.iter().flat_map(|g| g.1.iter().map(|t| t.to_string())));
        topics.sort();
        topics.dedup();
        for i in (1..topics.len()).rev() {
            topics.swap(i, rng.below(i + 1));
        }

        // The province /1/, 16 cities, 100 districts, 16,000 schools; unit ids in creation order.
        let mut next_id = 2;
        let mut id = || {
            next_id += 1;
            next_id - 1
        };
        let cities: Vec<String> = (0..16).map(|_| format!("/1/{}/", id())).collect();
        let districts: Vec<(usize, String)> = (0..100)
            .map(|d| {
                let city = if d < 96 { d / 6 } else { rng.below(16) };
                (city, format!("{}{}/", cities[city], id()))
            })
            .collect();
        let schools = (0..16_000)
            .map(|_| {
                let d = rng.below(districts.len());
                let (city, district) = &districts[d];
                let path = format!("{district}{}/", id());
                let kind = rng.weighted(SCHOOL_KINDS);
                let name = match rng.below(3) {
                    0 => format!("{}市第{}{}", PLACES[*city % PLACES.len()], number_zh(rng.range(1, 40)), kind),
                    1 => format!("{}区{}{}", PLACES[(d * 7 + 3) % PLACES.len()], rng.pick(PLACES), kind),
                    _ => format!("{}{}", rng.pick(PLACES), kind),
                };
                School { visible_in: vec!["/1/".into(), cities[*city].clone(), district.clone(), path], name }
            })
            .collect();
        let by_book = (0..books.len()).map(|b| (0..nodes.len()).filter(|&n| nodes[n].book == b).collect()).collect();
        World { seed, books, nodes, by_book, topics, schools }
    }

    /// Catalogue node id of a book's copy in edition `e`: unique per (edition, book, chapter, section).
    fn node_id(e: usize, book: usize, chapter: Option<usize>, section: Option<usize>) -> i64 {
        let base = ((e * 64 + book) * 4096) as i64 + 1;
        base + chapter.map_or(0, |c| (c as i64 + 1) * 64 + section.map_or(0, |s| s as i64 + 1))
    }

    fn teacher(rng: &mut Rng) -> String {
        let mut name = rng.pick(SURNAMES).to_string();
        for _ in 0..1 + usize::from(rng.chance(0.7)) {
            let given = *rng.pick(GIVEN);
            name.push_str(given);
        }
        name
    }

    fn resource(&self, i: u64) -> IndexedResource {
        let mut rng = Rng::new(self.seed).fork(i);
        let mut r = IndexedResource { id: i as i64 + 1, ..IndexedResource::default() };
        r.resource_type = rng.weighted(TYPES).to_string();
        r.format = rng.weighted(formats(&r.resource_type)).to_string();
        r.licence = rng.weighted(LICENCES).to_string();
        let type_zh = zh(vocab::RESOURCE_TYPES, &r.resource_type);

        // Half of the resources hang on a chapter of the catalogue; the others carry a general topic.
        let topic;
        let mut label = None;
        let mut related: Vec<&str> = Vec::new();
        if rng.chance(0.5) {
            let node = &self.nodes[rng.skewed(self.nodes.len())];
            let book = &self.books[node.book];
            let e = rng.skewed(book.editions.len().max(1));
            (r.stage, r.grade, r.subject, r.volume) =
                (book.stage.clone(), Some(book.grade), book.subject.clone(), book.volume.clone());
            r.edition = book.editions.get(e).copied().unwrap_or("other").to_string();
            r.chapter_path =
                vec![World::node_id(e, node.book, None, None), World::node_id(e, node.book, Some(node.chapter), None)];
            if node.section.is_some() {
                r.chapter_path.push(World::node_id(e, node.book, Some(node.chapter), node.section));
            }
            topic = node.topic.clone();
            label = Some(node.label.as_str());
            related.extend(self.by_book[node.book].iter().map(|&n| self.nodes[n].topic.as_str()));
        } else {
            r.stage = rng.weighted(STAGES).to_string();
            let taught = vocab::subjects_of_stage(&r.stage);
            let weights: Vec<(&str, u32)> = SUBJECT_WEIGHTS.iter().copied().filter(|(s, _)| taught.contains(s)).collect();
            r.subject = if weights.is_empty() { rng.pick(taught).to_string() } else { rng.weighted(&weights).to_string() };
            let years = match r.stage.as_str() {
                "primary" => 6,
                _ => 3,
            };
            r.grade = (r.stage != "vocational" || rng.chance(0.5)).then(|| rng.range(1, years));
            r.edition = match SUBJECT_EDITIONS.iter().find(|e| e.0 == r.subject) {
                Some((_, editions)) if rng.chance(0.85) => editions[rng.skewed(editions.len())].to_string(),
                _ if rng.chance(0.4) => rng.pick(vocab::EDITIONS).code.to_string(),
                _ => String::new(),
            };
            r.volume = match r.stage.as_str() {
                "senior" => rng.pick(&vocab::VOLUMES[3..]).code.to_string(),
                _ if rng.chance(0.9) => rng.weighted(&[("upper", 50), ("lower", 45), ("whole", 5)]).to_string(),
                _ => String::new(),
            };
            let own = GENERAL_TOPICS.iter().filter(|g| g.0 == r.subject).flat_map(|g| g.1.iter().copied()).collect::<Vec<_>>();
            topic = if own.is_empty() { rng.pick(COMMON_QUERIES).to_string() } else { rng.pick(&own).to_string() };
            related.extend(own.iter().filter(|t| **t != topic));
        }
        let subject_zh = zh(vocab::SUBJECTS, &r.subject);
        let edition_zh = if r.edition.is_empty() { "" } else { zh(vocab::EDITIONS, &r.edition) };
        let volume_zh = if r.volume.is_empty() { "" } else { zh(vocab::VOLUMES, &r.volume) };
        let grade_zh = grade_zh(&r.stage, r.grade);
        let school = &self.schools[rng.skewed(self.schools.len())];
        let teacher = World::teacher(&mut rng);
        let modifier = *rng.pick(MODIFIERS);

        r.title = match rng.below(8) {
            0 | 1 => format!("{edition_zh}{grade_zh}{subject_zh}{volume_zh}《{topic}》{modifier}{type_zh}"),
            2 => format!("{}（{modifier}）{type_zh}", label.unwrap_or(&topic)),
            3 => format!("《{topic}》{type_zh}"),
            4 => format!("{topic}{modifier}"),
            5 => format!("{}年{}{grade_zh}{subject_zh}{topic}{type_zh}", rng.range(2019, 2025), school.name),
            6 => format!("{teacher}老师《{topic}》{type_zh}（{modifier}）"),
            _ => format!("{grade_zh}{subject_zh}：{topic}{type_zh}"),
        };

        let mut description = String::new();
        // One to three sentences, each from a different template.
        let mut used = 0u8;
        for _ in 0..1 + rng.below(3) {
            let mut template = rng.below(6);
            while used & 1 << template != 0 {
                template = (template + 1) % 6;
            }
            used |= 1 << template;
            let _ = match template {
                0 => write!(
                    description,
                    "本{type_zh}适用于{edition_zh}{grade_zh}{subject_zh}{volume_zh}《{topic}》的教学，{}。",
                    rng.pick(FEATURES)
                ),
                1 if related.len() >= 2 => write!(
                    description,
                    "内容包括{topic}、{}和{}，{}。",
                    rng.pick(&related),
                    rng.pick(&related),
                    rng.pick(FEATURES)
                ),
                2 => write!(description, "通过{}，帮助学生{}。", rng.pick(ACTIVITIES), rng.pick(GOALS)),
                3 => write!(description, "由{}{teacher}老师设计，曾获{}。", school.name, rng.pick(AWARDS)),
                4 => write!(
                    description,
                    "适合{}{}使用，{}。",
                    rng.pick(&["新授课", "复习课", "课后", "假期", "晚自习"]),
                    rng.pick(&["教师", "学生", "师生"]),
                    rng.pick(FEATURES)
                ),
                _ => write!(
                    description,
                    "{}年{}学期{}，{}。",
                    rng.range(2019, 2025),
                    rng.pick(&["春季", "秋季"]),
                    modifier,
                    rng.pick(GOALS)
                ),
            };
        }
        r.description = description;
        r.keywords =
            [topic.clone(), type_zh.to_string(), subject_zh.to_string()].into_iter().filter(|_| rng.chance(0.6)).collect();
        r.authors = vec![teacher];
        if rng.chance(0.15) {
            r.authors.push(World::teacher(&mut rng));
        }

        let level = *rng.weighted(LEVELS);
        r.level = LEVEL_CODES[level].to_string();
        // Published in the school, then recommended up one level at a time: a scope per level.
        r.scope_paths = school.visible_in.iter().rev().take(level + 1).cloned().collect();
        // 2020 to 2025, more of the recent years.
        r.published_at = 1_577_836_800 + (rng.unit().sqrt() * 6.0 * 365.0 * 86_400.0) as i64;
        r.uses = (rng.unit() * 9.0).exp() as i64;
        r.rating = if rng.chance(0.4) { 3.0 + (rng.unit() * 20.0).round() / 10.0 } else { 0.0 };
        r
    }

    /// One query of the mix, as a teacher of a random school.
    fn query(&self, rng: &mut Rng) -> (Kind, SearchQuery) {
        let school = rng.pick(&self.schools);
        let mut q = SearchQuery { visible_in: school.visible_in.clone(), limit: 20, ..SearchQuery::default() };
        let kind;
        if rng.chance(0.25) {
            kind = Kind::Browse;
            q.sort = *rng.weighted(&[(Sort::Newest, 60), (Sort::MostUsed, 25), (Sort::Rating, 15)]);
            self.filter(rng, &mut q);
            if rng.chance(0.4) {
                self.filter(rng, &mut q);
            }
        } else {
            let topic = &self.topics[rng.skewed(self.topics.len())];
            let type_code = *rng.weighted(TYPES);
            let type_zh = zh(vocab::RESOURCE_TYPES, type_code);
            (kind, q.text) = match rng.below(20) {
                0..=7 => (Kind::Topic, topic.clone()),
                8..=11 => (Kind::TopicType, format!("{topic} {type_zh}")),
                12..=14 => {
                    let words = 1 + rng.below(2);
                    (Kind::Common, (0..words).map(|_| *rng.pick(COMMON_QUERIES)).collect::<Vec<_>>().join(" "))
                }
                15 | 16 => {
                    let stage = rng.weighted(STAGES);
                    let subject = rng.weighted(SUBJECT_WEIGHTS);
                    (
                        Kind::GradeSubject,
                        format!("{}{} {type_zh}", grade_zh(stage, Some(rng.range(1, 3))), zh(vocab::SUBJECTS, subject)),
                    )
                }
                17 | 18 => (Kind::TopicModifier, format!("{topic} {}", rng.pick(MODIFIERS))),
                _ => (Kind::Teacher, format!("{}老师", World::teacher(rng))),
            };
            q.sort = *rng.weighted(&[(Sort::Relevance, 75), (Sort::Newest, 12), (Sort::MostUsed, 8), (Sort::Rating, 5)]);
            if rng.chance(0.35) {
                self.filter(rng, &mut q);
                if rng.chance(0.3) {
                    self.filter(rng, &mut q);
                }
            }
        }
        q.offset = *rng.weighted(&[(0, 85), (20, 10), (40, 5)]);
        (kind, q)
    }

    fn filter(&self, rng: &mut Rng, q: &mut SearchQuery) {
        let filter = match rng.below(10) {
            0..=3 => (Facet::Subject, rng.weighted(SUBJECT_WEIGHTS).to_string()),
            4 | 5 => (Facet::ResourceType, rng.weighted(TYPES).to_string()),
            6 => (Facet::Grade, rng.range(1, 6).to_string()),
            7 => {
                let node = &self.nodes[rng.skewed(self.nodes.len())];
                let e = rng.skewed(self.books[node.book].editions.len().max(1));
                (Facet::Chapter, World::node_id(e, node.book, Some(node.chapter), None).to_string())
            }
            8 => {
                let type_code = *rng.weighted(TYPES);
                let formats = formats(type_code);
                (Facet::Format, rng.weighted(formats).to_string())
            }
            _ => (Facet::Level, LEVEL_CODES[*rng.weighted(LEVELS)].to_string()),
        };
        q.filters.push(filter);
    }
}

fn zh(list: &'static [vocab::Term], code: &str) -> &'static str {
    vocab::find(list, code).map_or("", |t| t.zh)
}

fn number_zh(n: i64) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].into(),
        10..=19 => format!("十{}", if n > 10 { DIGITS[n as usize - 10] } else { "" }),
        _ => format!("{}十{}", DIGITS[n as usize / 10], if n % 10 > 0 { DIGITS[n as usize % 10] } else { "" }),
    }
}

fn grade_zh(stage: &str, grade: Option<i64>) -> String {
    let Some(g) = grade else { return String::new() };
    match stage {
        "primary" => format!("{}年级", number_zh(g)),
        "junior" => format!("{}年级", number_zh(g + 6)),
        "senior" => format!("高{}", number_zh(g)),
        "preschool" => ["小班", "中班", "大班"].get(g as usize - 1).copied().unwrap_or("").into(),
        _ => format!("{}年级", number_zh(g)),
    }
}

//! Writes a synthetic region: `cargo run --release -p regiongen --example gen -- DIR SIZE [SEED]`
//! where SIZE is `hubei`, `small` or e.g. `students=1000000,parents=2` (see `Size::parse`).

use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!(
            "usage: gen DIR SIZE [SEED]   (SIZE: hubei | small | students=N,schools=N,teachers=N,cities=N,districts=N,parents=0|1|2)"
        );
        std::process::exit(2);
    }
    let size = regiongen::Size::parse(&args[1]).unwrap_or_else(|e| {
        eprintln!("bad size: {e}");
        std::process::exit(2);
    });
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("bad seed: {}", args[2]);
            std::process::exit(2);
        }
    };
    let options = regiongen::Options::new(size, seed);
    let start = Instant::now();
    let mut last = 0;
    let mut progress = |done: u64, total: u64| {
        let pct = done * 100 / total.max(1);
        if pct >= last + 5 || done == total {
            last = pct;
            eprint!("\r{done}/{total} rows ({pct}%)");
            let _ = std::io::stderr().flush();
        }
    };
    let written = regiongen::write(std::path::Path::new(&args[0]), &options, &mut progress).unwrap_or_else(|e| {
        eprintln!("\nfailed: {e}");
        std::process::exit(1);
    });
    let secs = start.elapsed().as_secs_f64();
    eprintln!();
    let mut rows = 0;
    let mut bytes = 0;
    for (kind, path, n) in &written.files {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("{kind:<10} {n:>10} rows {:>8.1} MB  {}", len as f64 / 1e6, path.display());
        rows += n;
        bytes += len;
    }
    println!(
        "{} cities, {} districts; {rows} rows, {:.1} MB in {secs:.2} s: {:.0} rows/s, {:.0} MB/s",
        written.region.cities.len(),
        written.region.districts.len(),
        bytes as f64 / 1e6,
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}

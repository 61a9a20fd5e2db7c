//! `hanlin gen`: a synthetic region of any size (up to a province) as import files, and
//! optionally straight into the database through the same import path users take.

use anyhow::Context;
use directory::org::model::UnitInput;
use directory::org::store as org;
use kernel::db::Db;
use regiongen::{Division, Region};
use std::path::Path;

/// Creates the province, its cities and districts where they are missing (matched by code).
pub async fn create_region(db: &Db, region: &Region) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let ensure = async |tx: &mut kernel::db::Tx, d: &Division, kind: &str| -> anyhow::Result<()> {
        if org::by_code(db, &d.code).await?.is_some() {
            return Ok(());
        }
        let parent = match &d.parent_code {
            Some(code) => {
                let id: Option<(i64,)> =
                    tx.fetch_optional(kernel::db::sql("SELECT id FROM org_units WHERE code = $1").bind(code.as_str())).await?;
                let id = id.with_context(|| format!("parent {code} of {} missing", d.code))?.0;
                org::get_in(tx, id).await?
            }
            None => None,
        };
        let input = UnitInput { kind: kind.into(), name: d.name.clone(), code: d.code.clone(), ..Default::default() };
        org::create(tx, parent.as_ref(), &input).await?;
        Ok(())
    };
    ensure(&mut tx, &region.province, "province").await?;
    for c in &region.cities {
        ensure(&mut tx, c, "city").await?;
    }
    for d in &region.districts {
        ensure(&mut tx, d, "district").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Writes the files and, with `into_db`, creates the region and imports every file in order.
pub async fn run(
    db: Option<&Db>,
    dir: &Path,
    size: regiongen::Size,
    seed: u64,
    school_year: i64,
    skip: &[String],
) -> anyhow::Result<()> {
    let mut options = regiongen::Options::new(size, seed);
    options.start_year = school_year;
    let started = std::time::Instant::now();
    let dir_owned = dir.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        let mut last = std::time::Instant::now();
        regiongen::write(&dir_owned, &options, &mut |done, total| {
            if last.elapsed().as_secs() >= 3 {
                last = std::time::Instant::now();
                eprintln!("writing files: {done}/{total} rows");
            }
        })
    })
    .await??;
    for (kind, path, rows) in &written.files {
        println!("{kind:<11} {rows:>10} rows  {}", path.display());
    }
    println!("files written in {:.1} s", started.elapsed().as_secs_f64());
    let Some(db) = db else { return Ok(()) };
    create_region(db, &written.region).await?;
    let who = roster::import::Who { actor_id: None, actor_name: "hanlin gen".into(), ip: "local".into() };
    let today = kernel::today(480);
    for (kind, path, _) in written.files.iter().filter(|f| !skip.contains(&f.0)) {
        let kind = roster::columns::Kind::parse(kind).context("unknown kind from regiongen")?;
        let opts = roster::import::Options::default();
        let req = roster::import::Request { kind, file: path, scope_path: "/", school_year, today, who: &who, opts: &opts };
        let t = std::time::Instant::now();
        let out = roster::import::run(db, &req, &Quiet).await?;
        if out.rejected {
            let first =
                out.problems.first().map(|p| format!("row {} {} {:?}: {}", p.row, p.column, p.value, p.key)).unwrap_or_default();
            anyhow::bail!("{} rows of {} failed; first: {first}", out.error_rows, kind.as_str());
        }
        println!("imported {:<11} {:>10} rows in {:.1} s", kind.as_str(), out.total_rows, t.elapsed().as_secs_f64());
    }
    Ok(())
}

struct Quiet;

impl roster::import::Progress for Quiet {
    fn update(&self, _: roster::import::Phase, _: u64, _: u64) {}
    fn cancelled(&self) -> bool {
        false
    }
}

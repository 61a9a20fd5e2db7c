//! Reads an import file on a blocking thread and hands typed rows to the async side in chunks,
//! through a bounded channel: memory stays bounded whatever the file's size.

use super::rows::{self, Problem, Row};
use crate::columns::{self, HeaderMap, Kind};
use sheet::{Limits, Reader, Record, SheetError};
use std::path::PathBuf;
use tokio::sync::mpsc;

pub const CHUNK_ROWS: usize = 1000;
/// The header must be within the first rows of the sheet.
const HEADER_SEARCH_ROWS: usize = 30;

#[derive(Debug, Clone)]
pub struct Header {
    pub map: HeaderMap,
    pub sheet: String,
    pub encoding: &'static str,
}

#[derive(Debug, Default)]
pub struct Chunk {
    pub rows: Vec<(u32, Row)>,
    pub problems: Vec<Problem>,
    /// (bytes read, file size)
    pub read: (u64, u64),
}

#[derive(Debug)]
pub enum Item {
    Header(Header),
    Chunk(Chunk),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error("no header row with the required columns in the first {HEADER_SEARCH_ROWS} rows")]
    NoHeader { found: Vec<String> },
}

fn texts(r: &Record) -> Vec<String> {
    r.cells.iter().map(|c| c.text.clone()).collect()
}

fn find_header(kind: Kind, reader: &mut Reader) -> Result<HeaderMap, SourceError> {
    let mut previous: Option<Record> = None;
    let mut first: Option<Vec<String>> = None;
    for _ in 0..HEADER_SEARCH_ROWS {
        let Some(rec) = reader.next().transpose()? else { break };
        let cells = texts(&rec);
        first.get_or_insert_with(|| cells.clone());
        if let Some(m) = columns::match_header(kind, rec.row, &cells) {
            return Ok(m);
        }
        if let Some(prev) = &previous
            && let Some(m) = columns::match_header(kind, rec.row, &columns::join_header_rows(&texts(prev), &cells))
        {
            return Ok(m);
        }
        previous = Some(rec);
    }
    Err(SourceError::NoHeader { found: first.unwrap_or_default().into_iter().filter(|s| !s.trim().is_empty()).collect() })
}

/// Streams the file's rows. The receiver gets the header first, then chunks; an error ends the stream.
pub fn stream(path: PathBuf, kind: Kind, sheet: Option<String>) -> mpsc::Receiver<Result<Item, SourceError>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), SourceError> {
            let mut reader = Reader::open(&path, sheet.as_deref(), &Limits::default())?;
            let map = find_header(kind, &mut reader)?;
            let header = Header { map: map.clone(), sheet: reader.sheet_name().to_string(), encoding: reader.encoding() };
            if tx.blocking_send(Ok(Item::Header(header))).is_err() {
                return Ok(());
            }
            let mut chunk = Chunk::default();
            while let Some(rec) = reader.next() {
                let rec = rec?;
                if rows::is_blank(&map, &rec) {
                    continue;
                }
                match rows::parse(kind, &map, &rec) {
                    Ok(row) => chunk.rows.push((rec.row, row)),
                    Err(mut p) => chunk.problems.append(&mut p),
                }
                if chunk.rows.len() + chunk.problems.len() >= CHUNK_ROWS {
                    chunk.read = reader.progress();
                    if tx.blocking_send(Ok(Item::Chunk(std::mem::take(&mut chunk)))).is_err() {
                        return Ok(());
                    }
                }
            }
            chunk.read = reader.progress();
            let _ = tx.blocking_send(Ok(Item::Chunk(chunk)));
            Ok(())
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

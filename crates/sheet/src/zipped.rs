//! Zip access for XLSX with bomb protection: every entry is inflated through [`Inflated`], which
//! counts real output bytes against the per-entry ratio and the total budget and stops the moment
//! either is exceeded, whatever the archive declares.

use std::io::{self, Read, Seek, SeekFrom, Take};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::DeflateDecoder;
use zip::{CompressionMethod, ZipArchive};

use crate::{Limits, SheetError};

pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}
pub(crate) type Source = Box<dyn ReadSeek>;

/// Entries smaller than this are exempt from `max_ratio`: tiny, highly repetitive XML parts
/// legitimately compress far better than 100:1, and a few hundred KiB cannot hurt.
const RATIO_GRACE: u64 = 256 * 1024;

/// Most bytes an entry of `compressed` bytes may inflate to.
fn ratio_cap(compressed: u64, limits: &Limits) -> u64 {
    compressed.saturating_mul(limits.max_ratio).max(RATIO_GRACE)
}

/// Longest stretch of XML one parser event may span. quick-xml buffers a whole event (a text
/// node, a tag, a comment), so without this a single giant token would be held in memory.
const MAX_TOKEN: u64 = 4 << 20;

/// Why an entry stream stopped. It travels inside an `io::Error` so that it survives flate2 and
/// quick-xml, and is turned back into a [`SheetError`] by [`from_io`].
#[derive(Debug)]
pub(crate) enum Refusal {
    Limit(&'static str),
    TokenTooLong,
    Corrupt(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Limit(name) => write!(f, "{name} exceeded"),
            Refusal::TokenTooLong => write!(f, "an XML token is longer than {MAX_TOKEN} bytes"),
            Refusal::Corrupt(detail) => write!(f, "corrupt zip entry: {detail}"),
        }
    }
}

impl std::error::Error for Refusal {}

fn refuse(refusal: Refusal) -> io::Error {
    io::Error::other(refusal)
}

/// Maps an I/O error met while reading an entry; `row` places malformed XML.
pub(crate) fn from_io(e: &io::Error, row: Option<u32>) -> SheetError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Refusal>()) {
        Some(Refusal::Limit(limit)) => SheetError::TooLarge { limit },
        Some(Refusal::TokenTooLong) => SheetError::Malformed { row, detail: Refusal::TokenTooLong.to_string() },
        Some(Refusal::Corrupt(detail)) => SheetError::NotXlsx(format!("corrupt zip entry: {detail}")),
        None => SheetError::Io(io::Error::new(e.kind(), e.to_string())),
    }
}

fn zip_error(e: zip::result::ZipError) -> SheetError {
    match e {
        zip::result::ZipError::Io(io)
            if !matches!(io.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput) =>
        {
            SheetError::Io(io)
        }
        other => SheetError::NotXlsx(other.to_string()),
    }
}

/// An opened zip archive plus the inflation budget shared by everything read from it.
pub(crate) struct Package {
    archive: ZipArchive<Source>,
    limits: Limits,
    /// Bytes inflated so far across entries, for `max_inflated_bytes`.
    used: Arc<AtomicU64>,
}

/// Where an entry's data lies and how it is stored, checked against the limits.
struct Entry {
    compressed: u64,
    deflated: bool,
    data_start: Option<u64>,
}

impl Package {
    pub(crate) fn open(src: Source, limits: &Limits) -> Result<Package, SheetError> {
        let archive = ZipArchive::new(src).map_err(zip_error)?;
        Ok(Package { archive, limits: *limits, used: Arc::new(AtomicU64::new(0)) })
    }

    /// Index of a part; part names are case-insensitive in OPC.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.archive.index_for_name(name).or_else(|| {
            let names = self.archive.file_names_raw();
            names.enumerate().find(|(_, n)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(i, _)| i)
        })
    }

    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Rewinds the budget, so that a second pass over the same entry is not charged twice.
    pub(crate) fn set_used(&self, used: u64) {
        self.used.store(used, Ordering::Relaxed);
    }

    /// Checks the declared sizes first, so an honest bomb is refused without inflating a byte.
    fn entry(&mut self, index: usize) -> Result<Entry, SheetError> {
        let file = self.archive.by_index_raw(index).map_err(zip_error)?;
        if file.encrypted() {
            return Err(SheetError::NotXlsx("encrypted zip entry".into()));
        }
        let deflated = match file.compression() {
            CompressionMethod::STORE => false,
            CompressionMethod::DEFLATE => true,
            other => return Err(SheetError::NotXlsx(format!("unsupported compression method {other:?}"))),
        };
        let entry = Entry { compressed: file.compressed_size(), deflated, data_start: file.data_start() };
        let declared = file.size();
        drop(file);
        if declared > ratio_cap(entry.compressed, &self.limits) {
            return Err(SheetError::TooLarge { limit: "max_ratio" });
        }
        if self.used().saturating_add(declared) > self.limits.max_inflated_bytes {
            return Err(SheetError::TooLarge { limit: "max_inflated_bytes" });
        }
        Ok(entry)
    }

    /// Streams a (small) part while the package stays usable.
    pub(crate) fn read(&mut self, index: usize) -> Result<Inflated<impl Read + '_>, SheetError> {
        let entry = self.entry(index)?;
        let raw = self.archive.by_index_raw(index).map_err(zip_error)?;
        Ok(Inflated::new(raw, &entry, &self.limits, self.used.clone(), Arc::new(AtomicU64::new(0))))
    }

    /// Streams a part to the end, consuming the package; `consumed` counts compressed bytes read
    /// for progress. Returns the reader and the entry's compressed size.
    pub(crate) fn into_stream(
        mut self,
        index: usize,
        consumed: Arc<AtomicU64>,
    ) -> Result<(Inflated<Take<Source>>, u64), SheetError> {
        let entry = self.entry(index)?;
        let start = entry.data_start.ok_or_else(|| SheetError::NotXlsx("zip entry without a data offset".into()))?;
        let mut src = self.archive.into_inner();
        src.seek(SeekFrom::Start(start))?;
        let raw = src.take(entry.compressed);
        Ok((Inflated::new(raw, &entry, &self.limits, self.used, consumed), entry.compressed))
    }
}

/// Counts compressed bytes pulled from the archive.
pub(crate) struct Counted<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

enum Decode<R: Read> {
    Stored(Counted<R>),
    Deflated(DeflateDecoder<Counted<R>>),
}

/// An entry's inflated bytes, refused as soon as they exceed a limit.
pub(crate) struct Inflated<R: Read> {
    decode: Decode<R>,
    produced: u64,
    /// Most bytes this entry may inflate to under `max_ratio`.
    ratio_cap: u64,
    used: Arc<AtomicU64>,
    budget: u64,
    /// Bytes handed out since the last [`Inflated::new_token`].
    token: u64,
}

impl<R: Read> Inflated<R> {
    fn new(raw: R, entry: &Entry, limits: &Limits, used: Arc<AtomicU64>, consumed: Arc<AtomicU64>) -> Inflated<R> {
        let counted = Counted { inner: raw, consumed };
        let decode = if entry.deflated { Decode::Deflated(DeflateDecoder::new(counted)) } else { Decode::Stored(counted) };
        Inflated {
            decode,
            produced: 0,
            ratio_cap: ratio_cap(entry.compressed, limits),
            used,
            budget: limits.max_inflated_bytes,
            token: 0,
        }
    }

    /// Marks the start of an XML event for the [`MAX_TOKEN`] guard.
    pub(crate) fn new_token(&mut self) {
        self.token = 0;
    }
}

impl<R: Read> Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = match &mut self.decode {
            Decode::Stored(r) => r.read(buf),
            Decode::Deflated(r) => r.read(buf),
        };
        let n = match result {
            Ok(n) => n as u64,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(refuse(Refusal::Corrupt(e.to_string())));
            }
            Err(e) => return Err(e),
        };
        self.produced += n;
        self.token += n;
        if self.produced > self.ratio_cap {
            return Err(refuse(Refusal::Limit("max_ratio")));
        }
        if self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n) > self.budget {
            return Err(refuse(Refusal::Limit("max_inflated_bytes")));
        }
        if self.token > MAX_TOKEN {
            return Err(refuse(Refusal::TokenTooLong));
        }
        Ok(n as usize)
    }
}

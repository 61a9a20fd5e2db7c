//! PDF previews of office documents (Word, PowerPoint, Excel, WPS), made by LibreOffice when it
//! is installed: the first person to open one waits for the conversion, everyone after gets the
//! stored PDF. Without LibreOffice (or with `library.libreoffice` empty) they are download only.

use crate::sniff::{self, Kind};
use kernel::{App, AppError};
use std::path::Path;
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// The converter, kept on the app: whether LibreOffice answers, and one conversion at a time
/// (each takes a whole core and a few hundred MB).
pub struct Converter {
    command: String,
    available: OnceCell<bool>,
    permits: Semaphore,
}

/// A conversion that takes longer than this is given up (a huge spreadsheet, a damaged file).
const TIMEOUT: Duration = Duration::from_secs(120);

impl Converter {
    pub fn new(command: &str) -> Converter {
        Converter { command: command.trim().to_string(), available: OnceCell::new(), permits: Semaphore::new(1) }
    }

    /// Whether LibreOffice is there, asked once.
    pub async fn available(&self) -> bool {
        if self.command.is_empty() {
            return false;
        }
        *self
            .available
            .get_or_init(|| async {
                let probe = tokio::process::Command::new(&self.command).arg("--version").kill_on_drop(true).output();
                matches!(tokio::time::timeout(Duration::from_secs(30), probe).await, Ok(Ok(out)) if out.status.success())
            })
            .await
    }
}

fn converter(app: &App) -> Option<&Converter> {
    app.part::<Converter>()
}

/// Office formats LibreOffice turns into PDF.
pub fn convertible(format: &str) -> bool {
    sniff::accepted()
        .iter()
        .find(|f| f.id == format)
        .is_some_and(|f| matches!(f.kind, Kind::Document | Kind::Presentation | Kind::Spreadsheet))
}

/// Whether the page should offer a preview of a file of this format.
pub async fn offered(app: &App, format: &str) -> bool {
    match converter(app) {
        Some(c) if convertible(format) => c.available().await,
        _ => false,
    }
}

fn key_of(sha256: &str) -> String {
    format!("previews/{}/{sha256}.pdf", &sha256[..2.min(sha256.len())])
}

/// The storage key and size of the PDF preview of a stored file, converting it first if need be;
/// None when there is no converter or the conversion failed.
pub async fn pdf(app: &App, sha256: &str, format: &str) -> Result<Option<(String, u64)>, AppError> {
    if sha256.is_empty() || !offered(app, format).await {
        return Ok(None);
    }
    let key = key_of(sha256);
    if let Some(found) = stored(app, &key).await? {
        return Ok(Some(found));
    }
    let converter = converter(app).expect("offered checked the converter");
    let _turn = converter.permits.acquire().await.map_err(AppError::internal)?;
    // Made by another request while this one waited.
    if let Some(found) = stored(app, &key).await? {
        return Ok(Some(found));
    }
    let blob = crate::uploads::store::blob(&app.db, sha256).await?.ok_or(AppError::NotFound)?;
    let dir = app.config.data_dir.join("tmp").join(format!("preview-{}", kernel::secret::random_token(8)));
    tokio::fs::create_dir_all(&dir).await.map_err(AppError::internal)?;
    let outcome = convert(app, &converter.command, &blob, &dir, &key).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    match outcome {
        Ok(size) => Ok(Some((key, size))),
        Err(e) => {
            tracing::warn!(sha256, error = %e, "office preview failed");
            Ok(None)
        }
    }
}

/// The preview already in storage, with its size.
async fn stored(app: &App, key: &str) -> Result<Option<(String, u64)>, AppError> {
    let size = app.storage.size(key).await.map_err(AppError::internal)?;
    Ok(size.map(|s| (key.to_string(), s)))
}

async fn convert(app: &App, command: &str, blob: &crate::uploads::store::Blob, dir: &Path, key: &str) -> Result<u64, String> {
    let input = dir.join(format!("document.{}", blob.format));
    let bytes = app.storage.read(&blob.storage_key).await.map_err(|e| e.to_string())?;
    tokio::fs::write(&input, &bytes).await.map_err(|e| e.to_string())?;
    // A profile of its own, so conversions never share (or lock) a user's LibreOffice profile.
    let profile = format!("-env:UserInstallation=file://{}", dir.join("profile").display());
    let run = tokio::process::Command::new(command)
        .args([profile.as_str(), "--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(&input)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(TIMEOUT, run).await.map_err(|_| "timed out".to_string())?.map_err(|e| e.to_string())?;
    let pdf = dir.join("document.pdf");
    if !out.status.success() || !pdf.exists() {
        return Err(format!("LibreOffice failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    app.storage.put_file(key, &pdf).await.map_err(|e| e.to_string())
}

//! File uploads: a multipart form streamed to a temporary file under the data directory, never
//! held in memory, with its small text fields beside it. CSRF is checked for session users (a
//! cross-site page can post multipart forms); API tokens are not sent by browsers on their own.

use crate::auth::{Actor, Credential};
use crate::error::AppError;
use crate::state::App;
use axum::extract::{FromRequest, Multipart, Request};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Text fields are form options: anything longer is refused.
const MAX_FIELD_BYTES: usize = 4096;

pub struct Upload {
    pub fields: HashMap<String, String>,
    /// The name the browser gave the file (display only; never used as a path).
    pub file_name: String,
    pub size: u64,
    path: Option<PathBuf>,
}

impl Upload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.field(name), "on" | "true" | "1")
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Moves the file to `dest` for keeps; otherwise it is deleted when the upload is dropped.
    pub async fn keep(mut self, dest: &Path) -> std::io::Result<()> {
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let from = self.path.take().unwrap_or_default();
        tokio::fs::rename(&from, dest).await
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl FromRequest<App> for Upload {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let actor = req.extensions().get::<Actor>().cloned();
        let max = app.config.max_upload_mb * 1024 * 1024;
        let mut multipart =
            Multipart::from_request(req, app).await.map_err(|_| AppError::invalid("file", "error-upload-malformed"))?;
        let dir = app.config.data_dir.join("uploads");
        tokio::fs::create_dir_all(&dir).await.map_err(AppError::internal)?;
        let mut upload = Upload { fields: HashMap::new(), file_name: String::new(), size: 0, path: None };
        while let Some(mut field) =
            multipart.next_field().await.map_err(|_| AppError::invalid("file", "error-upload-malformed"))?
        {
            let name = field.name().unwrap_or("").to_string();
            if let Some(file_name) = field.file_name().map(str::to_string) {
                if upload.path.is_some() {
                    return Err(AppError::invalid("file", "error-upload-one-file"));
                }
                let path = dir.join(format!("tmp-{}", crate::secret::random_token(12)));
                upload.path = Some(path.clone());
                upload.file_name = file_name;
                let mut out = tokio::fs::File::create(&path).await.map_err(AppError::internal)?;
                while let Some(chunk) = field.chunk().await.map_err(|_| AppError::invalid("file", "error-upload-malformed"))? {
                    upload.size += chunk.len() as u64;
                    if upload.size > max {
                        return Err(AppError::TooLarge);
                    }
                    out.write_all(&chunk).await.map_err(AppError::internal)?;
                }
                out.flush().await.map_err(AppError::internal)?;
            } else {
                let text = field.text().await.map_err(|_| AppError::invalid(name.clone(), "error-upload-malformed"))?;
                if text.len() > MAX_FIELD_BYTES {
                    return Err(AppError::invalid(name, "error-field-malformed"));
                }
                upload.fields.insert(name, text);
            }
        }
        if let Some(a) = &actor
            && a.credential == Credential::Session
            && !crate::secret::same(upload.field("_csrf"), &a.csrf)
        {
            return Err(AppError::Csrf);
        }
        if upload.path.is_none() || upload.size == 0 {
            return Err(AppError::invalid("file", "error-upload-empty"));
        }
        Ok(upload)
    }
}

/// A file of a [`FilesForm`], held in memory.
pub struct FormFile {
    pub field: String,
    /// The name the browser gave the file (display only).
    pub name: String,
    pub bytes: axum::body::Bytes,
}

/// A multipart form of text fields (repeated names kept in order, as checkbox lists send them)
/// and a few small files held in memory: homework and hand-ins with their photos. Each file may
/// be `classroom.max_attachment_mb`, and there may be `classroom.max_attachments` of them; file
/// inputs left empty are skipped, and text fields may total 256 KiB. CSRF is checked for session
/// users: the `_csrf` field, or an `X-CSRF-Token` header.
pub struct FilesForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FormFile>,
}

impl FilesForm {
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "on" | "true" | "1")
    }

    /// The numbers among the values of `name`; a value that is not one is refused, naming the field.
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, AppError> {
        self.all(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse().map_err(|_| AppError::invalid(name, "error-field-malformed")))
            .collect()
    }
}

impl FromRequest<App> for FilesForm {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let actor = req.extensions().get::<Actor>().cloned();
        let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let limits = &app.config.classroom;
        let max_file = limits.max_attachment_mb * 1024 * 1024;
        let mut multipart =
            Multipart::from_request(req, app).await.map_err(|_| AppError::invalid("files", "error-upload-malformed"))?;
        let mut form = FilesForm { fields: Vec::new(), files: Vec::new() };
        let mut text_bytes = 0;
        while let Some(mut field) =
            multipart.next_field().await.map_err(|_| AppError::invalid("files", "error-upload-malformed"))?
        {
            let name = field.name().unwrap_or("").to_string();
            if let Some(file_name) = field.file_name().map(str::to_string) {
                let mut bytes = Vec::new();
                while let Some(chunk) =
                    field.chunk().await.map_err(|_| AppError::invalid(name.clone(), "error-upload-malformed"))?
                {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > max_file {
                        return Err(AppError::Invalid(vec![
                            crate::error::FieldError::new(name, "error-file-too-large")
                                .arg("name", file_name)
                                .arg("max", limits.max_attachment_mb),
                        ]));
                    }
                }
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                if form.files.len() >= limits.max_attachments {
                    return Err(AppError::Invalid(vec![
                        crate::error::FieldError::new(name, "error-too-many-files").arg("max", limits.max_attachments),
                    ]));
                }
                form.files.push(FormFile { field: name, name: file_name, bytes: bytes.into() });
            } else {
                let text = field.text().await.map_err(|_| AppError::invalid(name.clone(), "error-upload-malformed"))?;
                text_bytes += text.len();
                if text_bytes > 256 * 1024 {
                    return Err(AppError::invalid(name, "error-field-malformed"));
                }
                form.fields.push((name, text));
            }
        }
        // A page sends the token as a field; a script calling the API with the session, in the
        // X-CSRF-Token header (which a cross-site form cannot set).
        let sent = if form.get("_csrf").is_empty() { header_token.as_str() } else { form.get("_csrf") };
        if let Some(a) = &actor
            && a.credential == Credential::Session
            && !crate::secret::same(sent, &a.csrf)
        {
            return Err(AppError::Csrf);
        }
        Ok(form)
    }
}

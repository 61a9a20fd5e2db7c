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

//! The storage interface, the same checks on both backends: a local directory, and a real
//! S3-protocol server (moto's, `python3 -m moto.server`, which the test starts;
//! `HANLIN_TEST_S3_ENDPOINT` names a running one instead, with a bucket `HANLIN_TEST_S3_BUCKET`).

use bytes::Bytes;
use futures_util::StreamExt;
use kernel::config::{S3Config, StorageBackend, StorageConfig};
use kernel::storage::{Storage, StorageError};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A file bigger than two parts, with no repeating period that would hide misplaced bytes.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

async fn read_all(storage: &Storage, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let mut body = storage.get(key, range).await.expect("get").body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    out
}

async fn exercise(storage: Storage, prefix: &str) {
    storage.check().await.expect("check");
    let small = format!("{prefix}/small.txt");
    storage.put(&small, Bytes::from_static(b"hello, hanlin")).await.unwrap();
    assert_eq!(storage.size(&small).await.unwrap(), Some(13));
    assert_eq!(&storage.read(&small).await.unwrap()[..], b"hello, hanlin");
    let part = storage.get(&small, Some(7..100)).await.unwrap();
    assert_eq!((part.size, part.range.clone()), (13, 7..13), "an end past the file reads to its end");
    assert_eq!(read_all(&storage, &small, Some(0..5)).await, b"hello");
    for bad in [13..20, 20..30, 5..5] {
        assert!(matches!(storage.get(&small, Some(bad.clone())).await, Err(StorageError::BadRange { .. })), "{bad:?}");
    }

    // Streamed in pieces that do not line up with the 8 MiB parts.
    let data = pattern((20 << 20) + 3);
    let big = format!("{prefix}/big.bin");
    let pieces: Vec<Result<Bytes, std::io::Error>> = data.chunks(1_000_003).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let written = storage.put_stream(&big, futures_util::stream::iter(pieces)).await.unwrap();
    assert_eq!(written, data.len() as u64);
    assert_eq!(storage.size(&big).await.unwrap(), Some(data.len() as u64));
    let seam = 8u64 << 20;
    assert_eq!(read_all(&storage, &big, Some(seam - 10..seam + 10)).await, &data[seam as usize - 10..seam as usize + 10]);
    assert!(read_all(&storage, &big, None).await == data, "whole file");

    // A body that fails part-way leaves nothing behind.
    let broken = format!("{prefix}/broken.bin");
    let pieces = vec![Ok(Bytes::from(pattern(9 << 20))), Err(std::io::Error::other("connection dropped"))];
    let err = storage.put_stream(&broken, futures_util::stream::iter(pieces)).await.unwrap_err();
    assert!(matches!(err, StorageError::Io(_)), "{err}");
    assert_eq!(storage.size(&broken).await.unwrap(), None);

    let dir = std::env::temp_dir().join(format!("hanlin-storage-{}", kernel::secret::random_token(6)));
    std::fs::write(&dir, &data[..(3 << 20)]).unwrap();
    let from_file = format!("{prefix}/from-file.bin");
    assert_eq!(storage.put_file(&from_file, &dir).await.unwrap(), 3 << 20);
    std::fs::remove_file(&dir).unwrap();
    assert!(read_all(&storage, &from_file, None).await == data[..(3 << 20)]);

    let copy = format!("{prefix}/copy.txt");
    storage.copy(&small, &copy).await.unwrap();
    assert_eq!(&storage.read(&copy).await.unwrap()[..], b"hello, hanlin");
    storage.delete(&copy).await.unwrap();
    storage.delete(&copy).await.expect("deleting what is gone is fine");
    assert_eq!(storage.size(&copy).await.unwrap(), None);
    assert!(matches!(storage.get(&copy, None).await, Err(StorageError::NotFound(_))));
    assert!(matches!(storage.put("../escape", Bytes::new()).await, Err(StorageError::BadKey(_))));
    for key in [small, big, from_file] {
        storage.delete(&key).await.unwrap();
    }
}

#[tokio::test]
async fn local_directory() {
    let root = std::env::temp_dir().join(format!("hanlin-storage-{}", kernel::secret::random_token(6)));
    let config = StorageConfig { path: Some(root.clone()), ..StorageConfig::default() };
    exercise(Storage::open(&config, &root).unwrap(), "files").await;
    let left: Vec<_> = walk(&root);
    std::fs::remove_dir_all(&root).unwrap();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .collect()
}

#[tokio::test]
async fn s3_compatible_store() {
    let Some(server) = S3Server::start() else {
        eprintln!("SKIPPED: moto is not installed (pip install 'moto[server]') and HANLIN_TEST_S3_ENDPOINT is unset");
        return;
    };
    let config = StorageConfig {
        backend: StorageBackend::S3,
        path: None,
        s3: S3Config {
            endpoint: server.endpoint.clone(),
            bucket: server.bucket.clone(),
            access_key_id: "hanlin".into(),
            secret_access_key: "hanlin-test-secret".into(),
            ..S3Config::default()
        },
    };
    let storage = Storage::open(&config, std::path::Path::new(".")).unwrap();
    exercise(storage, &format!("t-{}", kernel::secret::random_token(6).replace(['-', '_'], "x"))).await;

    // A bucket that does not exist is reported by the start-up check.
    let missing = StorageConfig { s3: S3Config { bucket: "no-such-bucket".into(), ..config.s3.clone() }, ..config };
    assert!(Storage::open(&missing, std::path::Path::new(".")).unwrap().check().await.is_err());
}

/// moto's S3 server on a free port, stopped when dropped.
struct S3Server {
    child: Option<Child>,
    endpoint: String,
    bucket: String,
}

impl S3Server {
    fn start() -> Option<S3Server> {
        if let Ok(endpoint) = std::env::var("HANLIN_TEST_S3_ENDPOINT") {
            let bucket = std::env::var("HANLIN_TEST_S3_BUCKET").unwrap_or_else(|_| "hanlin-test".into());
            return Some(S3Server { child: None, endpoint, bucket });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let installed = Command::new("python3").args(["-c", "import moto.server"]).status().ok()?.success();
        if !installed {
            return None;
        }
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = S3Server { child: Some(child), endpoint: format!("http://127.0.0.1:{port}"), bucket: "hanlin-test".into() };
        let started = Instant::now();
        while http(port, "GET", "/moto-api/") != Some(200) {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        // moto creates a bucket on an unsigned PUT.
        assert_eq!(http(port, "PUT", &format!("/{}", server.bucket)), Some(200), "create the bucket");
        Some(server)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The status of a bodiless HTTP/1.1 request, or None if nothing answers.
fn http(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

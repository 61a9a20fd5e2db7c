//! Content sniffing for files uploaded to the resource library.
//!
//! A file name is only a claim. Before a file is stored, its first bytes are checked against the format its
//! extension declares, so that an executable renamed `.mp4` or a web page renamed `.pdf` never reaches pupils'
//! browsers under a trusted type. Nothing is unpacked or decoded: the checks look at fixed signatures and, for
//! zip-based formats, at the entry names in the local headers that fall inside the first bytes.

/// What a file is for, as the library groups and presents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Document,
    Presentation,
    Spreadsheet,
    Pdf,
    Image,
    Video,
    Audio,
    Text,
    Archive,
    Ebook,
}

/// An accepted format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The canonical lowercase extension, e.g. "pptx", "jpg" (for .jpeg too).
    pub id: &'static str,
    pub mime: &'static str,
    pub kind: Kind,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// A program or script, by its content or by its extension.
    Executable,
    UnknownExtension {
        extension: String,
    },
    /// The content is not what the extension says.
    Mismatch {
        declared: &'static str,
        /// The format id the content looks like, when recognised.
        found: Option<&'static str>,
    },
    /// A format a browser would run scripts in (web pages, SVG, XML).
    ActiveContent {
        extension: String,
    },
}

/// How many leading bytes sniff wants.
pub const HEAD_BYTES: usize = 8192;

const PDF: Format = Format { id: "pdf", mime: "application/pdf", kind: Kind::Pdf };
const PNG: Format = Format { id: "png", mime: "image/png", kind: Kind::Image };
const JPG: Format = Format { id: "jpg", mime: "image/jpeg", kind: Kind::Image };
const GIF: Format = Format { id: "gif", mime: "image/gif", kind: Kind::Image };
const WEBP: Format = Format { id: "webp", mime: "image/webp", kind: Kind::Image };
const BMP: Format = Format { id: "bmp", mime: "image/bmp", kind: Kind::Image };
const MP4: Format = Format { id: "mp4", mime: "video/mp4", kind: Kind::Video };
const M4V: Format = Format { id: "m4v", mime: "video/mp4", kind: Kind::Video };
const MOV: Format = Format { id: "mov", mime: "video/quicktime", kind: Kind::Video };
const WEBM: Format = Format { id: "webm", mime: "video/webm", kind: Kind::Video };
const MKV: Format = Format { id: "mkv", mime: "video/x-matroska", kind: Kind::Video };
const AVI: Format = Format { id: "avi", mime: "video/x-msvideo", kind: Kind::Video };
const FLV: Format = Format { id: "flv", mime: "video/x-flv", kind: Kind::Video };
const MP3: Format = Format { id: "mp3", mime: "audio/mpeg", kind: Kind::Audio };
const M4A: Format = Format { id: "m4a", mime: "audio/mp4", kind: Kind::Audio };
const WAV: Format = Format { id: "wav", mime: "audio/wav", kind: Kind::Audio };
const OGG: Format = Format { id: "ogg", mime: "audio/ogg", kind: Kind::Audio };
const FLAC: Format = Format { id: "flac", mime: "audio/flac", kind: Kind::Audio };
const DOCX: Format =
    Format { id: "docx", mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", kind: Kind::Document };
const PPTX: Format = Format {
    id: "pptx",
    mime: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    kind: Kind::Presentation,
};
const XLSX: Format =
    Format { id: "xlsx", mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", kind: Kind::Spreadsheet };
const DOC: Format = Format { id: "doc", mime: "application/msword", kind: Kind::Document };
const PPT: Format = Format { id: "ppt", mime: "application/vnd.ms-powerpoint", kind: Kind::Presentation };
const XLS: Format = Format { id: "xls", mime: "application/vnd.ms-excel", kind: Kind::Spreadsheet };
const ZIP: Format = Format { id: "zip", mime: "application/zip", kind: Kind::Archive };
const RAR: Format = Format { id: "rar", mime: "application/vnd.rar", kind: Kind::Archive };
const SEVEN_ZIP: Format = Format { id: "7z", mime: "application/x-7z-compressed", kind: Kind::Archive };
// Text formats are listed as UTF-8; `sniff` drops the charset when the content is in another encoding.
const TXT: Format = Format { id: "txt", mime: "text/plain; charset=utf-8", kind: Kind::Text };
const MD: Format = Format { id: "md", mime: "text/markdown; charset=utf-8", kind: Kind::Text };
const CSV: Format = Format { id: "csv", mime: "text/csv; charset=utf-8", kind: Kind::Text };
const EPUB: Format = Format { id: "epub", mime: "application/epub+zip", kind: Kind::Ebook };

static ACCEPTED: [Format; 31] = [
    PDF, DOCX, PPTX, XLSX, DOC, PPT, XLS, PNG, JPG, GIF, WEBP, BMP, MP4, M4V, MOV, WEBM, MKV, AVI, FLV, MP3, M4A, WAV, OGG, FLAC,
    TXT, MD, CSV, EPUB, ZIP, RAR, SEVEN_ZIP,
];

/// Programs and scripts, refused whatever their content: a harmless-looking file with one of these extensions
/// would still be run when a pupil opens the download.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "com", "scr", "cpl", "pif", "msi", "msp", "msix", "appx", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js",
    "jse", "mjs", "wsf", "wsh", "hta", "lnk", "reg", "jar", "class", "apk", "ipa", "sh", "bash", "py", "pl", "rb", "php", "app",
    "dmg", "pkg", "deb", "rpm", "appimage", "so", "dylib",
];

/// Formats a browser runs scripts in when it displays them.
const ACTIVE_EXTENSIONS: &[&str] = &["html", "htm", "shtml", "xhtml", "xht", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt"];

/// The format the file name declares, if it is one we accept (case-insensitive extension, handles names with
/// several dots and Chinese characters, no extension → None).
pub fn declared(file_name: &str) -> Option<Format> {
    lookup(&extension(file_name))
}

/// Decides on a file from its name, its total size and its first bytes (at most 8 KiB are passed; fewer when the
/// file is smaller).
///
/// Archives are accepted without looking inside: a zip whose first entry is `setup.exe` is stored as a zip,
/// because the library never unpacks archives and serves them only as downloads.
pub fn sniff(file_name: &str, size: u64, head: &[u8]) -> Result<Format, Refusal> {
    if size == 0 {
        return Err(Refusal::Empty);
    }
    let extension = extension(file_name);
    if is_executable(head) || EXECUTABLE_EXTENSIONS.contains(&extension.as_str()) {
        return Err(Refusal::Executable);
    }
    if ACTIVE_EXTENSIONS.contains(&extension.as_str()) {
        return Err(Refusal::ActiveContent { extension });
    }
    let Some(declared) = lookup(&extension) else {
        return Err(Refusal::UnknownExtension { extension });
    };
    // A head shorter than the file was cut, possibly inside a multi-byte character.
    let cut = (head.len() as u64) < size;
    confirm(declared, head, cut)
        .ok_or_else(|| Refusal::Mismatch { declared: declared.id, found: recognise(head, cut).map(|f| f.id) })
}

/// Formats the browser may show inline (pdf, images, video, audio, text); everything else is served as a download.
pub fn inline(format: &Format) -> bool {
    matches!(format.kind, Kind::Pdf | Kind::Image | Kind::Video | Kind::Audio | Kind::Text)
}

/// All accepted formats, for documentation and the upload page's `accept` attribute.
///
/// One entry per id; the aliases .jpeg, .jfif and .oga are accepted too, and are covered by listing the MIME
/// types alongside the extensions.
pub fn accepted() -> &'static [Format] {
    &ACCEPTED
}

/// The lowercase extension of a file name, or "" when it has none.
fn extension(file_name: &str) -> String {
    // Old browsers on Windows send the whole client path.
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    // Windows drops trailing dots and spaces when it saves a file, so "x.exe. " lands on disk as "x.exe".
    let base = base.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    base.rsplit_once('.').map(|(_, extension)| extension.to_lowercase()).unwrap_or_default()
}

fn lookup(extension: &str) -> Option<Format> {
    let id = match extension {
        "jpeg" | "jfif" => "jpg",
        "oga" => "ogg",
        other => other,
    };
    ACCEPTED.iter().copied().find(|f| f.id == id)
}

/// Signatures of Windows, Linux, macOS and Java programs, and of scripts that name their interpreter.
fn is_executable(head: &[u8]) -> bool {
    const SIGNATURES: [&[u8]; 9] = [
        b"MZ",
        b"\x7fELF",
        b"#!",
        // Mach-O, 32 and 64 bits, in both byte orders.
        b"\xFE\xED\xFA\xCE",
        b"\xFE\xED\xFA\xCF",
        b"\xCE\xFA\xED\xFE",
        b"\xCF\xFA\xED\xFE",
        // Universal (fat) Mach-O; Java class files share this magic and are refused as well.
        b"\xCA\xFE\xBA\xBE",
        b"\xCA\xFE\xBA\xBF",
    ];
    SIGNATURES.iter().any(|signature| head.starts_with(signature))
}

/// The declared format (with the charset the text turned out to have) when the content bears it out.
fn confirm(declared: Format, head: &[u8], cut: bool) -> Option<Format> {
    match declared.id {
        "txt" | "md" | "csv" => text(declared, head, cut),
        "docx" | "pptx" | "xlsx" => match package(head)? {
            Package::Office(program) => program.is_none_or(|program| program == declared).then_some(declared),
            Package::Epub | Package::Plain => None,
        },
        "epub" => matches!(package(head)?, Package::Epub).then_some(declared),
        "zip" => package(head).map(|_| declared),
        id => has_signature(id, head).then_some(declared),
    }
}

/// What the content looks like, to tell the uploader what the file really is.
fn recognise(head: &[u8], cut: bool) -> Option<Format> {
    if let Some(package) = package(head) {
        return Some(match package {
            Package::Office(Some(program)) => program,
            Package::Epub => EPUB,
            Package::Office(None) | Package::Plain => ZIP,
        });
    }
    if matches!(head.get(4..8), Some(b"ftyp")) {
        return Some(match head.get(8..12) {
            Some(b"M4A ") => M4A,
            Some(b"qt  ") => MOV,
            _ => MP4,
        });
    }
    if head.starts_with(EBML) {
        // The EBML header names its document type right after the magic.
        return Some(if contains(&head[..head.len().min(64)], b"webm") { WEBM } else { MKV });
    }
    // Legacy Office files are left out: only their directory, which may lie beyond the head, tells Word from Excel.
    // The PDF marker may sit anywhere in the first KiB, so the signatures at fixed places go first.
    [PNG, JPG, GIF, WEBP, BMP, MOV, AVI, FLV, MP3, WAV, OGG, FLAC, RAR, SEVEN_ZIP, PDF]
        .into_iter()
        .find(|format| has_signature(format.id, head))
        .or_else(|| text(TXT, head, cut))
}

const EBML: &[u8] = b"\x1A\x45\xDF\xA3";

/// Whether the content carries the signature of the binary format `id`.
fn has_signature(id: &str, head: &[u8]) -> bool {
    match id {
        // PDF readers allow junk before the marker within the first KiB.
        "pdf" => contains(&head[..head.len().min(1024)], b"%PDF-"),
        "png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" => head.starts_with(b"\xFF\xD8\xFF"),
        "gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "webp" => riff(head, b"WEBP"),
        // "BM" also starts ordinary words; the size of the header that follows pins it down.
        "bmp" => head.starts_with(b"BM") && matches!(le32(head, 14), Some(12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)),
        // All ISO media files start with an ftyp box, whatever their brand, and players treat them alike.
        "mp4" | "m4v" | "m4a" => matches!(head.get(4..8), Some(b"ftyp")),
        // Older QuickTime files start straight with a movie, data or padding atom.
        "mov" => matches!(head.get(4..8), Some(b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free")),
        "webm" | "mkv" => head.starts_with(EBML),
        "avi" => riff(head, b"AVI "),
        "flv" => head.starts_with(b"FLV\x01"),
        "mp3" => is_mp3(head),
        "wav" => riff(head, b"WAVE"),
        "ogg" => head.starts_with(b"OggS"),
        "flac" => head.starts_with(b"fLaC"),
        // One OLE2 container for Word, PowerPoint and Excel; which one is only in its directory.
        "doc" | "ppt" | "xls" => head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
        "rar" => head.starts_with(b"Rar!\x1A\x07"),
        "7z" => head.starts_with(b"7z\xBC\xAF\x27\x1C"),
        _ => false,
    }
}

fn riff(head: &[u8], form: &[u8; 4]) -> bool {
    head.starts_with(b"RIFF") && head.get(8..12) == Some(form.as_slice())
}

/// An ID3v2 tag, or an MPEG audio frame header: 11 sync bits, then a version that is not the reserved one and
/// layer III. Requiring layer III also keeps out the UTF-16 byte order mark FF FE.
fn is_mp3(head: &[u8]) -> bool {
    match head {
        [b'I', b'D', b'3', 2..=4, ..] => true,
        [0xFF, flags, ..] => flags & 0xE0 == 0xE0 && flags & 0x18 != 0x08 && flags & 0x06 == 0x02,
        _ => false,
    }
}

/// Text in the declared text format, labelled UTF-8 when it is; None for binary content.
fn text(declared: Format, head: &[u8], cut: bool) -> Option<Format> {
    let unlabelled = Format { mime: declared.mime.split_once(';').map_or(declared.mime, |(mime, _)| mime), ..declared };
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Some(declared);
    }
    // Browsers and editors read the encoding from a UTF-16 byte order mark themselves.
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some(unlabelled);
    }
    if head.contains(&0) {
        return None;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return Some(declared),
        // No error length means the bytes ran out inside a character: expected where the head was cut.
        Err(e) if cut && e.error_len().is_none() => return Some(declared),
        Err(_) => {}
    }
    // Text in a legacy encoding such as GBK has no NUL and no control characters but layout ones. Markdown tools
    // expect UTF-8, so only plain text and CSV are taken this way.
    let layout_only = head.iter().all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B));
    (declared.id != "md" && layout_only).then_some(unlabelled)
}

/// What a zip archive's first entries make it.
enum Package {
    /// An Office Open XML package; the program is known when an entry under word/, ppt/ or xl/ is in the head.
    Office(Option<Format>),
    Epub,
    Plain,
}

/// The kind of zip archive the head starts, or None when it is not a zip.
fn package(head: &[u8]) -> Option<Package> {
    // An empty archive is only its end-of-directory record.
    if head.starts_with(b"PK\x05\x06") {
        return Some(Package::Plain);
    }
    if !head.starts_with(b"PK\x03\x04") {
        return None;
    }
    let mut entries = entries(head);
    let Some(first) = entries.next() else {
        return Some(Package::Plain);
    };
    // An EPUB starts with an uncompressed "mimetype" entry; OpenDocument files do too, with another content.
    if first.name == b"mimetype" && first.stored.is_none_or(|data| data.starts_with(b"application/epub+zip")) {
        return Some(Package::Epub);
    }
    if !is_office_part(first.name) {
        return Some(Package::Plain);
    }
    let program = program(first.name).or_else(|| entries.find_map(|entry| program(entry.name)));
    Some(Package::Office(program))
}

/// Names Office Open XML packages start with. Part names compare without regard to ASCII case.
fn is_office_part(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"[Content_Types].xml")
        || name.eq_ignore_ascii_case(b"_rels/.rels")
        || starts_with_ignore_case(name, b"docProps/")
        || starts_with_ignore_case(name, b"customXml/")
        || program(name).is_some()
}

/// The Office format whose main folder holds the entry.
fn program(name: &[u8]) -> Option<Format> {
    [(b"word/".as_slice(), DOCX), (b"ppt/", PPTX), (b"xl/", XLSX)]
        .into_iter()
        .find_map(|(folder, format)| starts_with_ignore_case(name, folder).then_some(format))
}

struct Entry<'a> {
    name: &'a [u8],
    /// The entry's bytes, as far as the head goes, when stored without compression.
    stored: Option<&'a [u8]>,
}

/// The entries whose local headers lie in the head, in order. The walk stops at an entry whose size is only given
/// after its data (a data descriptor) or does not fit in 32 bits, because the next header cannot be found then.
fn entries(head: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    let mut rest = Some(head);
    std::iter::from_fn(move || {
        let header = rest.take()?;
        if !header.starts_with(b"PK\x03\x04") {
            return None;
        }
        let flags = le16(header, 6)?;
        let method = le16(header, 8)?;
        let compressed_size = le32(header, 18)?;
        let name_end = 30 + usize::from(le16(header, 26)?);
        let name = header.get(30..name_end)?;
        let data = header.get(name_end + usize::from(le16(header, 28)?)..).unwrap_or_default();
        if flags & 0x08 == 0 && compressed_size != u32::MAX {
            rest = data.get(compressed_size as usize..);
        }
        Some(Entry { name, stored: (method == 0).then_some(data) })
    })
}

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn starts_with_ignore_case(name: &[u8], prefix: &[u8]) -> bool {
    name.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip archive's local headers, each entry stored uncompressed.
    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (name, data) in entries {
            bytes.extend_from_slice(b"PK\x03\x04");
            bytes.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(data);
        }
        bytes
    }

    fn riff_head(form: &[u8; 4]) -> Vec<u8> {
        [b"RIFF\x24\x08\x00\x00".as_slice(), form, b"fmt "].concat()
    }

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        [b"\x00\x00\x00\x20ftyp".as_slice(), brand, b"\x00\x00\x02\x00isomiso2mp41"].concat()
    }

    const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00";

    /// A minimal head for each accepted format.
    fn sample(id: &str) -> Vec<u8> {
        match id {
            "pdf" => b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec(),
            "png" => b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0DIHDR\x00\x00\x00\x01".to_vec(),
            "jpg" => b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec(),
            "gif" => b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec(),
            "webp" => riff_head(b"WEBP"),
            "bmp" => [b"BM\x3A\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00".as_slice(), b"\x28\x00\x00\x00"].concat(),
            "mp4" | "m4v" => ftyp(b"isom"),
            "mov" => ftyp(b"qt  "),
            "webm" => b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm".to_vec(),
            "mkv" => b"\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\x82\x88matroska".to_vec(),
            "avi" => riff_head(b"AVI "),
            "flv" => b"FLV\x01\x05\x00\x00\x00\x09".to_vec(),
            "mp3" => b"ID3\x04\x00\x00\x00\x00\x00\x21".to_vec(),
            "m4a" => ftyp(b"M4A "),
            "wav" => riff_head(b"WAVE"),
            "ogg" => b"OggS\x00\x02\x00\x00\x00\x00".to_vec(),
            "flac" => b"fLaC\x00\x00\x00\x22".to_vec(),
            "docx" => zip(&[("[Content_Types].xml", b"<?xml?>"), ("word/document.xml", b"<w:document/>")]),
            "pptx" => zip(&[("[Content_Types].xml", b"<?xml?>"), ("ppt/presentation.xml", b"<p:presentation/>")]),
            "xlsx" => zip(&[("[Content_Types].xml", b"<?xml?>"), ("xl/workbook.xml", b"<workbook/>")]),
            "doc" | "ppt" | "xls" => OLE2.to_vec(),
            "zip" => zip(&[("课件/photo.jpg", b"\xFF\xD8\xFF")]),
            "rar" => b"Rar!\x1A\x07\x01\x00".to_vec(),
            "7z" => b"7z\xBC\xAF\x27\x1C\x00\x04".to_vec(),
            "txt" | "csv" => "姓名,成绩\n张三,95\n".as_bytes().to_vec(),
            "md" => "# 勾股定理\n\na² + b² = c²\n".as_bytes().to_vec(),
            "epub" => zip(&[("mimetype", b"application/epub+zip"), ("META-INF/container.xml", b"<container/>")]),
            other => panic!("no sample for {other}"),
        }
    }

    fn check(file_name: &str, head: &[u8]) -> Result<Format, Refusal> {
        sniff(file_name, head.len() as u64, head)
    }

    fn mismatch(declared: &'static str, found: Option<&'static str>) -> Result<Format, Refusal> {
        Err(Refusal::Mismatch { declared, found })
    }

    #[test]
    fn every_accepted_format_is_recognised_from_a_minimal_head() {
        for format in accepted() {
            let head = sample(format.id);
            assert_eq!(check(&format!("资料.{}", format.id), &head), Ok(*format), "{}", format.id);
        }
    }

    #[test]
    fn accepted_ids_are_unique_lowercase_and_declared_by_their_own_extension() {
        for (i, format) in accepted().iter().enumerate() {
            assert_eq!(format.id, format.id.to_lowercase());
            assert!(accepted()[..i].iter().all(|other| other.id != format.id), "{} twice", format.id);
            assert_eq!(declared(&format!("x.{}", format.id)), Some(*format));
        }
    }

    #[test]
    fn aliases_map_to_canonical_ids() {
        assert_eq!(declared("photo.JPEG").map(|f| f.id), Some("jpg"));
        assert_eq!(declared("photo.jfif").map(|f| f.id), Some("jpg"));
        assert_eq!(declared("song.oga").map(|f| f.id), Some("ogg"));
        assert_eq!(check("photo.jpeg", &sample("jpg")), Ok(JPG));
    }

    #[test]
    fn declared_reads_the_last_extension_of_any_name() {
        assert_eq!(declared("勾股定理.pptx"), Some(PPTX));
        assert_eq!(declared("课件.PPTX"), Some(PPTX));
        assert_eq!(declared("第一章.复习.v2.pdf"), Some(PDF));
        assert_eq!(declared(r"C:\Users\老师\Desktop\教案.docx"), Some(DOCX));
        assert_eq!(declared("folder.pdf/notes"), None);
        assert_eq!(declared("no_extension"), None);
        assert_eq!(declared("trailing."), None);
        assert_eq!(declared("a.tar.gz"), None);
        assert_eq!(declared(""), None);
    }

    #[test]
    fn upper_case_extension_is_accepted() {
        assert_eq!(check("课件.PPTX", &sample("pptx")), Ok(PPTX));
    }

    #[test]
    fn empty_file_is_refused_first() {
        assert_eq!(sniff("empty.pdf", 0, b""), Err(Refusal::Empty));
        assert_eq!(sniff("virus.exe", 0, b""), Err(Refusal::Empty));
    }

    #[test]
    fn executable_content_is_refused_whatever_the_name() {
        let pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF";
        assert_eq!(check("第三课.mp4", pe), Err(Refusal::Executable));
        assert_eq!(check("report.pdf", b"\x7fELF\x02\x01\x01\x00\x00\x00"), Err(Refusal::Executable));
        assert_eq!(check("readme.txt", b"#!/bin/sh\nrm -rf ~\n"), Err(Refusal::Executable));
        assert_eq!(check("app.mov", b"\xCF\xFA\xED\xFE\x07\x00\x00\x01"), Err(Refusal::Executable));
        assert_eq!(check("app.zip", b"\xCA\xFE\xBA\xBE\x00\x00\x00\x02"), Err(Refusal::Executable));
        assert_eq!(check("Main.pdf", b"\xCA\xFE\xBA\xBE\x00\x00\x00\x34"), Err(Refusal::Executable));
    }

    #[test]
    fn executable_extensions_are_refused_whatever_the_content() {
        for name in ["setup.exe", "a.DLL", "run.bat", "x.cmd", "x.ps1", "x.vbs", "x.js", "x.sh", "x.msi", "x.apk"] {
            assert_eq!(check(name, b"hello"), Err(Refusal::Executable), "{name}");
        }
        for name in ["x.jar", "x.scr", "x.com", "作业.pdf.exe"] {
            assert_eq!(check(name, &sample("pdf")), Err(Refusal::Executable), "{name}");
        }
        // Windows would save these as .exe.
        assert_eq!(check("x.exe.", b"hello"), Err(Refusal::Executable));
        assert_eq!(check("x.exe  ", b"hello"), Err(Refusal::Executable));
    }

    #[test]
    fn active_content_is_refused() {
        let page = b"<html><script>alert(1)</script></html>";
        assert_eq!(check("x.html", page), Err(Refusal::ActiveContent { extension: "html".into() }));
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        assert_eq!(check("x.svg", svg), Err(Refusal::ActiveContent { extension: "svg".into() }));
        assert_eq!(check("Page.HTM", page), Err(Refusal::ActiveContent { extension: "htm".into() }));
    }

    #[test]
    fn unknown_extensions_are_refused() {
        assert_eq!(check("no_extension", b"hello"), Err(Refusal::UnknownExtension { extension: String::new() }));
        assert_eq!(check("a.tar.gz", b"\x1F\x8B\x08\x00"), Err(Refusal::UnknownExtension { extension: "gz".into() }));
        assert_eq!(check("项目.h5p", &sample("zip")), Err(Refusal::UnknownExtension { extension: "h5p".into() }));
    }

    #[test]
    fn content_must_match_the_extension() {
        assert_eq!(check("scan.pdf", &sample("png")), mismatch("pdf", Some("png")));
        assert_eq!(check("photo.png", &sample("jpg")), mismatch("png", Some("jpg")));
        assert_eq!(check("movie.mp4", &sample("avi")), mismatch("mp4", Some("avi")));
        assert_eq!(check("book.epub", &sample("pdf")), mismatch("epub", Some("pdf")));
        assert_eq!(check("notes.pdf", "只是文字".as_bytes()), mismatch("pdf", Some("txt")));
        assert_eq!(check("x.doc", &sample("docx")), mismatch("doc", Some("docx")));
        assert_eq!(check("x.pdf", OLE2), mismatch("pdf", None));
    }

    #[test]
    fn docx_that_is_really_a_presentation_is_a_mismatch() {
        let first = zip(&[("ppt/slides/slide1.xml", b"<p:sld/>")]);
        assert_eq!(check("教案.docx", &first), mismatch("docx", Some("pptx")));
        // Office writes [Content_Types].xml first; the entries after it tell.
        assert_eq!(check("教案.docx", &sample("pptx")), mismatch("docx", Some("pptx")));
        assert_eq!(check("成绩.pptx", &sample("xlsx")), mismatch("pptx", Some("xlsx")));
    }

    #[test]
    fn office_package_whose_program_is_not_in_the_head_is_accepted() {
        let head = zip(&[("_rels/.rels", b"<Relationships/>"), ("docProps/app.xml", b"<Properties/>")]);
        assert_eq!(check("x.docx", &head), Ok(DOCX));
        assert_eq!(check("x.xlsx", &head), Ok(XLSX));
        assert_eq!(check("x.pdf", &head), mismatch("pdf", Some("zip")));
    }

    #[test]
    fn entries_after_a_data_descriptor_are_not_read() {
        let mut head = sample("pptx");
        // The first entry's size now comes after its data, so the ppt/ entry behind it cannot be found.
        head[6] = 0x08;
        assert_eq!(check("x.docx", &head), Ok(DOCX));
    }

    #[test]
    fn plain_zip_renamed_docx_is_a_mismatch() {
        assert_eq!(check("作业.docx", &zip(&[("photo.jpg", b"\xFF\xD8\xFF")])), mismatch("docx", Some("zip")));
    }

    #[test]
    fn any_zip_is_accepted_as_zip_without_unpacking() {
        assert_eq!(check("x.zip", b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00"), Ok(ZIP));
        assert_eq!(check("x.zip", &sample("docx")), Ok(ZIP));
        // Stored, never unpacked or served inline, so a program inside does not run.
        assert_eq!(check("tools.zip", &zip(&[("setup.exe", b"MZ\x90\x00")])), Ok(ZIP));
    }

    #[test]
    fn epub_needs_its_mimetype_entry() {
        let odt = zip(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
        assert_eq!(check("book.epub", &odt), mismatch("epub", Some("zip")));
        assert_eq!(check("book.pdf", &sample("epub")), mismatch("pdf", Some("epub")));
    }

    #[test]
    fn legacy_office_files_share_one_container() {
        for name in ["x.doc", "x.ppt", "x.xls"] {
            assert_eq!(check(name, OLE2).map(|f| f.id), Ok(&name[2..]));
        }
    }

    #[test]
    fn iso_media_files_are_accepted_under_any_of_their_extensions() {
        for name in ["a.mp4", "a.m4v", "a.mov", "a.m4a"] {
            assert!(check(name, &ftyp(b"M4A ")).is_ok(), "{name}");
        }
        assert_eq!(check("a.mov", b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat"), Ok(MOV));
        assert_eq!(check("a.mp4", b"\x00\x00\x00\x08wide"), mismatch("mp4", Some("mov")));
        assert_eq!(check("a.pdf", &ftyp(b"M4A ")), mismatch("pdf", Some("m4a")));
        assert_eq!(check("a.pdf", &sample("mkv")), mismatch("pdf", Some("mkv")));
        assert_eq!(check("a.mkv", &sample("webm")), Ok(MKV));
    }

    #[test]
    fn mp3_frame_sync_is_not_fooled_by_text() {
        assert_eq!(check("a.mp3", b"\xFF\xFB\x90\x64\x00"), Ok(MP3));
        assert_eq!(check("a.mp3", b"\xFF\xF3\x40\xC4\x00"), Ok(MP3));
        assert_eq!(check("a.mp3", b"ID3 tags explained"), mismatch("mp3", Some("txt")));
        let utf16: Vec<u8> = "\u{FEFF}歌词".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(check("a.mp3", &utf16), mismatch("mp3", Some("txt")));
        assert_eq!(check("a.mp3", b"\xFF\xE1\x00"), mismatch("mp3", None));
    }

    #[test]
    fn bmp_needs_more_than_two_letters() {
        assert_eq!(check("a.bmp", b"BMW and Benz are car makers."), mismatch("bmp", Some("txt")));
    }

    #[test]
    fn pdf_marker_may_follow_junk_within_the_first_kib() {
        let mut head = vec![b' '; 1000];
        head.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(check("a.pdf", &head), Ok(PDF));
        let mut late = vec![b' '; 1020];
        late.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(check("a.pdf", &late), mismatch("pdf", Some("txt")));
    }

    #[test]
    fn gbk_text_is_accepted_without_a_charset() {
        // "勾股定理\r\n" in GBK.
        let gbk = b"\xB9\xB4\xB9\xC9\xB6\xA8\xC0\xED\r\n";
        assert_eq!(check("笔记.txt", gbk), Ok(Format { mime: "text/plain", ..TXT }));
        assert_eq!(check("名单.csv", gbk), Ok(Format { mime: "text/csv", ..CSV }));
        assert_eq!(check("笔记.md", gbk), mismatch("md", Some("txt")));
    }

    #[test]
    fn text_with_a_byte_order_mark_is_accepted() {
        assert_eq!(check("a.txt", b"\xEF\xBB\xBFhello"), Ok(TXT));
        let utf16: Vec<u8> = "\u{FEFF}你好".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(check("a.txt", &utf16), Ok(Format { mime: "text/plain", ..TXT }));
        assert_eq!(check("a.md", &utf16), Ok(Format { mime: "text/markdown", ..MD }));
    }

    #[test]
    fn binary_junk_is_not_text() {
        let junk = b"\x00\x13\x88\x42\x07\x00\x91\x3C";
        assert_eq!(check("a.txt", junk), mismatch("txt", None));
        assert_eq!(check("a.txt", &sample("png")), mismatch("txt", Some("png")));
        // Control characters rule out a legacy encoding, but UTF-8 text with a stray one is still text.
        assert_eq!(check("a.csv", b"\xD0\xD5\xC3\xFB,\x01\x02"), mismatch("csv", None));
        assert_eq!(check("a.csv", b"a,b\x1A"), Ok(CSV));
    }

    #[test]
    fn utf8_text_cut_inside_a_character_is_accepted() {
        let whole = "勾股定理".repeat(1000);
        let head = &whole.as_bytes()[..HEAD_BYTES];
        assert!(std::str::from_utf8(head).is_err(), "the cut should fall inside a character");
        assert_eq!(sniff("课文.txt", whole.len() as u64, head), Ok(TXT));
        assert_eq!(sniff("课文.md", whole.len() as u64, head), Ok(MD));
        // A file that really ends inside a character is not UTF-8.
        assert_eq!(sniff("课文.md", head.len() as u64, head), mismatch("md", Some("txt")));
    }

    #[test]
    fn only_viewable_kinds_are_inline() {
        for format in [PDF, PNG, MP4, MP3, TXT] {
            assert!(inline(&format), "{}", format.id);
        }
        for format in [DOCX, PPT, XLSX, ZIP, EPUB] {
            assert!(!inline(&format), "{}", format.id);
        }
    }
}

//! Small but real files for the demo library: each opens in the program its type names (a PDF with
//! Chinese text, a Word document, a bitmap, a WAV recording, a WebM clip), so the previews and
//! downloads of the demo show what a real library would.

use std::io::Write;

/// A 20-second 256×144 VP8/Opus test card, made once with
/// `ffmpeg -f lavfi -i testsrc2=duration=20:size=256x144:rate=8 -f lavfi -i sine=frequency=440:duration=20
///  -c:v libvpx -b:v 30k -g 16 -c:a libopus -b:a 12k -shortest lesson.webm`.
pub const LESSON_CLIP: &[u8] = include_bytes!("lesson.webm");
pub const LESSON_CLIP_SECONDS: i64 = 20;

/// A one-page A4 PDF: the title large, then the lines. Text is set in STSong-Light, one of the
/// standard Chinese fonts every PDF reader supplies, so nothing is embedded.
pub fn pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let mut content = format!("BT /F1 20 Tf 72 770 Td {} Tj /F1 12 Tf", ucs2_hex(title));
    for (i, line) in lines.iter().enumerate() {
        let gap = if i == 0 { 40 } else { 22 };
        content.push_str(&format!(" 0 -{gap} Td {} Tj", ucs2_hex(line)));
    }
    content.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>".to_string(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 >>"
            .to_string(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 \
         /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
            .to_string(),
    ];
    // All ASCII: the text is in hex strings.
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// Text as a PDF hex string of UTF-16 code units, which is what UniGB-UCS2-H reads.
fn ucs2_hex(text: &str) -> String {
    let mut s = String::from("<");
    for unit in text.encode_utf16() {
        s.push_str(&format!("{unit:04X}"));
    }
    s.push('>');
    s
}

/// A Word document of paragraphs, the first as a heading.
pub fn docx(title: &str, paragraphs: &[String]) -> Vec<u8> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut body = format!(
        "<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr><w:b/><w:sz w:val=\"36\"/></w:rPr><w:t>{}</w:t></w:r></w:p>",
        escape(title)
    );
    for p in paragraphs {
        body.push_str(&format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", escape(p)));
    }
    let parts = [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/word/document.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"
                .to_string(),
        ),
        (
            "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" \
             Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
             Target=\"word/document.xml\"/></Relationships>"
                .to_string(),
        ),
        (
            "word/document.xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
                 <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
            ),
        ),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(name, options).expect("writing to memory");
        zip.write_all(text.as_bytes()).expect("writing to memory");
    }
    zip.finish().expect("writing to memory").into_inner()
}

/// A 24-bit bitmap: a diagonal blend between two colours picked by `seed`.
pub fn bmp(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let row = (width * 3).div_ceil(4) * 4;
    let size = 54 + row * height;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    let colour = |k: u64| [(k * 67 % 200 + 40) as u32, (k * 131 % 200 + 40) as u32, (k * 29 % 200 + 40) as u32];
    let (a, b) = (colour(seed), colour(seed + 7));
    for y in 0..height {
        for x in 0..width {
            let t = (x + y) * 255 / (width + height);
            for c in (0..3).rev() {
                out.push(((a[c] * (255 - t) + b[c] * t) / 255) as u8);
            }
        }
        out.extend(std::iter::repeat_n(0, (row - width * 3) as usize));
    }
    out
}

/// An 8 kHz mono WAV of a tone that rises and falls, `seconds` long.
pub fn wav(seconds: u32, pitch: f64) -> Vec<u8> {
    let rate = 8000u32;
    let samples = rate * seconds;
    let mut out = Vec::with_capacity(44 + samples as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&samples.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let f = pitch * (1.0 + 0.25 * (t * 0.5).sin());
        out.push((128.0 + 40.0 * (std::f64::consts::TAU * f * t).sin()) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_what_its_extension_says() {
        let lines = vec!["教学目标".to_string(), "1. 理解勾股定理".to_string()];
        for (name, bytes) in [
            ("a.pdf", pdf("勾股定理", &lines)),
            ("a.docx", docx("勾股定理", &lines)),
            ("a.bmp", bmp(64, 36, 3)),
            ("a.wav", wav(2, 440.0)),
            ("a.webm", LESSON_CLIP.to_vec()),
        ] {
            let head = &bytes[..bytes.len().min(library::sniff::HEAD_BYTES)];
            let format = library::sniff::sniff(name, bytes.len() as u64, head);
            assert!(format.is_ok(), "{name}: {format:?}");
        }
    }

    #[test]
    fn the_pdf_cross_reference_points_at_its_objects() {
        let bytes = pdf("标题", &["一行".to_string()]);
        let text = String::from_utf8(bytes).unwrap();
        let start: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(text[start..].starts_with("xref"));
        let entries: Vec<usize> = text[start..].lines().skip(3).take(7).map(|l| l[..10].parse().unwrap()).collect();
        for (i, offset) in entries.iter().enumerate() {
            assert!(text[*offset..].starts_with(&format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
    }
}

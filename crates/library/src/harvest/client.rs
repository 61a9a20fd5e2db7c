//! The OAI-PMH client side: ListRecords in Dublin Core, page by page, read into plain records.

use quick_xml::events::Event;
use std::collections::BTreeMap;

/// One record as a harvester sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub identifier: String,
    pub datestamp: String,
    pub deleted: bool,
    /// Dublin Core elements by local name (`title`, `subject` …), each with its values in order.
    pub dc: BTreeMap<String, Vec<String>>,
}

impl Record {
    pub fn first(&self, element: &str) -> &str {
        self.dc.get(element).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }

    pub fn all(&self, element: &str) -> &[String] {
        self.dc.get(element).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One response page: its records and the token for the next, if any.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    pub resumption_token: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HarvestError {
    #[error("the source answered OAI-PMH error {code}: {message}")]
    Oai { code: String, message: String },
    #[error("the source's answer is not OAI-PMH XML: {0}")]
    Malformed(String),
    #[error("the source could not be reached: {0}")]
    Unreachable(String),
}

/// Reads one ListRecords response. `noRecordsMatch` is an empty page, not an error.
pub fn parse(xml: &str) -> Result<Page, HarvestError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut page = Page::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut record: Option<Record> = None;
    let mut error: Option<(String, String)> = None;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|e| HarvestError::Malformed(e.to_string()))?;
        match &event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                seen_root |= name == "OAI-PMH";
                match name.as_str() {
                    "record" => record = Some(Record::default()),
                    "header" => {
                        let deleted =
                            e.attributes().flatten().any(|a| a.key.local_name().as_ref() == "status" && a.value == "deleted");
                        if let Some(r) = record.as_mut() {
                            r.deleted = deleted;
                        }
                    }
                    "error" => {
                        let code = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == "code")
                            .map(|a| a.value.into_owned())
                            .unwrap_or_default();
                        error = Some((code, String::new()));
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = text.trim().to_string();
                let parent = path.last().map(String::as_str).unwrap_or("");
                match (parent, name.as_str()) {
                    ("header", "identifier") => record.iter_mut().for_each(|r| r.identifier = value.clone()),
                    ("header", "datestamp") => record.iter_mut().for_each(|r| r.datestamp = value.clone()),
                    (_, "record") => page.records.extend(record.take()),
                    (_, "resumptionToken") => page.resumption_token = Some(value.clone()).filter(|t| !t.is_empty()),
                    (_, "error") => {
                        if let Some(e) = error.as_mut() {
                            e.1 = value.clone();
                        }
                    }
                    ("dc", element) if path.iter().any(|p| p == "metadata") && !value.is_empty() => {
                        if let Some(r) = record.as_mut() {
                            r.dc.entry(element.to_string()).or_default().push(value.clone());
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            other => {
                if let Some(piece) = sheet::xml::event_text(other) {
                    text.push_str(&piece);
                }
            }
        }
    }
    if !seen_root {
        return Err(HarvestError::Malformed("no OAI-PMH element".into()));
    }
    match error {
        Some((code, _)) if code == "noRecordsMatch" => Ok(Page::default()),
        Some((code, message)) => Err(HarvestError::Oai { code, message }),
        None => Ok(page),
    }
}

/// The URL of a ListRecords request: the first, with its selection, or the next, with a token.
pub fn list_url(base_url: &str, set: &str, from: Option<&str>, token: Option<&str>) -> String {
    let enc = kernel::web::urlencode;
    match token {
        Some(t) => format!("{base_url}?verb=ListRecords&resumptionToken={}", enc(t)),
        None => {
            let mut url = format!("{base_url}?verb=ListRecords&metadataPrefix=oai_dc");
            if !set.is_empty() {
                url.push_str(&format!("&set={}", enc(set)));
            }
            if let Some(f) = from {
                url.push_str(&format!("&from={}", enc(f)));
            }
            url
        }
    }
}

/// Fetches one page.
pub async fn fetch(client: &kernel::http::reqwest::Client, url: &str) -> Result<Page, HarvestError> {
    let response = client.get(url).send().await.map_err(|e| HarvestError::Unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(HarvestError::Unreachable(format!("HTTP {}", response.status())));
    }
    let body = response.text().await.map_err(|e| HarvestError::Unreachable(e.to_string()))?;
    parse(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-03T00:00:00Z</responseDate>
<request verb="ListRecords">http://x/oai</request><ListRecords>
<record><header><identifier>oai:x.org:1</identifier><datestamp>2026-12-01T08:00:00Z</datestamp><setSpec>a</setSpec></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>春 &lt;朱自清&gt;</dc:title><dc:subject>语文</dc:subject><dc:subject>散文</dc:subject><dc:identifier>http://x/r/1</dc:identifier>
</oai_dc:dc></metadata></record>
<record><header status="deleted"><identifier>oai:x.org:2</identifier><datestamp>2026-12-02T08:00:00Z</datestamp></header></record>
<resumptionToken completeListSize="3" cursor="0">tok!1</resumptionToken></ListRecords></OAI-PMH>"#;

    #[test]
    fn reads_records_deletions_and_the_token() {
        let page = parse(PAGE).unwrap();
        assert_eq!(page.resumption_token.as_deref(), Some("tok!1"));
        assert_eq!(page.records.len(), 2);
        let first = &page.records[0];
        assert_eq!((first.identifier.as_str(), first.deleted), ("oai:x.org:1", false));
        assert_eq!(first.first("title"), "春 <朱自清>");
        assert_eq!(first.all("subject"), ["语文", "散文"]);
        assert!(page.records[1].deleted && page.records[1].dc.is_empty());
    }

    #[test]
    fn errors_and_empty_lists() {
        let no = r#"<OAI-PMH><error code="noRecordsMatch">none</error></OAI-PMH>"#;
        assert_eq!(parse(no), Ok(Page::default()));
        let bad = r#"<OAI-PMH><error code="badResumptionToken">expired</error></OAI-PMH>"#;
        assert_eq!(parse(bad), Err(HarvestError::Oai { code: "badResumptionToken".into(), message: "expired".into() }));
        assert!(matches!(parse("<html>hello</html>"), Err(HarvestError::Malformed(_))));
    }

    #[test]
    fn request_urls_escape_their_arguments() {
        assert_eq!(
            list_url("http://x/oai", "unit:1", Some("2026-01-01T00:00:00Z"), None),
            "http://x/oai?verb=ListRecords&metadataPrefix=oai_dc&set=unit%3A1&from=2026-01-01T00%3A00%3A00Z"
        );
        assert_eq!(list_url("http://x/oai", "", None, Some("a!b c")), "http://x/oai?verb=ListRecords&resumptionToken=a%21b+c");
    }
}

//! OAI-PMH 2.0 provider at `/oai`: other platforms harvest the resources published region-wide,
//! as Dublin Core or LOM, by org unit or subject, page by page, with deleted records for what
//! was taken down. Errors are OAI-PMH errors in a 200 response, as the protocol asks.

pub mod http;
pub mod metadata;
pub mod store;
pub mod xml;

use kernel::{App, AppError};
use store::{Selection, Set};
use xml::{Granularity, datestamp, esc, parse_datestamp};

/// Where the repository is reached: its base URL and the origin record links start with.
pub struct Origin {
    pub base_url: String,
    pub site: String,
}

/// An OAI-PMH error: its code and a message for people.
struct OaiError(&'static str, String);

impl OaiError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        OaiError(code, message.into())
    }
}

impl From<AppError> for OaiError {
    fn from(e: AppError) -> Self {
        tracing::error!(error = %e, "OAI-PMH request failed");
        OaiError("badArgument", "the repository could not answer; try again later".into())
    }
}

impl From<kernel::db::DbError> for OaiError {
    fn from(e: kernel::db::DbError) -> Self {
        OaiError::from(AppError::from(e))
    }
}

const VERBS: [(&str, &[&str], &[&str]); 6] = [
    ("Identify", &[], &[]),
    ("ListMetadataFormats", &[], &["identifier"]),
    ("ListSets", &[], &["resumptionToken"]),
    ("ListIdentifiers", &["metadataPrefix"], &["from", "until", "set", "resumptionToken"]),
    ("ListRecords", &["metadataPrefix"], &["from", "until", "set", "resumptionToken"]),
    ("GetRecord", &["identifier", "metadataPrefix"], &[]),
];

/// Answers one request (its arguments from the query string or a form body) with the whole
/// OAI-PMH response document.
pub async fn respond(app: &App, origin: &Origin, args: &[(String, String)]) -> String {
    let now = datestamp(kernel::now() * 1000);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/ \
         http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\"><responseDate>{now}</responseDate>"
    );
    match check(args) {
        Err(e) => {
            // The request element carries no attributes when the verb or arguments are bad.
            out.push_str(&format!("<request>{}</request>", esc(&origin.base_url)));
            push_error(&mut out, &e);
        }
        Ok(verb) => {
            let attrs: String = args.iter().map(|(k, v)| format!(" {}=\"{}\"", k, esc(v))).collect();
            out.push_str(&format!("<request{attrs}>{}</request>", esc(&origin.base_url)));
            let get = |name: &str| arg(args, name);
            let body = match verb {
                "Identify" => identify(app, origin).await,
                "ListMetadataFormats" => list_metadata_formats(app, origin, get("identifier")).await,
                "ListSets" => list_sets(app, get("resumptionToken")).await,
                "GetRecord" => {
                    get_record(app, origin, get("identifier").unwrap_or(""), get("metadataPrefix").unwrap_or("")).await
                }
                _ => list(app, origin, verb == "ListRecords", args).await,
            };
            match body {
                Ok(b) => out.push_str(&b),
                Err(e) => push_error(&mut out, &e),
            }
        }
    }
    out.push_str("</OAI-PMH>\n");
    out
}

fn arg<'a>(args: &'a [(String, String)], name: &str) -> Option<&'a str> {
    args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn push_error(out: &mut String, e: &OaiError) {
    out.push_str(&format!("<error code=\"{}\">{}</error>", e.0, esc(&e.1)));
}

/// The verb, once it and its arguments are legal: each argument once, the required ones there,
/// nothing unknown, and a resumption token alone.
fn check(args: &[(String, String)]) -> Result<&'static str, OaiError> {
    let verbs: Vec<&str> = args.iter().filter(|(k, _)| k == "verb").map(|(_, v)| v.as_str()).collect();
    let [verb] = verbs.as_slice() else {
        return Err(OaiError::new("badVerb", "exactly one verb argument is required"));
    };
    let Some((name, required, optional)) = VERBS.iter().find(|v| v.0 == *verb) else {
        return Err(OaiError::new("badVerb", format!("{verb} is not an OAI-PMH verb")));
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in args.iter().filter(|(k, _)| k != "verb") {
        if seen.contains(&k.as_str()) {
            return Err(OaiError::new("badArgument", format!("{k} is repeated")));
        }
        if !required.contains(&k.as_str()) && !optional.contains(&k.as_str()) {
            return Err(OaiError::new("badArgument", format!("{name} does not take {k}")));
        }
        seen.push(k);
    }
    if seen.contains(&"resumptionToken") {
        if seen.len() > 1 {
            return Err(OaiError::new("badArgument", "resumptionToken is an exclusive argument"));
        }
    } else if let Some(missing) = required.iter().find(|r| !seen.contains(r)) {
        return Err(OaiError::new("badArgument", format!("{name} requires {missing}")));
    }
    Ok(name)
}

fn identifier(app: &App, id: i64) -> String {
    format!("oai:{}:resource/{id}", app.config.library.oai_repository_identifier)
}

fn parse_identifier(app: &App, identifier: &str) -> Option<i64> {
    let prefix = format!("oai:{}:resource/", app.config.library.oai_repository_identifier);
    identifier.strip_prefix(&prefix)?.parse().ok().filter(|id| *id > 0)
}

async fn identify(app: &App, origin: &Origin) -> Result<String, OaiError> {
    let name = match directory::org::store::roots(&app.db).await?.first() {
        Some(root) => format!("{} 翰林教育资源库", root.name),
        None => "翰林教育资源库".to_string(),
    };
    let earliest = store::earliest(&app.db).await?.unwrap_or(0);
    let repo = &app.config.library.oai_repository_identifier;
    Ok(format!(
        "<Identify><repositoryName>{}</repositoryName><baseURL>{}</baseURL><protocolVersion>2.0</protocolVersion>\
         <adminEmail>{}</adminEmail><earliestDatestamp>{}</earliestDatestamp><deletedRecord>persistent</deletedRecord>\
         <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>\
         <description><oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai-identifier \
         http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\"><scheme>oai</scheme><repositoryIdentifier>{}</repositoryIdentifier>\
         <delimiter>:</delimiter><sampleIdentifier>{}</sampleIdentifier></oai-identifier></description></Identify>",
        esc(&name),
        esc(&origin.base_url),
        esc(&app.config.library.oai_admin_email),
        datestamp(earliest),
        esc(repo),
        esc(&identifier(app, 1)),
    ))
}

async fn list_metadata_formats(app: &App, _origin: &Origin, identifier: Option<&str>) -> Result<String, OaiError> {
    if let Some(ident) = identifier {
        let found = match parse_identifier(app, ident) {
            Some(id) => store::record(&app.db, id).await?.is_some(),
            None => false,
        };
        if !found {
            return Err(OaiError::new("idDoesNotExist", format!("{ident} is not an identifier of this repository")));
        }
    }
    let mut out = String::from("<ListMetadataFormats>");
    for f in &metadata::FORMATS {
        out.push_str(&format!(
            "<metadataFormat><metadataPrefix>{}</metadataPrefix><schema>{}</schema><metadataNamespace>{}</metadataNamespace></metadataFormat>",
            f.prefix, f.schema, f.namespace
        ));
    }
    out.push_str("</ListMetadataFormats>");
    Ok(out)
}

async fn list_sets(app: &App, token: Option<&str>) -> Result<String, OaiError> {
    if let Some(t) = token {
        return Err(OaiError::new("badResumptionToken", format!("{t} is not a token this repository issued")));
    }
    let (paths, subjects) = store::sets(&app.db).await?;
    // A unit's set, and the sets of the units above it, so the hierarchy is whole.
    let mut unit_ids: Vec<Vec<i64>> = Vec::new();
    for path in &paths {
        let Set::Unit(ids) = Set::of_path(path) else { continue };
        for n in 1..=ids.len() {
            let prefix = ids[..n].to_vec();
            if !unit_ids.contains(&prefix) {
                unit_ids.push(prefix);
            }
        }
    }
    let all: Vec<i64> = unit_ids.iter().filter_map(|ids| ids.last().copied()).collect();
    let names: std::collections::HashMap<i64, String> =
        directory::org::store::names(&app.db, &all).await.map_err(AppError::from)?.into_iter().collect();
    let mut out = String::from("<ListSets>");
    for ids in &unit_ids {
        let name = ids.last().and_then(|id| names.get(id)).cloned().unwrap_or_default();
        out.push_str(&format!(
            "<set><setSpec>{}</setSpec><setName>{}</setName></set>",
            Set::Unit(ids.clone()).spec(),
            esc(&name)
        ));
    }
    for code in &subjects {
        let name = crate::vocab::name(crate::vocab::SUBJECTS, code, kernel::i18n::Locale::ZhCn);
        out.push_str(&format!("<set><setSpec>subject:{}</setSpec><setName>{}</setName></set>", esc(code), esc(name)));
    }
    out.push_str("</ListSets>");
    Ok(out)
}

async fn get_record(app: &App, origin: &Origin, ident: &str, prefix: &str) -> Result<String, OaiError> {
    let found = match parse_identifier(app, ident) {
        Some(id) => store::record(&app.db, id).await?,
        None => None,
    };
    let Some(r) = found else {
        return Err(OaiError::new("idDoesNotExist", format!("{ident} is not an identifier of this repository")));
    };
    if metadata::format(prefix).is_none() {
        return Err(OaiError::new("cannotDisseminateFormat", format!("{prefix} is not a metadata format of this repository")));
    }
    Ok(format!("<GetRecord>{}</GetRecord>", record(app, origin, &r, Some(prefix))))
}

/// One record: its header (marked deleted once taken down) and, unless deleted or only the
/// header is asked for, its metadata.
fn record(app: &App, origin: &Origin, r: &crate::resources::store::Resource, prefix: Option<&str>) -> String {
    let deleted = r.status != "approved";
    let mut specs = vec![Set::of_path(&r.unit_path).spec(), format!("subject:{}", r.subject)];
    specs.dedup();
    let sets: String = specs.iter().map(|s| format!("<setSpec>{}</setSpec>", esc(s))).collect();
    let header = format!(
        "<header{}><identifier>{}</identifier><datestamp>{}</datestamp>{sets}</header>",
        if deleted { " status=\"deleted\"" } else { "" },
        esc(&identifier(app, r.id)),
        datestamp(r.changed_ms),
    );
    match prefix {
        None => header,
        Some(_) if deleted => format!("<record>{header}</record>"),
        Some(p) => {
            let page = format!("{}/library/resources/{}", origin.site, r.id);
            format!("<record>{header}<metadata>{}</metadata></record>", metadata::render(p, r, &page))
        }
    }
}

/// A resumption token: the list's arguments and where the page stopped, separated by `!`
/// (which appears in none of them).
fn token(prefix: &str, s: &Selection, g: Option<Granularity>) -> String {
    let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    let g = match g {
        Some(Granularity::Day) => "d",
        Some(Granularity::Second) => "s",
        None => "",
    };
    format!(
        "{prefix}!{}!{}!{}!{g}!{}",
        s.set.as_ref().map(Set::spec).unwrap_or_default(),
        opt(s.from_ms),
        opt(s.until_ms),
        s.after_id
    )
}

fn parse_token(t: &str) -> Option<(String, Selection, Option<Granularity>)> {
    let parts: Vec<&str> = t.split('!').collect();
    let [prefix, set, from, until, g, after] = parts.as_slice() else { return None };
    metadata::format(prefix)?;
    let opt = |v: &str| if v.is_empty() { Some(None) } else { v.parse().ok().map(Some) };
    let set = if set.is_empty() { None } else { Some(Set::parse(set)?) };
    let g = match *g {
        "d" => Some(Granularity::Day),
        "s" => Some(Granularity::Second),
        "" => None,
        _ => return None,
    };
    let s = Selection { set, from_ms: opt(from)?, until_ms: opt(until)?, after_id: after.parse().ok()? };
    Some((prefix.to_string(), s, g))
}

async fn list(app: &App, origin: &Origin, records: bool, args: &[(String, String)]) -> Result<String, OaiError> {
    let get = |name: &str| arg(args, name);
    let (prefix, selection, granularity) = match get("resumptionToken") {
        Some(t) => parse_token(t)
            .ok_or_else(|| OaiError::new("badResumptionToken", format!("{t} is not a token this repository issued")))?,
        None => {
            let prefix = get("metadataPrefix").unwrap_or("");
            if metadata::format(prefix).is_none() {
                return Err(OaiError::new(
                    "cannotDisseminateFormat",
                    format!("{prefix} is not a metadata format of this repository"),
                ));
            }
            let set = match get("set") {
                Some(spec) => Some(
                    Set::parse(spec)
                        .ok_or_else(|| OaiError::new("badArgument", format!("{spec} is not a set of this repository")))?,
                ),
                None => None,
            };
            let bound = |name: &str| -> Result<Option<(i64, i64, Granularity)>, OaiError> {
                match get(name) {
                    Some(v) => parse_datestamp(v)
                        .map(Some)
                        .ok_or_else(|| OaiError::new("badArgument", format!("{name} is not a datestamp: {v}"))),
                    None => Ok(None),
                }
            };
            let (from, until) = (bound("from")?, bound("until")?);
            if let (Some(f), Some(u)) = (from, until) {
                if f.2 != u.2 {
                    return Err(OaiError::new("badArgument", "from and until must have the same granularity"));
                }
                if f.0 > u.1 {
                    return Err(OaiError::new("badArgument", "from is later than until"));
                }
            }
            let granularity = from.or(until).map(|b| b.2);
            (
                prefix.to_string(),
                Selection { set, from_ms: from.map(|f| f.0), until_ms: until.map(|u| u.1), after_id: 0 },
                granularity,
            )
        }
    };
    let (page, more) = store::page(&app.db, &selection, app.config.library.oai_page_size).await?;
    if page.is_empty() && selection.after_id == 0 {
        return Err(OaiError::new("noRecordsMatch", "no records match these arguments"));
    }
    let element = if records { "ListRecords" } else { "ListIdentifiers" };
    let mut out = format!("<{element}>");
    for r in &page {
        out.push_str(&record(app, origin, r, records.then_some(prefix.as_str())));
    }
    // Pages after the first end with a token, empty on the last page.
    if more || selection.after_id > 0 {
        let (total, cursor) = store::counts(&app.db, &selection).await?;
        let next = match (more, page.last()) {
            (true, Some(last)) => esc(&token(&prefix, &Selection { after_id: last.id, ..selection.clone() }, granularity)),
            _ => String::new(),
        };
        out.push_str(&format!("<resumptionToken completeListSize=\"{total}\" cursor=\"{cursor}\">{next}</resumptionToken>"));
    }
    out.push_str(&format!("</{element}>"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn verbs_and_arguments_are_checked_as_the_protocol_says() {
        assert_eq!(check(&args(&[("verb", "Identify")])).ok(), Some("Identify"));
        assert_eq!(check(&args(&[])).err().map(|e| e.0), Some("badVerb"));
        assert_eq!(check(&args(&[("verb", "Identify"), ("verb", "Identify")])).err().map(|e| e.0), Some("badVerb"));
        assert_eq!(check(&args(&[("verb", "ListThings")])).err().map(|e| e.0), Some("badVerb"));
        assert_eq!(check(&args(&[("verb", "Identify"), ("set", "x")])).err().map(|e| e.0), Some("badArgument"));
        assert_eq!(check(&args(&[("verb", "ListRecords")])).err().map(|e| e.0), Some("badArgument"));
        assert_eq!(check(&args(&[("verb", "ListRecords"), ("resumptionToken", "t")])).ok(), Some("ListRecords"));
        let both = args(&[("verb", "ListRecords"), ("resumptionToken", "t"), ("metadataPrefix", "oai_dc")]);
        assert_eq!(check(&both).err().map(|e| e.0), Some("badArgument"));
        let twice = args(&[("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "lom")]);
        assert_eq!(check(&twice).err().map(|e| e.0), Some("badArgument"));
    }

    #[test]
    fn tokens_carry_the_whole_selection() {
        let s = Selection { set: Some(Set::Unit(vec![1, 5])), from_ms: Some(1000), until_ms: None, after_id: 42 };
        let t = token("lom", &s, Some(Granularity::Second));
        assert_eq!(parse_token(&t), Some(("lom".to_string(), s, Some(Granularity::Second))));
        let subject = Selection { set: Some(Set::Subject("info-sci".into())), ..Default::default() };
        assert_eq!(parse_token(&token("oai_dc", &subject, None)).map(|t| t.1), Some(subject));
        for bad in ["", "oai_dc", "mods!!!!!1", "oai_dc!nowhere:1!!!!1", "oai_dc!!x!!!1", "oai_dc!!!!q!1"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn sets_parse_and_print_alike() {
        assert_eq!(Set::parse("unit:1:5:23"), Some(Set::Unit(vec![1, 5, 23])));
        assert_eq!(Set::of_path("/1/5/23/").spec(), "unit:1:5:23");
        assert_eq!(Set::parse("subject:math"), Some(Set::Subject("math".into())));
        assert_eq!(Set::parse("subject:alchemy"), None);
        assert_eq!(Set::parse("unit:"), None);
        assert_eq!(Set::parse("unit:1:x"), None);
    }
}

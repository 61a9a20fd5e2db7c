//! XML character data as the readers here need it, for any XML a caller reads with quick-xml.

use quick_xml::events::{BytesRef, Event};
use std::borrow::Cow;

/// Character data of a text-like event, entity references resolved.
pub fn event_text<'a>(event: &'a Event) -> Option<Cow<'a, str>> {
    match event {
        Event::Text(t) => Some(t.xml10_content()),
        Event::CData(t) => Some(t.xml10_content()),
        Event::GeneralRef(r) => Some(resolve_ref(r)),
        _ => None,
    }
}

fn resolve_ref(r: &BytesRef) -> Cow<'static, str> {
    match r.resolve_char_ref() {
        Ok(Some(ch)) => Cow::Owned(ch.to_string()),
        Ok(None) => match &**r {
            "amp" => Cow::Borrowed("&"),
            "lt" => Cow::Borrowed("<"),
            "gt" => Cow::Borrowed(">"),
            "quot" => Cow::Borrowed("\""),
            "apos" => Cow::Borrowed("'"),
            // No DTD entities are expanded (no billion laughs); keep unknown ones visible.
            other => Cow::Owned(format!("&{other};")),
        },
        Err(_) => Cow::Owned(format!("&{};", &**r)),
    }
}

//! XLSX files handed to users around an import: the template of each kind, and the error report
//! (the failing rows as they were, offending cells highlighted, with the reason beside them).

use super::job::StoredProblem;
use crate::columns::{self, Kind};
use kernel::i18n::{I18n, Locale};
use sheet::{ColumnSpec, Limits, Reader, SheetError, Workbook};
use std::collections::HashMap;
use std::path::Path;

/// The ftl key naming why a file could not be read.
pub fn sheet_error_key(e: &SheetError) -> &'static str {
    match e {
        SheetError::Io(_) => "roster-file-unreadable",
        SheetError::NotXlsx(_) => "roster-file-not-xlsx",
        SheetError::SheetNotFound { .. } => "roster-file-no-sheet",
        SheetError::TooLarge { .. } => "roster-file-too-large",
        SheetError::Malformed { .. } => "roster-file-malformed",
    }
}

/// The template: a data sheet whose header cells carry each column's note, and an instructions
/// sheet with every column's rule and an example row.
pub fn template(kind: Kind, i18n: &I18n, locale: Locale) -> Result<Vec<u8>, SheetError> {
    let cols = kind.columns();
    let notes: Vec<String> = cols
        .iter()
        .map(|c| {
            let required = i18n.t(locale, if c.required { "roster-required" } else { "roster-optional" });
            format!("{required}. {}", i18n.t(locale, c.note))
        })
        .collect();
    let specs: Vec<ColumnSpec> =
        cols.iter().zip(&notes).map(|(c, n)| ColumnSpec { header: c.header, note: Some(n.as_str()), width: 16.0 }).collect();
    let mut wb = Workbook::new();
    let data_sheet = i18n.t(locale, "roster-template-data-sheet");
    wb.sheet(&data_sheet, &specs)?;
    let help_sheet = i18n.t(locale, "roster-template-help-sheet");
    let (h_column, h_required, h_rule, h_example) = (
        i18n.t(locale, "roster-template-column"),
        i18n.t(locale, "roster-template-required"),
        i18n.t(locale, "roster-template-rule"),
        i18n.t(locale, "roster-template-example"),
    );
    let help = wb.sheet(
        &help_sheet,
        &[
            ColumnSpec { header: &h_column, note: None, width: 16.0 },
            ColumnSpec { header: &h_required, note: None, width: 8.0 },
            ColumnSpec { header: &h_rule, note: None, width: 60.0 },
            ColumnSpec { header: &h_example, note: None, width: 24.0 },
        ],
    )?;
    for c in cols {
        let required = i18n.t(locale, if c.required { "roster-required" } else { "roster-optional" });
        wb.row(help, &[c.header, &required, &i18n.t(locale, c.note), c.example], &[])?;
    }
    let example_label = i18n.t(locale, "roster-template-example-row");
    let example: Vec<&str> = cols.iter().map(|c| c.example).collect();
    wb.row(help, &[], &[])?;
    wb.row(help, &[&example_label], &[])?;
    let headers: Vec<&str> = cols.iter().map(|c| c.header).collect();
    wb.row(help, &headers, &[])?;
    wb.row(help, &example, &[])?;
    wb.to_bytes()
}

/// Formats a stored problem's message in the reader's language.
pub fn message(i18n: &I18n, locale: Locale, p: &StoredProblem) -> String {
    let args: HashMap<String, String> = serde_json::from_str(&p.args).unwrap_or_default();
    let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    i18n.t_args(locale, &p.message_key, &args)
}

/// The error report: the file's header, then each failing row as it was, its bad cells marked
/// with the reason, and a last column listing every reason of the row.
pub fn error_report(
    file: &Path,
    kind: Kind,
    sheet_name: Option<&str>,
    problems: &[StoredProblem],
    i18n: &I18n,
    locale: Locale,
) -> Result<Vec<u8>, SheetError> {
    let mut by_row: HashMap<u32, Vec<&StoredProblem>> = HashMap::new();
    for p in problems {
        by_row.entry(p.row_number as u32).or_default().push(p);
    }
    let mut reader = Reader::open(file, sheet_name, &Limits::default())?;
    let mut header: Option<(Vec<String>, columns::HeaderMap)> = None;
    let mut previous: Option<Vec<String>> = None;
    let mut wb = Workbook::new();
    let mut handle = None;
    let reason_header = i18n.t(locale, "roster-report-reasons");
    let row_header = i18n.t(locale, "roster-report-row");
    for rec in reader.by_ref() {
        let rec = rec?;
        let cells: Vec<String> = rec.cells.iter().map(|c| c.text.clone()).collect();
        match &header {
            None => {
                let joined = previous.as_ref().map(|p| columns::join_header_rows(p, &cells));
                let map = columns::match_header(kind, rec.row, &cells)
                    .or_else(|| joined.as_ref().and_then(|j| columns::match_header(kind, rec.row, j)));
                if let Some(map) = map {
                    let names = joined.filter(|_| columns::match_header(kind, rec.row, &cells).is_none()).unwrap_or(cells);
                    let mut specs: Vec<ColumnSpec> = vec![ColumnSpec { header: &row_header, note: None, width: 8.0 }];
                    specs.extend(names.iter().map(|h| ColumnSpec { header: h, note: None, width: 16.0 }));
                    specs.push(ColumnSpec { header: &reason_header, note: None, width: 60.0 });
                    handle = Some(wb.sheet(&i18n.t(locale, "roster-report-sheet"), &specs)?);
                    header = Some((names, map));
                } else {
                    previous = Some(cells);
                }
            }
            Some((names, _)) => {
                let Some(list) = by_row.get(&rec.row) else { continue };
                let Some(h) = handle else { continue };
                let messages: Vec<String> = list.iter().map(|p| message(i18n, locale, p)).collect();
                let marks: Vec<(usize, &str)> = list
                    .iter()
                    .zip(&messages)
                    .filter_map(|(p, m)| names.iter().position(|n| n.trim() == p.column_name).map(|i| (i + 1, m.as_str())))
                    .collect();
                let reasons: Vec<String> = list.iter().zip(&messages).map(|(p, m)| format!("{}: {m}", p.column_name)).collect();
                let row_number = rec.row.to_string();
                let mut out: Vec<&str> = vec![&row_number];
                out.extend(cells.iter().map(String::as_str));
                out.resize(names.len() + 1, "");
                let joined = reasons.join("；");
                out.push(&joined);
                wb.row(h, &out, &marks)?;
            }
        }
    }
    if handle.is_none() {
        wb.sheet(&i18n.t(locale, "roster-report-sheet"), &[ColumnSpec { header: &reason_header, note: None, width: 60.0 }])?;
    }
    wb.to_bytes()
}

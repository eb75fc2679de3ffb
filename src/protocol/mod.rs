//! Protocols: the TOML file format ([`schema`]), validation with positioned diagnostics, and
//! the validated [`domain`] types every engine consumes.
//!
//! [`load`] / [`parse`] parse the TOML, convert the file schema into domain values while
//! collecting every error and warning (each with `path:line:col`, the source line and a caret),
//! then fail once if any error was found. Unknown keys are errors (warnings with
//! [`ParseOptions::allow_unknown`]) naming the closest valid key of the same kind at that
//! place (taken from the generated JSON Schema, so the list can never drift from the structs).

mod convert;
mod convert_analysis;
mod convert_panel;
mod convert_rules;
mod convert_xeno;
pub mod diag;
pub mod domain;
pub mod feasibility;
pub mod plate_layout;
mod runnable;
pub mod schema;
pub mod view;

pub use convert_analysis::arm_doses;
pub use convert_panel::MAX_PANEL_GRID;
pub use convert_xeno::typical_curve;
pub use diag::{Diagnostic, Severity};

pub use domain::*;

use diag::{KeyPath, Seg, SpanIndex, closest_key, ignored_path};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A successfully loaded protocol, with its warnings and the raw bytes (for manifests).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated protocol.
    pub protocol: Protocol,
    /// Warnings (unknown keys, unused sections…); the protocol is valid regardless. At most
    /// [`diag::MAX_SHOWN`] plus, when there were more, one last warning saying how many more
    /// (positioned at the first one left out), so every command prints a bounded list.
    pub warnings: Vec<Diagnostic>,
    /// Number of warnings found, including those left out of `warnings`.
    pub total_warnings: usize,
    /// Path as given.
    pub path: PathBuf,
    /// File bytes (sha256 in manifests).
    pub bytes: Vec<u8>,
}

/// Why a protocol could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    // The OS error is part of the message and deliberately not a `source()`: `{:#}` in the
    // CLI prints the chain, and a source would print it twice.
    #[error("{}: cannot read protocol: {error}", path.display())]
    Io {
        /// Path as given.
        path: PathBuf,
        /// Underlying error (in the message).
        error: std::io::Error,
    },
    /// Syntax, type or semantic errors (every problem found, warnings included).
    #[error("{}", render(diagnostics, path))]
    Invalid {
        /// Path as given.
        path: PathBuf,
        /// Every diagnostic, errors and warnings, in file order of discovery.
        diagnostics: Vec<Diagnostic>,
    },
}

fn render(diags: &[Diagnostic], path: &Path) -> String {
    let mut s = String::new();
    let (shown, more_e, more_w) = diag::shown(diags);
    for d in shown {
        s.push_str(&d.to_string());
    }
    s.push_str(&diag::more_line(
        &path.display().to_string(),
        more_e,
        more_w,
    ));
    let e = diags.iter().filter(|d| d.is_error()).count();
    let w = diags.len() - e;
    s.push_str(&format!(
        "{}: {} error{}, {} warning{}",
        path.display(),
        e,
        plural(e),
        w,
        plural(w)
    ));
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl LoadError {
    /// Every diagnostic (empty for I/O errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid { diagnostics, .. } => diagnostics,
        }
    }
    /// Errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics().iter().filter(|d| d.is_error())
    }
    /// Warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics().iter().filter(|d| !d.is_error())
    }
}

/// How strictly a protocol is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Unknown keys and sections of another protocol kind are warnings instead of errors
    /// (forward compatibility: a file written for a newer xenoplan; `check --allow-unknown`).
    pub allow_unknown: bool,
}

/// Reads and validates a protocol file.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    load_with(path, ParseOptions::default())
}

/// [`load`] with options.
pub fn load_with(path: &Path, opts: ParseOptions) -> Result<Loaded, LoadError> {
    use std::io::Read;
    let io = |error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    };
    // Read at most one byte past the cap, so a huge file (or /dev/zero) is refused without
    // reading it whole.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PROTOCOL_BYTES + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    let label = path.display().to_string();
    if bytes.len() as u64 > MAX_PROTOCOL_BYTES {
        let d = Diagnostic::at(
            Severity::Error,
            format!(
                "the file is larger than {} MiB, the limit for a protocol",
                MAX_PROTOCOL_BYTES >> 20
            ),
            &label,
            "",
            0..0,
        );
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            diagnostics: vec![d],
        });
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            let at = e.valid_up_to();
            let d = Diagnostic::at(
                Severity::Error,
                "file is not valid UTF-8".into(),
                &label,
                &lossy,
                at..at + 1,
            );
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                diagnostics: vec![d],
            });
        }
    };
    let mut loaded = parse_with(text, &label, opts)?;
    loaded.bytes = bytes;
    Ok(loaded)
}

/// Parses and validates protocol text; `path_label` names the file in diagnostics.
///
/// Linear in the file size: line numbers come from one line index, each diagnostic copies
/// only a window of its line, "did you mean" hints are bounded, and at most
/// [`diag::MAX_SHOWN`] diagnostics are printed (the rest counted).
pub fn parse(text: &str, path_label: &str) -> Result<Loaded, LoadError> {
    parse_with(text, path_label, ParseOptions::default())
}

/// [`parse`] with options.
pub fn parse_with(text: &str, path_label: &str, opts: ParseOptions) -> Result<Loaded, LoadError> {
    let _lines = diag::LineScope::new(text);
    let path = PathBuf::from(path_label);
    let invalid = |diagnostics| LoadError::Invalid {
        path: path.clone(),
        diagnostics,
    };
    let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        // Recovery can report several errors at one spot; keep the first per position.
        let mut diags: Vec<Diagnostic> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in &syntax {
            let span = e.span().unwrap_or(0..0);
            let d = Diagnostic::at(
                Severity::Error,
                e.message().to_string(),
                path_label,
                text,
                span,
            );
            if seen.insert((d.line, d.col)) {
                diags.push(d);
            }
        }
        return Err(invalid(diags));
    }
    // Deserialize; on a type error, record it, put a placeholder of the expected type in place
    // of the offending value (spans unchanged) and retry, so every type error is reported in
    // one run. Semantic validation runs only on a file without type errors (placeholders would
    // cascade into misleading semantic errors).
    let mut work = doc.clone();
    let mut type_errors: Vec<Diagnostic> = Vec::new();
    let mut ignored: Vec<KeyPath> = Vec::new();
    let mut file = None;
    for _ in 0..MAX_TYPE_ERRORS {
        ignored.clear();
        let de = toml::Deserializer::from(work.clone());
        let r: Result<schema::FileProtocol, toml::de::Error> =
            serde_ignored::deserialize(de, |p| ignored.push(ignored_path(&p)));
        match r {
            Ok(f) => {
                file = Some(f);
                break;
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                // serde names Rust types; say it in the file's terms.
                let m = e
                    .message()
                    .replace("expected i64", "expected an integer")
                    .replace("expected f64", "expected a number");
                let at = SpanIndex::new(&work).path_at(&span);
                let msg = match &at {
                    Some(p) if !p.0.is_empty() => format!("`{p}`: {m}"),
                    _ => m.clone(),
                };
                type_errors.push(Diagnostic::at(Severity::Error, msg, path_label, text, span));
                let replaced = match (&at, placeholder(&m)) {
                    (Some(p), Some(v)) if !p.0.is_empty() => replace_at(&mut work, p, v),
                    _ => false,
                };
                if !replaced {
                    break;
                }
            }
        }
    }
    let mut cx = convert::Ctx::new(path_label, text, SpanIndex::new(&doc));
    cx.allow_unknown = opts.allow_unknown;
    let mut keys_at = std::collections::HashMap::new();
    for p in &ignored {
        unknown_key(&mut cx, p, &mut keys_at);
    }
    let file = match file {
        Some(f) if type_errors.is_empty() => f,
        _ => {
            // serde visits keys alphabetically; report in file order.
            type_errors.sort_by_key(|d| (d.line, d.col));
            let mut diags = type_errors;
            diags.extend(cx.diags);
            return Err(invalid(diags));
        }
    };
    let protocol = convert::convert(&file, &mut cx);
    match protocol {
        Some(protocol) if !cx.has_errors() => {
            let total_warnings = cx.diags.len();
            Ok(Loaded {
                protocol,
                warnings: cap_warnings(cx.diags, path_label),
                total_warnings,
                path,
                bytes: text.as_bytes().to_vec(),
            })
        }
        _ => Err(invalid(cx.diags)),
    }
}

/// Largest protocol file read (README "Limits and output folders").
pub const MAX_PROTOCOL_BYTES: u64 = 4 << 20;

/// At most this many type errors are collected before giving up.
const MAX_TYPE_ERRORS: usize = 50;

/// A placeholder value of the type a serde "invalid type … expected X" message asks for.
fn placeholder(msg: &str) -> Option<toml::de::DeValue<'static>> {
    use toml::de::DeValue;
    let expected = msg.split("expected ").nth(1)?;
    Some(if expected.starts_with("a string") {
        DeValue::String("".into())
    } else if expected.starts_with("an integer") {
        DeValue::Integer(Default::default())
    } else if expected.starts_with("a number") {
        DeValue::Float(Default::default())
    } else if expected.starts_with("a boolean") {
        DeValue::Boolean(false)
    } else if expected.starts_with("a sequence") {
        DeValue::Array(Default::default())
    } else {
        return None;
    })
}

/// Replaces the value at `path` (keeping its span); false when the path does not exist.
fn replace_at<'a>(
    doc: &mut toml::Spanned<toml::de::DeTable<'a>>,
    path: &KeyPath,
    value: toml::de::DeValue<'a>,
) -> bool {
    use toml::de::DeValue;
    let Some((last, init)) = path.0.split_last() else {
        return false;
    };
    let mut cur: &mut DeValue<'a> = &mut DeValue::Table(Default::default());
    let mut root_table = Some(doc.get_mut());
    for seg in init {
        let next = match (seg, root_table.take()) {
            (Seg::Key(k), Some(t)) => t.get_mut(k.as_str()).map(|v| v.get_mut()),
            (seg, None) => match (seg, cur) {
                (Seg::Key(k), DeValue::Table(t)) => t.get_mut(k.as_str()).map(|v| v.get_mut()),
                (Seg::Index(i), DeValue::Array(a)) => a.get_mut(*i).map(|v| v.get_mut()),
                _ => None,
            },
            _ => None,
        };
        let Some(n) = next else { return false };
        cur = n;
    }
    let slot = match (last, root_table) {
        (Seg::Key(k), Some(t)) => t.get_mut(k.as_str()),
        (seg, None) => match (seg, cur) {
            (Seg::Key(k), DeValue::Table(t)) => t.get_mut(k.as_str()),
            (Seg::Index(i), DeValue::Array(a)) => a.get_mut(*i),
            _ => None,
        },
        _ => None,
    };
    match slot {
        Some(v) => {
            *v = toml::Spanned::new(v.span(), value);
            true
        }
        None => false,
    }
}

/// The first [`diag::MAX_SHOWN`] warnings and, when there are more, one warning at the next
/// one saying how many were left out.
fn cap_warnings(mut warnings: Vec<Diagnostic>, path_label: &str) -> Vec<Diagnostic> {
    if warnings.len() <= diag::MAX_SHOWN {
        return warnings;
    }
    let more = warnings.len() - diag::MAX_SHOWN;
    warnings.truncate(diag::MAX_SHOWN + 1);
    if let Some(last) = warnings.last_mut() {
        last.message = format!(
            "… and {more} more warning{} not shown (the first {} are listed; the next one is here)",
            plural(more),
            diag::MAX_SHOWN
        );
        last.path = path_label.to_string();
    }
    warnings
}

/// Unknown key → error (warning with `--allow-unknown`) with the closest valid key of the
/// same kind at that place (valid keys looked up once per table in `keys_at`).
fn unknown_key(
    cx: &mut convert::Ctx<'_>,
    p: &KeyPath,
    keys_at: &mut std::collections::HashMap<String, Vec<(String, Vec<String>)>>,
) {
    let full_key = p.last_key().unwrap_or("?");
    let key = diag::clip(full_key, 40).into_owned();
    let parent = p.parent();
    let valid = keys_at
        .entry(parent.to_string())
        .or_insert_with(|| valid_key_kinds(&parent));
    let valid: &[(String, Vec<String>)] = valid;
    let place = if p.parent().0.is_empty() {
        "at top level".to_string()
    } else {
        format!("in `{}`", p.parent())
    };
    // Only keys that take a value of the kind written here (a table is no typo of a number).
    let kind = cx.value_kind(p);
    let same_kind = valid
        .iter()
        .filter(|(_, types)| kind_fits(kind, types))
        .map(|(k, _)| k.as_str());
    let names: Vec<&str> = valid.iter().map(|(k, _)| k.as_str()).collect();
    let hint = match closest_key(full_key, same_kind) {
        Some(c) => format!("did you mean `{c}`?"),
        None if valid.is_empty() => "remove it".to_string(),
        None => format!("valid keys here: {}", names.join(", ")),
    };
    if cx.allow_unknown {
        cx.warn_key(
            p,
            format!("unknown key `{key}` {place} is ignored (--allow-unknown); {hint}"),
        );
    } else {
        cx.error_key(p, format!("unknown key `{key}` {place}; {hint}"));
    }
}

/// True when a value of JSON kind `kind` may be given to a key accepting `types` (integers
/// where numbers are expected and vice versa count as the same kind).
fn kind_fits(kind: Option<&str>, types: &[String]) -> bool {
    let Some(kind) = kind else { return true };
    types.is_empty()
        || types.iter().any(|t| {
            t == kind
                || matches!(
                    (kind, t.as_str()),
                    ("integer", "number") | ("number", "integer")
                )
        })
}

/// The generated JSON Schema (cached).
fn schema_json() -> &'static serde_json::Value {
    static S: OnceLock<serde_json::Value> = OnceLock::new();
    S.get_or_init(schema::json_schema)
}

/// Valid keys of the table at `path`, read from the JSON Schema.
pub fn valid_keys(path: &KeyPath) -> Vec<String> {
    valid_key_kinds(path).into_iter().map(|(k, _)| k).collect()
}

/// Valid keys of the table at `path` with the JSON types each accepts (empty: any).
fn valid_key_kinds(path: &KeyPath) -> Vec<(String, Vec<String>)> {
    let root = schema_json();
    let mut cur = vec![root];
    for seg in &path.0 {
        let mut next = Vec::new();
        for s in cur.iter().flat_map(|s| expand(root, s)) {
            match seg {
                Seg::Key(k) => {
                    if let Some(v) = s.get("properties").and_then(|p| p.get(k)) {
                        next.push(v);
                    }
                }
                Seg::Index(_) => {
                    if let Some(v) = s.get("items") {
                        next.push(v);
                    }
                }
            }
        }
        cur = next;
    }
    let mut keys: Vec<(String, Vec<String>)> = cur
        .iter()
        .flat_map(|s| expand(root, s))
        .filter_map(|s| s.get("properties").and_then(|p| p.as_object()))
        .flat_map(|o| o.iter())
        .map(|(k, v)| (k.clone(), json_types(root, v)))
        .collect();
    keys.sort();
    keys.dedup_by(|a, b| a.0 == b.0);
    keys
}

/// The JSON types a sub-schema accepts (`null` left out: TOML has none; a `$ref` to a
/// struct is an object).
fn json_types(root: &serde_json::Value, s: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in expand(root, s) {
        match e.get("type") {
            Some(serde_json::Value::String(t)) => out.push(t.clone()),
            Some(serde_json::Value::Array(a)) => {
                out.extend(a.iter().filter_map(|t| t.as_str()).map(str::to_string))
            }
            _ => {}
        }
    }
    out.retain(|t| t != "null");
    out.sort();
    out.dedup();
    out
}

/// Resolves `$ref` and `anyOf`/`oneOf`/`allOf` into the concrete sub-schemas.
fn expand<'a>(root: &'a serde_json::Value, s: &'a serde_json::Value) -> Vec<&'a serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = vec![s];
    let mut guard = 0;
    while let Some(s) = stack.pop() {
        guard += 1;
        if guard > 64 {
            break;
        }
        if let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
            if let Some(name) = r.strip_prefix("#/$defs/")
                && let Some(d) = root.get("$defs").and_then(|d| d.get(name))
            {
                stack.push(d);
            }
            continue;
        }
        for k in ["anyOf", "oneOf", "allOf"] {
            if let Some(a) = s.get(k).and_then(|a| a.as_array()) {
                stack.extend(a.iter());
            }
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests;

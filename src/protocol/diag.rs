//! Positioned diagnostics: `path:line:col: error: message`, the source line and a caret under
//! the span (the layout of rustc / cargo `emit_toml_diagnostic`), plus the span index that
//! maps a key path (`cohorts[1].arms[0].dose`) back to its place in the file.

use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Makes the file invalid.
    Error,
    /// Reported, but the file still loads.
    Warning,
}

/// One problem found in a protocol file, already positioned.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong (and, for warnings, what to do).
    pub message: String,
    /// File label (path as given).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// The offending source line (without newline).
    pub line_text: String,
    /// Caret width in characters (≥ 1).
    pub width: usize,
}

impl Diagnostic {
    /// Builds a diagnostic for byte range `span` of `text`.
    pub fn at(
        severity: Severity,
        message: String,
        path: &str,
        text: &str,
        span: Range<usize>,
    ) -> Self {
        let start = floor_char(text, span.start.min(text.len()));
        let end = floor_char(text, span.end.min(text.len()).max(start));
        let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = text[start..]
            .find('\n')
            .map(|i| start + i)
            .unwrap_or(text.len());
        let line = text[..start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let line_text = text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let stop = end.min(line_end);
        let width = text[start..stop].chars().count().max(1);
        Diagnostic {
            severity,
            message,
            path: path.to_string(),
            line,
            col,
            line_text,
            width,
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.path, self.line, self.col, self.message
        )?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{num} | {}", self.line_text)?;
        // Tabs before the caret keep their width so the caret lines up in a terminal.
        let lead: String = self
            .line_text
            .chars()
            .take(self.col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(f, "{pad} | {lead}{}", "^".repeat(self.width))
    }
}

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Table key.
    Key(String),
    /// Array index.
    Index(usize),
}

/// A key path into the document, e.g. `cohorts[1].arms[0].dose`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }
    /// Child key.
    pub fn k(&self, key: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(key.to_string()));
        KeyPath(v)
    }
    /// Array element.
    pub fn i(&self, index: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(index));
        KeyPath(v)
    }
    /// Parent path (root stays root).
    pub fn parent(&self) -> Self {
        let mut v = self.0.clone();
        v.pop();
        KeyPath(v)
    }
    /// Last key name, if the path ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Looks up spans of keys and values by path in the parsed document.
pub struct SpanIndex<'a> {
    root: &'a Spanned<DeTable<'a>>,
}

impl<'a> SpanIndex<'a> {
    /// Index over a parsed document.
    pub fn new(root: &'a Spanned<DeTable<'a>>) -> Self {
        SpanIndex { root }
    }

    /// Span of the value at `path`; when the path does not exist (a missing key), the span of
    /// its deepest existing ancestor (so "missing key" errors point at the enclosing table).
    pub fn value(&self, path: &KeyPath) -> Range<usize> {
        self.walk(path).1
    }

    /// Span of the key itself (for unknown-key warnings); the value span for array elements.
    pub fn key(&self, path: &KeyPath) -> Range<usize> {
        let (key, value, _) = self.walk(path);
        key.unwrap_or(value)
    }

    /// True when the path exists in the document.
    pub fn exists(&self, path: &KeyPath) -> bool {
        self.walk(path).2
    }

    /// The path of the key or value whose span is exactly `span` (to name the key in serde
    /// type errors, which only carry a span).
    pub fn path_at(&self, span: &Range<usize>) -> Option<KeyPath> {
        fn search(v: &DeValue<'_>, path: &mut Vec<Seg>, span: &Range<usize>) -> Option<KeyPath> {
            match v {
                DeValue::Table(t) => {
                    for (k, val) in t.iter() {
                        path.push(Seg::Key(k.get_ref().to_string()));
                        if val.span() == *span || k.span() == *span {
                            return Some(KeyPath(path.clone()));
                        }
                        if let Some(p) = search(val.get_ref(), path, span) {
                            return Some(p);
                        }
                        path.pop();
                    }
                    None
                }
                DeValue::Array(a) => {
                    for (i, val) in a.iter().enumerate() {
                        path.push(Seg::Index(i));
                        if val.span() == *span {
                            return Some(KeyPath(path.clone()));
                        }
                        if let Some(p) = search(val.get_ref(), path, span) {
                            return Some(p);
                        }
                        path.pop();
                    }
                    None
                }
                _ => None,
            }
        }
        let root = DeValue::Table(self.root.get_ref().clone());
        search(&root, &mut Vec::new(), span)
    }

    fn walk(&self, path: &KeyPath) -> (Option<Range<usize>>, Range<usize>, bool) {
        let mut key_span = None;
        let mut span = 0..0;
        let mut table: Option<&DeTable<'a>> = Some(self.root.get_ref());
        let mut array: Option<&toml::de::DeArray<'a>> = None;
        for seg in &path.0 {
            let next: Option<(&Spanned<DeValue<'a>>, Option<Range<usize>>)> =
                match (seg, table, array) {
                    (Seg::Key(k), Some(t), _) => t
                        .iter()
                        .find(|(key, _)| key.get_ref() == k)
                        .map(|(key, v)| (v, Some(key.span()))),
                    (Seg::Index(i), _, Some(a)) => a.get(*i).map(|v| (v, None)),
                    _ => None,
                };
            let Some((v, ks)) = next else {
                return (key_span, span, false);
            };
            key_span = ks;
            span = v.span();
            table = None;
            array = None;
            match v.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a),
                _ => {}
            }
        }
        (key_span, span, true)
    }
}

/// Path segments reported by `serde_ignored` (`Some`/newtype wrappers skipped).
pub fn ignored_path(p: &serde_ignored::Path<'_>) -> KeyPath {
    fn go(p: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
        match p {
            serde_ignored::Path::Root => {}
            serde_ignored::Path::Seq { parent, index } => {
                go(parent, out);
                out.push(Seg::Index(*index));
            }
            serde_ignored::Path::Map { parent, key } => {
                go(parent, out);
                out.push(Seg::Key(key.clone()));
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => go(parent, out),
        }
    }
    let mut v = Vec::new();
    go(p, &mut v);
    KeyPath(v)
}

/// Edit distance (for "did you mean" hints).
pub fn edit_distance(a: &str, b: &str) -> usize {
    // Optimal string alignment distance: Levenshtein plus adjacent transpositions ("bdi" is
    // one edit from "bid"), the commonest typing slip.
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, v) in d[0].iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate to `word`, if reasonably close (distance ≤ max(2, len/3)).
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| {
            (
                edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_col_and_caret() {
        let text = "a = 1\nbb = \"x\"\n";
        let d = Diagnostic::at(Severity::Error, "bad".into(), "f.toml", text, 11..14);
        assert_eq!(d.line, 2);
        assert_eq!(d.col, 6);
        assert_eq!(
            d.to_string(),
            "f.toml:2:6: error: bad\n  |\n2 | bb = \"x\"\n  |      ^^^\n"
        );
    }

    #[test]
    fn closest_key() {
        assert_eq!(closest("dosee", ["dose", "unit", "route"]), Some("dose"));
        assert_eq!(closest("zzzzzz", ["dose", "unit"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("bdi", ["once", "qd", "bid"]), Some("bid"));
    }
}

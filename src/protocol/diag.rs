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

/// Characters of source shown on each side of a span: the quoted line is clipped to this
/// window (with `…`), so a diagnostic never copies a whole enormous line.
pub const WINDOW: usize = 60;
/// Longest message kept (longer ones, e.g. quoting a huge user string, are clipped with `…`).
pub const MAX_MESSAGE: usize = 1000;
/// Diagnostics printed for one file; the rest are counted ("… and N more").
pub const MAX_SHOWN: usize = 50;

/// One problem found in a protocol file, already positioned.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong (and, for warnings, what to do); at most [`MAX_MESSAGE`] characters.
    pub message: String,
    /// File label (path as given).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// The offending source line (without newline), clipped to [`WINDOW`] characters on each
    /// side of the span; a clipped end is marked with `…`.
    pub line_text: String,
    /// Characters of `line_text` before the caret.
    pub caret_at: usize,
    /// Caret width in characters (1..=[`WINDOW`]).
    pub width: usize,
}

thread_local! {
    /// Line starts of the text being parsed (see [`LineScope`]): (text address, length, starts).
    static LINES: std::cell::RefCell<Option<(usize, usize, Vec<usize>)>> =
        const { std::cell::RefCell::new(None) };
}

/// While alive, [`Diagnostic::at`] finds line numbers of `text` by binary search in a line
/// index built once, instead of counting newlines from the start of the file for every
/// diagnostic (which made thousands of diagnostics quadratic in the file size). The text is
/// borrowed for the scope's lifetime, so its address and length identify it.
pub struct LineScope<'t> {
    prev: Option<(usize, usize, Vec<usize>)>,
    _text: std::marker::PhantomData<&'t str>,
}

impl<'t> LineScope<'t> {
    /// Indexes `text` for the duration of the returned guard.
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let prev = LINES.with(|c| {
            c.borrow_mut()
                .replace((text.as_ptr() as usize, text.len(), starts))
        });
        LineScope {
            prev,
            _text: std::marker::PhantomData,
        }
    }
}

impl Drop for LineScope<'_> {
    fn drop(&mut self) {
        let prev = self.prev.take();
        LINES.with(|c| *c.borrow_mut() = prev);
    }
}

/// (1-based line, byte offset of its start) of byte offset `at` of `text`.
fn line_of(text: &str, at: usize) -> (usize, usize) {
    let indexed = LINES.with(|c| {
        c.borrow().as_ref().and_then(|(p, l, starts)| {
            (*p == text.as_ptr() as usize && *l == text.len()).then(|| {
                let line = starts.partition_point(|&s| s <= at);
                (line, starts[line - 1])
            })
        })
    });
    indexed.unwrap_or_else(|| {
        let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line = text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        (line, line_start)
    })
}

/// `s` with at most `max` characters, the cut marked with `…`.
pub fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => s.into(),
        Some((i, _)) => format!("{}…", &s[..i]).into(),
    }
}

impl Diagnostic {
    /// Builds a diagnostic for byte range `span` of `text`. Cost: the span's line up to the
    /// span start (column), plus a bounded window; line numbers come from the [`LineScope`]
    /// index when one is active.
    pub fn at(
        severity: Severity,
        message: String,
        path: &str,
        text: &str,
        span: Range<usize>,
    ) -> Self {
        let start = floor_char(text, span.start.min(text.len()));
        let end = floor_char(text, span.end.min(text.len()).max(start));
        let (line, line_start) = line_of(text, start);
        let line_end = memchr_newline(text, start);
        let col = text[line_start..start].chars().count() + 1;
        // Window: up to WINDOW characters before the span, the span (at most WINDOW
        // characters) and up to WINDOW characters after it.
        let left = text[line_start..start]
            .char_indices()
            .rev()
            .nth(WINDOW - 1)
            .map(|(i, _)| line_start + i)
            .unwrap_or(line_start);
        let stop = end.min(line_end);
        let caret_end = text[start..stop]
            .char_indices()
            .nth(WINDOW)
            .map(|(i, _)| start + i)
            .unwrap_or(stop);
        let width = text[start..caret_end].chars().count().max(1);
        let right = text[caret_end..line_end]
            .char_indices()
            .nth(WINDOW)
            .map(|(i, _)| caret_end + i)
            .unwrap_or(line_end);
        let mut line_text = String::new();
        let mut caret_at = text[left..start].chars().count();
        if left > line_start {
            line_text.push('…');
            caret_at += 1;
        }
        line_text.push_str(&text[left..right]);
        if right < line_end {
            line_text.push('…');
        } else if line_text.ends_with('\r') {
            line_text.pop();
        }
        Diagnostic {
            severity,
            message: clip(&message, MAX_MESSAGE).into_owned(),
            path: path.to_string(),
            line,
            col,
            line_text,
            caret_at,
            width,
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Byte offset of the first `\n` at or after `from` (or the text length).
fn memchr_newline(text: &str, from: usize) -> usize {
    text.as_bytes()[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
        .unwrap_or(text.len())
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The diagnostics to print when there are many: every error first (up to [`MAX_SHOWN`]),
/// then warnings to fill [`MAX_SHOWN`], in their original order; plus how many errors and
/// warnings were left out.
pub fn shown(diags: &[Diagnostic]) -> (Vec<&Diagnostic>, usize, usize) {
    let mut keep = vec![false; diags.len()];
    let mut n = 0;
    for pass_errors in [true, false] {
        for (i, d) in diags.iter().enumerate() {
            if n < MAX_SHOWN && d.is_error() == pass_errors {
                keep[i] = true;
                n += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    let (mut e, mut w) = (0, 0);
    for (d, k) in diags.iter().zip(keep) {
        if k {
            out.push(d);
        } else if d.is_error() {
            e += 1;
        } else {
            w += 1;
        }
    }
    (out, e, w)
}

/// The "… and N more" line for diagnostics left out by [`shown`] (empty when none).
pub fn more_line(path: &str, errors: usize, warnings: usize) -> String {
    if errors + warnings == 0 {
        return String::new();
    }
    let part = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("1 {what}")),
        n => Some(format!("{n} {what}s")),
    };
    let parts: Vec<String> = [part(errors, "error"), part(warnings, "warning")]
        .into_iter()
        .flatten()
        .collect();
    format!(
        "{path}: … and {} more not shown ({}; the first {MAX_SHOWN} are listed)\n",
        errors + warnings,
        parts.join(", ")
    )
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
            .take(self.caret_at)
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

    /// JSON Schema type name of the value at `path` (`object`, `array`, `string`,
    /// `integer`, `number`, `boolean`; dates as `string`), if it exists.
    pub fn json_kind(&self, path: &KeyPath) -> Option<&'static str> {
        let mut cur: &DeValue<'a> = &DeValue::Table(Default::default());
        let mut table = Some(self.root.get_ref());
        for seg in &path.0 {
            let next = match (seg, table.take(), cur) {
                (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
                (Seg::Key(k), None, DeValue::Table(t)) => t.get(k.as_str()),
                (Seg::Index(i), None, DeValue::Array(a)) => a.get(*i),
                _ => None,
            }?;
            cur = next.get_ref();
        }
        Some(match cur {
            DeValue::Table(_) => "object",
            DeValue::Array(_) => "array",
            DeValue::String(_) | DeValue::Datetime(_) => "string",
            DeValue::Integer(_) => "integer",
            DeValue::Float(_) => "number",
            DeValue::Boolean(_) => "boolean",
        })
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
                    // Keyed lookup (a B-tree), not a scan: thousands of sibling keys stay
                    // O(log n) per diagnostic.
                    (Seg::Key(k), Some(t), _) => t
                        .get_key_value(k.as_str())
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

/// Longest word a "did you mean" hint is searched for (longer input is no typo of a key).
pub const MAX_HINT_INPUT: usize = 64;

/// The closest candidate to `word`, if reasonably close (distance ≤ max(2, len/3)).
///
/// Bounded: no search for words over [`MAX_HINT_INPUT`] characters, and candidates whose
/// length differs from the word's by more than the limit are skipped without computing a
/// distance (the distance is at least the length difference). So one hint costs at most
/// candidates × 64 × (64 + limit) steps, whatever the file holds.
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let n = word.chars().count();
    if n > MAX_HINT_INPUT {
        return None;
    }
    let limit = (n / 3).max(2);
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| c.chars().count().abs_diff(n) <= limit)
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The closest valid key to a misspelled `key`: stricter than [`closest`] (distance at most
/// max(2, len/4)), so a hint names a slip of the same key, never another parameter whose name
/// shares a suffix (`reversion-rate-per-division` is not `switch-rate-per-division`).
pub fn closest_key<'c>(
    key: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let n = key.chars().count();
    let limit = (n / 4).max(2);
    closest(key, candidates)
        .filter(|c| edit_distance(&key.to_ascii_lowercase(), &c.to_ascii_lowercase()) <= limit)
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
        // Bounded: huge input gets no hint; far-off lengths are skipped.
        assert_eq!(closest(&"d".repeat(10_000), ["dose"]), None);
        assert_eq!(closest("do", ["dose-unit-long"]), None);
        // Keys: a slip of the same key, never a different parameter.
        let model = ["switch-rate-per-division", "death-rate-per-day", "hill"];
        assert_eq!(
            super::closest_key("reversion-rate-per-division", model),
            None
        );
        assert_eq!(
            super::closest_key("max-volume-mm", ["max-volume-mm3", "max-diameter-mm"]),
            Some("max-volume-mm3")
        );
        assert_eq!(
            super::closest_key("kultur", ["culture", "cloning"]),
            Some("culture")
        );
    }

    #[test]
    fn long_lines_are_clipped_around_the_span() {
        let key = "k".repeat(100_000);
        let text = format!("a = 1\n{key} = 1 # tail {}\n", "t".repeat(10_000));
        let at = 6 + 50_000;
        let d = Diagnostic::at(Severity::Error, "m".into(), "f", &text, at..at + 3);
        assert_eq!(d.line, 2);
        assert_eq!(d.col, 50_001);
        assert_eq!(d.width, 3);
        assert_eq!(d.line_text.chars().count(), 2 * WINDOW + 3 + 2);
        assert!(d.line_text.starts_with('…') && d.line_text.ends_with('…'));
        let shown = d.to_string();
        assert!(shown.len() < 600, "{shown}");
        assert!(
            shown.ends_with(&format!("| {}^^^\n", " ".repeat(WINDOW + 1))),
            "{shown}"
        );
        // A span longer than the window gets a caret of WINDOW characters.
        let d = Diagnostic::at(Severity::Error, "m".into(), "f", &text, 6..6 + 100_000);
        assert_eq!(d.width, WINDOW);
        assert_eq!(d.caret_at, 0);
        // Huge messages are clipped.
        let d = Diagnostic::at(Severity::Error, key.clone(), "f", &text, 0..1);
        assert_eq!(d.message.chars().count(), MAX_MESSAGE + 1);
    }

    #[test]
    fn line_index_gives_the_same_positions_as_a_scan() {
        let text = "a\nbb\n\nccc = 1\r\nd";
        let scanned: Vec<(usize, usize)> = (0..text.len())
            .map(|i| {
                let d = Diagnostic::at(Severity::Error, "m".into(), "f", text, i..i + 1);
                (d.line, d.col)
            })
            .collect();
        let _scope = LineScope::new(text);
        for (i, want) in scanned.iter().enumerate() {
            let d = Diagnostic::at(Severity::Error, "m".into(), "f", text, i..i + 1);
            assert_eq!((d.line, d.col), *want, "offset {i}");
        }
        assert_eq!(scanned[9], (4, 4));
    }

    #[test]
    fn many_diagnostics_are_capped_errors_first() {
        let text = "a = 1\n";
        let mk = |sev| Diagnostic::at(sev, "m".into(), "f", text, 0..1);
        let mut v: Vec<Diagnostic> = (0..80).map(|_| mk(Severity::Warning)).collect();
        v.push(mk(Severity::Error));
        let (s, e, w) = shown(&v);
        assert_eq!(s.len(), MAX_SHOWN);
        assert!(s.last().unwrap().is_error());
        assert_eq!((e, w), (0, 31));
        assert_eq!(
            more_line("f", e, w),
            "f: … and 31 more not shown (31 warnings; the first 50 are listed)\n"
        );
        assert_eq!(more_line("f", 0, 0), "");
    }
}

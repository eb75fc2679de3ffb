//! A small, dependency-free HTML document model for the self-contained report: inline CSS,
//! inline SVG figures, tables, no JavaScript, readable when printed.

use std::fmt::Write as _;
use std::path::Path;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A table with a header row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Caption above the table.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows (cells as display text).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file written by another command into a table (header from the first row).
    /// Long tables can be capped with `max_rows` (a final row says how many were left out).
    pub fn from_csv(
        path: &Path,
        caption: &str,
        max_rows: Option<usize>,
    ) -> Result<Table, csv::Error> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
        let header = rdr
            .headers()?
            .iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        let mut rows = Vec::new();
        let mut total = 0usize;
        for rec in rdr.records() {
            let rec = rec?;
            total += 1;
            if max_rows.is_none_or(|m| rows.len() < m) {
                rows.push(rec.iter().map(pretty_number).collect());
            }
        }
        if total > rows.len() {
            let mut note = vec![String::new(); header.len().max(1)];
            note[0] = format!(
                "… {} more rows in {}",
                total - rows.len(),
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default()
            );
            rows.push(note);
        }
        Ok(Table {
            caption: caption.to_string(),
            header,
            rows,
        })
    }
}

/// Shortens long decimals for display (`12.345678` → `12.35`, `0.000012` → `1.2e-5`); other
/// text unchanged. The CSV files keep full precision.
pub fn pretty_number(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() || !t.contains('.') && !t.contains('e') {
        return t.to_string();
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => {
            let a = x.abs();
            if a != 0.0 && !(1e-3..1e6).contains(&a) {
                format!("{x:.2e}")
            } else if a >= 100.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.3}")
            }
        }
        _ => t.to_string(),
    }
}

/// One block of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph of plain text (escaped).
    Para(String),
    /// A highlighted paragraph (e.g. the sample-size justification to paste).
    Callout(String),
    /// Definition list of key → value (escaped).
    Facts(Vec<(String, String)>),
    /// Bulleted list (escaped).
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// An inline SVG figure (the SVG text as written by `plot::save`) with a caption.
    Figure {
        /// SVG document text.
        svg: String,
        /// Caption.
        caption: String,
        /// Relative link to the PNG beside it (for slides).
        png_link: Option<String>,
    },
    /// Preformatted text (escaped), e.g. a TOML fragment.
    Pre(String),
    /// Bulleted list of relative links: (href, text), both escaped (a campaign's stage reports).
    Links(Vec<(String, String)>),
}

/// A section with an anchor id.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Anchor id (used by the table of contents).
    pub id: String,
    /// Heading text.
    pub heading: String,
    /// Content.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section.
    pub fn new(id: &str, heading: &str) -> Self {
        Section {
            id: id.to_string(),
            heading: heading.to_string(),
            blocks: Vec::new(),
        }
    }
    /// Appends a block.
    pub fn push(&mut self, b: Block) -> &mut Self {
        self.blocks.push(b);
        self
    }
}

/// The whole report page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Document title.
    pub title: String,
    /// Line under the title (kind, seed, version, date).
    pub subtitle: String,
    /// Sections in order.
    pub sections: Vec<Section>,
}

const CSS: &str = r#"
:root { --ink:#1d232a; --muted:#5b6670; --line:#d8dee4; --accent:#0072b2; --bg:#fbfcfd; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       background: var(--bg); margin: 0; line-height: 1.45; font-size: 15px; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 32px 60px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
.subtitle { color: var(--muted); margin: 0 0 18px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 36px; }
nav.toc { border: 1px solid var(--line); padding: 10px 16px; border-radius: 6px; background: #f6f8fa; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2; }
table { border-collapse: collapse; margin: 8px 0 18px; font-size: 13px; width: auto; max-width: 100%; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef2f6; }
tr:nth-child(even) td { background: #fafbfc; }
.tablewrap { overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 8px 0 16px; }
dl.facts dt { font-weight: bold; color: var(--muted); }
dl.facts dd { margin: 0; }
figure { margin: 14px 0 22px; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; max-width: 900px; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
.callout { border-left: 4px solid var(--accent); background: #eef6fb; padding: 10px 14px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 10px; overflow-x: auto; font-size: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { background: #fff; } main { max-width: none; padding: 0; } nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  /* Tables, figures and boxes whole on one page where they fit; a longer table breaks between
     rows and repeats its header row on the next page. */
  table, figure, .callout, dl.facts { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  tr, th, td { break-inside: avoid; page-break-inside: avoid; }
  /* Paper cannot scroll: a wide table shrinks and wraps its cells instead of losing its last
     columns (the tests table's cohort) past the page edge. */
  .tablewrap { overflow: visible; }
  table { width: 100%; font-size: 9pt; }
  th, td { padding: 2px 4px; overflow-wrap: break-word; }
  th { overflow-wrap: normal; }
  /* A number is never split across lines; a table of many columns gets a landscape page
     and a smaller font (Chromium's named pages). */
  td.num { white-space: nowrap; }
  @page wide { size: A4 landscape; margin: 10mm; }
  .tablewrap.wide { page: wide; }
  .tablewrap.wide table { font-size: 7pt; }
  /* Long preformatted lines (the animals-to-implant sentence) wrap instead of being cut. */
  pre { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; font-size: 8.5pt; }
  figure svg { max-width: 100%; }
  a { color: inherit; }
}
"#;

/// Tables with more columns than this print on a landscape page in a smaller font.
const WIDE_TABLE_COLUMNS: usize = 9;

/// Strips the XML prolog so an SVG file can be inlined in HTML.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

impl Page {
    /// Renders the page as one self-contained HTML document.
    pub fn render(&self) -> String {
        let mut h = String::with_capacity(1 << 20);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n",
            escape(&self.title),
            escape(&self.title),
            escape(&self.subtitle)
        );
        h.push_str("<nav class=\"toc\"><strong>Contents</strong><ol>\n");
        for s in &self.sections {
            let _ = writeln!(
                h,
                "<li><a href=\"#{}\">{}</a></li>",
                escape(&s.id),
                escape(&s.heading)
            );
        }
        h.push_str("</ol></nav>\n");
        for s in &self.sections {
            let _ = writeln!(
                h,
                "<section id=\"{}\">\n<h2>{}</h2>",
                escape(&s.id),
                escape(&s.heading)
            );
            for b in &s.blocks {
                render_block(&mut h, b);
            }
            h.push_str("</section>\n");
        }
        let _ = write!(
            h,
            "<footer>Generated by xenoplan {} — a planning and teaching tool; simulated data are synthetic.</footer>\n</main>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION")
        );
        h
    }
}

fn render_block(h: &mut String, b: &Block) {
    match b {
        Block::Para(t) => {
            let _ = writeln!(h, "<p>{}</p>", escape(t));
        }
        Block::Callout(t) => {
            let _ = writeln!(h, "<p class=\"callout\">{}</p>", escape(t));
        }
        Block::Facts(kv) => {
            h.push_str("<dl class=\"facts\">\n");
            for (k, v) in kv {
                let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
            }
            h.push_str("</dl>\n");
        }
        Block::List(items) => {
            h.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(h, "<li>{}</li>", escape(i));
            }
            h.push_str("</ul>\n");
        }
        Block::Table(t) => {
            // Wide tables print on a landscape page in a smaller font rather than breaking
            // numbers into single characters.
            let wide = t.header.len() > WIDE_TABLE_COLUMNS;
            h.push_str(if wide {
                "<div class=\"tablewrap wide\"><table>\n"
            } else {
                "<div class=\"tablewrap\"><table>\n"
            });
            if !t.caption.is_empty() {
                let _ = writeln!(h, "<caption>{}</caption>", escape(&t.caption));
            }
            h.push_str("<thead><tr>");
            for c in &t.header {
                // CSV column names break after their underscores, not inside words.
                let _ = write!(h, "<th>{}</th>", escape(c).replace('_', "_<wbr>"));
            }
            h.push_str("</tr></thead>\n<tbody>\n");
            for r in &t.rows {
                h.push_str("<tr>");
                for c in r {
                    let num = !c.is_empty()
                        && c.trim_start_matches(['-', '+'])
                            .replace(['.', 'e', 'E', '-', '+'], "")
                            .chars()
                            .all(|ch| ch.is_ascii_digit());
                    let _ = write!(
                        h,
                        "<td{}>{}</td>",
                        if num { " class=\"num\"" } else { "" },
                        escape(c)
                    );
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody></table></div>\n");
        }
        Block::Figure {
            svg,
            caption,
            png_link,
        } => {
            h.push_str("<figure>\n");
            h.push_str(inline_svg(svg));
            let link = png_link
                .as_ref()
                .map(|l| format!(" (<a href=\"{}\">PNG</a>)", escape(l)))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "\n<figcaption>{}{}</figcaption>\n</figure>",
                escape(caption),
                link
            );
        }
        Block::Pre(t) => {
            let _ = writeln!(h, "<pre>{}</pre>", escape(t));
        }
        Block::Links(items) => {
            h.push_str("<ul>\n");
            for (href, text) in items {
                let _ = writeln!(
                    h,
                    "<li><a href=\"{}\">{}</a></li>",
                    escape(href),
                    escape(text)
                );
            }
            h.push_str("</ul>\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_renders_sections() {
        let mut s = Section::new("a", "Growth <curves>");
        s.push(Block::Para("T/C < 40% & \"quoted\"".into()));
        s.push(Block::Table(Table {
            caption: "t".into(),
            header: vec!["arm".into(), "n".into()],
            rows: vec![vec!["vehicle".into(), "8".into()]],
        }));
        s.push(Block::Figure {
            svg: "<?xml version=\"1.0\"?>\n<svg width=\"10\"></svg>".into(),
            caption: "fig".into(),
            png_link: Some("plots/g.png".into()),
        });
        let page = Page {
            title: "T".into(),
            subtitle: "s".into(),
            sections: vec![s],
        };
        let html = page.render();
        assert!(html.contains("Growth &lt;curves&gt;"));
        assert!(html.contains("T/C &lt; 40% &amp; &quot;quoted&quot;"));
        assert!(html.contains("<svg width=\"10\"></svg>") && !html.contains("<?xml"));
        assert!(html.contains("<td>vehicle</td><td class=\"num\">8</td>"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn print_css_keeps_tables_whole_and_wraps_wide_content() {
        let print = &CSS[CSS.find("@media print").expect("print rules")..];
        for rule in [
            "table, figure, .callout, dl.facts { break-inside: avoid;",
            "thead { display: table-header-group; }",
            ".tablewrap { overflow: visible; }",
            "pre { white-space: pre-wrap;",
            "overflow-wrap: anywhere",
            "td.num { white-space: nowrap; }",
            ".tablewrap.wide { page: wide; }",
        ] {
            assert!(print.contains(rule), "print CSS lacks {rule}");
        }
        // The print block is closed (a missing brace would swallow the rules after it).
        assert_eq!(print.matches('{').count(), print.matches('}').count());
    }

    #[test]
    fn pretty_numbers() {
        assert_eq!(pretty_number("12.345678"), "12.346");
        assert_eq!(pretty_number("1234.5678"), "1234.6");
        assert_eq!(pretty_number("0.0000123"), "1.23e-5");
        assert_eq!(pretty_number("vehicle"), "vehicle");
        assert_eq!(pretty_number("8"), "8");
        assert_eq!(pretty_number(""), "");
    }
}

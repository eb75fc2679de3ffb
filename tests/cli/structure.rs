//! The shape of the crate: the graph of `crate::X` uses between the top-level modules of `src/`
//! has no cycle and follows the layering documented in `src/lib.rs`, and README names every
//! subcommand once in workflow order and every top-level module under `## Layout`.
//!
//! What the module graph reads: every module file reachable from `src/lib.rs` through `mod x;`
//! declarations (`x.rs` or `x/mod.rs`), with comments (doc comments included), string and char
//! literals blanked, and every item marked `#[cfg(test)]` dropped (an inline block, or a
//! `mod tests;` whose file is then not read). An edge `A -> B` is any `crate::B` path (also
//! inside `crate::{B, ..}` groups) or a `super::` chain climbing out of `A` to `B`, written in a
//! file of `A`. A `pub use` re-export is an edge from the re-exporting module to the source, so
//! a caller going through it still depends on the source transitively: re-exports never hide a
//! cycle. `#[path]` attributes are refused (the file tree must be the module tree).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::root;

/// Replaces comments, string literals and char literals with spaces (newlines kept), so that
/// neither prose nor messages count as code.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &b[i..j.min(b.len())] {
                blank(&mut out, ch);
            }
            i = j;
        } else if c == '"' {
            i = blank_quoted(&b, i, '"', &mut out);
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let is_char = next == Some('\\') || b.get(i + 2) == Some(&'\'');
            if is_char {
                i = blank_quoted(&b, i, '\'', &mut out);
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// A blank for `c` in code-only text (newlines kept, so positions stay on their lines).
fn blank(out: &mut String, c: char) {
    out.push(if c == '\n' { '\n' } else { ' ' });
}

/// Blanks the literal opening at `b[i]` with `quote` (escapes skipped) into `out`; returns the
/// index past its closing quote.
fn blank_quoted(b: &[char], mut i: usize, quote: char, out: &mut String) -> usize {
    blank(out, b[i]);
    i += 1;
    while i < b.len() && b[i] != quote {
        if b[i] == '\\' {
            blank(out, b[i]);
            i += 1;
        }
        if i < b.len() {
            blank(out, b[i]);
            i += 1;
        }
    }
    if i < b.len() {
        blank(out, b[i]);
        i += 1;
    }
    i
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == '_')
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Index just past the item starting at `start`: its `;` or its matching `}`, whichever closes
/// it at bracket depth 0.
fn item_end(b: &[char], start: usize) -> usize {
    let mut depth = 0i32;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' if depth == 0 => return i + 1,
            '{' if depth == 0 => {
                let mut d = 0;
                while i < b.len() {
                    match b[i] {
                        '{' => d += 1,
                        '}' => {
                            d -= 1;
                            if d == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// Drops every `#[cfg(test)]` item from code-only text; returns the rest.
fn without_test_items(code: &str) -> String {
    let b: Vec<char> = code.chars().collect();
    let pat: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(&pat) {
            let end = item_end(&b, i + pat.len());
            for &c in &b[i..end] {
                out.push(if c == '\n' { '\n' } else { ' ' });
            }
            i = end;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The `mod name;` declarations left in non-test code.
fn declared_modules(code: &str) -> Vec<String> {
    let toks: Vec<&str> = code
        .split(|c: char| !is_ident(c) && c != ';')
        .flat_map(|t| {
            let mut v = Vec::new();
            let mut rest = t;
            while let Some(p) = rest.find(';') {
                if p > 0 {
                    v.push(&rest[..p]);
                }
                v.push(";");
                rest = &rest[p + 1..];
            }
            if !rest.is_empty() {
                v.push(rest);
            }
            v
        })
        .filter(|t| !t.is_empty())
        .collect();
    toks.windows(3)
        .filter(|w| w[0] == "mod" && w[2] == ";")
        .map(|w| w[1].to_string())
        .collect()
}

/// Top-level modules named by `crate::` paths and by `super::` chains leaving the top module,
/// in a file `depth` modules below the crate root.
fn referenced_tops(code: &str, depth: usize, tops: &BTreeSet<String>) -> BTreeSet<String> {
    let b: Vec<char> = code.chars().collect();
    let mut found = BTreeSet::new();
    let word = |i: usize| -> String { b[i..].iter().take_while(|c| is_ident(**c)).collect() };
    let mut i = 0;
    while i < b.len() {
        if ident_before(&b, i) || !(b[i] == 'c' || b[i] == 's') {
            i += 1;
            continue;
        }
        let w = word(i);
        let mut j = i + w.len();
        let at_root = if w == "crate" {
            true
        } else if w == "super" {
            let mut climbed = 1;
            while b[j..].starts_with(&[':', ':', 's']) && word(j + 2) == "super" {
                climbed += 1;
                j += 2 + "super".len();
            }
            climbed >= depth
        } else {
            false
        };
        if !at_root || !b[j..].starts_with(&[':', ':']) {
            i = j.max(i + 1);
            continue;
        }
        j += 2;
        while j < b.len() && b[j].is_whitespace() {
            j += 1;
        }
        if b.get(j) == Some(&'{') {
            // crate::{a::x, b, c::{..}}: the first segment of each top-level entry.
            let mut d = 0;
            let mut expect = true;
            let mut k = j;
            while k < b.len() {
                match b[k] {
                    '{' => {
                        d += 1;
                        if d == 1 {
                            expect = true;
                        }
                    }
                    '}' => {
                        d -= 1;
                        if d == 0 {
                            break;
                        }
                    }
                    ',' if d == 1 => expect = true,
                    c if d == 1 && expect && is_ident(c) => {
                        found.insert(word(k));
                        k += word(k).len();
                        expect = false;
                        continue;
                    }
                    _ => {}
                }
                k += 1;
            }
            i = k;
        } else {
            let name = word(j);
            if tops.contains(&name) {
                found.insert(name.clone());
            }
            i = j + name.len().max(1);
        }
    }
    found.retain(|m| tops.contains(m));
    found
}

/// The non-test files of the module whose file is `file`, `depth` modules below the root.
fn module_files(file: &Path, depth: usize, out: &mut Vec<(PathBuf, usize, String)>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        !text.contains("#[path"),
        "{} uses #[path]: the file tree must be the module tree",
        file.display()
    );
    let code = without_test_items(&code_only(&text));
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let dir = if stem == "mod" || stem == "lib" {
        file.parent().expect("parent").to_path_buf()
    } else {
        file.with_extension("")
    };
    for m in declared_modules(&code) {
        let flat = dir.join(format!("{m}.rs"));
        let nested = dir.join(&m).join("mod.rs");
        let child = if flat.exists() { flat } else { nested };
        module_files(&child, depth + 1, out);
    }
    out.push((file.to_path_buf(), depth, code));
}

/// Top-level module -> the top-level modules its non-test code names.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let lib = code_only(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let tops: BTreeSet<String> = declared_modules(&without_test_items(&lib))
        .into_iter()
        .collect();
    let mut graph = BTreeMap::new();
    for top in &tops {
        let flat = src.join(format!("{top}.rs"));
        let file = if flat.exists() {
            flat
        } else {
            src.join(top).join("mod.rs")
        };
        let mut files = Vec::new();
        module_files(&file, 1, &mut files);
        let mut deps = BTreeSet::new();
        for (_, depth, code) in &files {
            deps.extend(referenced_tops(code, *depth, &tops));
        }
        deps.remove(top);
        graph.insert(top.clone(), deps);
    }
    graph
}

/// A cycle in `graph` as a path `a -> b -> .. -> a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).expect("on stack");
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, graph, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

/// The layers of `src/lib.rs`'s doc list ("N. [`a`] .., [`b`] .."), lowest first: module ->
/// layer number.
fn documented_layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(root().join("src").join("lib.rs")).expect("lib.rs");
    let mut layers = BTreeMap::new();
    let mut current: Option<usize> = None;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            break;
        };
        let doc = doc.trim();
        if doc.is_empty() {
            current = None;
            continue;
        }
        if let Some((n, _)) = doc.split_once(". ")
            && let Ok(n) = n.parse::<usize>()
        {
            current = Some(n);
        }
        let Some(n) = current else { continue };
        for part in doc.split("[`").skip(1) {
            if let Some((name, _)) = part.split_once("`]") {
                let before = layers.insert(name.to_string(), n);
                assert!(
                    before.is_none_or(|b| b == n),
                    "lib.rs lists `{name}` in two layers"
                );
            }
        }
    }
    layers
}

fn render(graph: &BTreeMap<String, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(a, deps)| {
            format!(
                "  {a} -> {}",
                deps.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn top_level_modules_have_no_cycle_and_follow_the_documented_layers() {
    let graph = module_graph();
    let shown = render(&graph);
    assert!(graph.len() >= 15, "too few modules found:\n{shown}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle {}:\n{shown}", cycle.join(" -> "));
    }
    let layers = documented_layers();
    let listed: BTreeSet<&String> = layers.keys().collect();
    let modules: BTreeSet<&String> = graph.keys().collect();
    assert_eq!(
        listed, modules,
        "src/lib.rs's layer list must name every top-level module once"
    );
    for (a, deps) in &graph {
        for b in deps {
            assert!(
                layers[b] < layers[a],
                "`{a}` (layer {}) reads `{b}` (layer {}): a module reads only lower layers; move \
                 the shared piece down or fix the layer list in src/lib.rs\n{shown}",
                layers[a],
                layers[b]
            );
        }
    }
    // `plot` draws what it is given: it reads the tidy data and the output helpers only.
    for m in &graph["plot"] {
        assert!(["data", "output"].contains(&m.as_str()), "plot reads {m}");
    }
}

/// The parser sees what it should: grouped paths, `super::` chains out of the top module, and
/// not comments, strings or `#[cfg(test)]` items.
#[test]
fn module_graph_parser_reads_code_only() {
    let tops: BTreeSet<String> = ["alpha", "beta", "gamma", "delta"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let src = r##"
        //! Uses crate::delta in prose.
        use crate::{alpha::X, beta::{self, Y}};
        fn f<'a>(x: &'a str) -> char { let _ = "crate::delta"; let _ = r#"crate::delta"#; '"' }
        /* crate::delta */
        fn g() { super::super::gamma::h(); }
        #[cfg(test)]
        mod tests { use crate::delta::Z; }
        #[cfg(test)]
        fn helper(a: [u8; 2]) { crate::delta::z(); }
    "##;
    let code = without_test_items(&code_only(src));
    let found = referenced_tops(&code, 2, &tops);
    let expect: BTreeSet<String> = ["alpha", "beta", "gamma"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, expect, "{code}");
    // One level deep, `super::super` would leave the crate: only `crate::` counts there.
    assert!(!referenced_tops("super::gamma::x()", 2, &tops).contains("gamma"));
    assert!(referenced_tops("super::gamma::x()", 1, &tops).contains("gamma"));
    assert_eq!(
        declared_modules("pub mod a;\nmod b;\npub(crate) mod c { }"),
        ["a", "b"]
    );
}

/// README's sections per subcommand, in workflow order: the protocol commands, then
/// timeline → simulate → analyze → fit → power → report.
const WORKFLOW: [&str; 10] = [
    "list", "check", "show", "schema", "timeline", "simulate", "analyze", "fit", "power", "report",
];

/// README's lines outside fenced code blocks (a `# comment` in a shell block is no heading).
fn readme_prose() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push(line.to_string());
        }
    }
    out
}

#[test]
fn readme_has_one_section_per_subcommand_in_workflow_order() {
    // The subcommands the binary has (its --help), so a new one cannot be left out.
    let help = crate::stdout(&crate::xenoplan(&["--help"]));
    let commands: BTreeSet<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    let workflow: BTreeSet<String> = WORKFLOW.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        commands, workflow,
        "--help and the README workflow list differ:\n{help}"
    );
    let headings: Vec<String> = readme_prose()
        .into_iter()
        .filter_map(|l| {
            let h = l.strip_prefix("## `")?.strip_suffix('`')?;
            Some(h.to_string())
        })
        .collect();
    for c in WORKFLOW {
        let n = headings.iter().filter(|h| *h == c).count();
        assert_eq!(
            n, 1,
            "README has {n} headings \"## `{c}`\"; expected exactly one"
        );
    }
    let order: Vec<&str> = headings
        .iter()
        .map(String::as_str)
        .filter(|h| WORKFLOW.contains(h))
        .collect();
    assert_eq!(
        order, WORKFLOW,
        "README's subcommand sections are out of workflow order"
    );
}

#[test]
fn readme_layout_names_every_module_in_layer_order() {
    let prose = readme_prose();
    let start = prose
        .iter()
        .position(|l| l == "## Layout")
        .expect("README has a `## Layout` section");
    let rows: Vec<String> = prose[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| {
            let cell = l.strip_prefix("| `")?;
            Some(cell.split('`').next()?.to_string())
        })
        .collect();
    let layers = documented_layers();
    for m in module_graph().keys() {
        assert!(
            rows.contains(m),
            "README's `## Layout` table misses the module `{m}`"
        );
    }
    for r in &rows {
        assert!(
            layers.contains_key(r),
            "README's Layout names `{r}`, no module of src/"
        );
    }
    for w in rows.windows(2) {
        assert!(
            layers[&w[0]] <= layers[&w[1]],
            "README's Layout lists `{}` before `{}`, against the layers of src/lib.rs",
            w[0],
            w[1]
        );
    }
}

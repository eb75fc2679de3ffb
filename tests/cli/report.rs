//! `xenoplan report` on every bundled protocol: the page exists, links resolve, tables have
//! rows, no NaN/inf anywhere, and the README's main command is the one that works.

use super::{root, scratch, stderr, stdout, xenoplan};

/// Runs the report for `file` (cheap settings) into a scratch folder and returns its HTML.
fn report(file: &str, name: &str, extra: &[&str]) -> (std::path::PathBuf, String) {
    let out = scratch(name);
    let out_s = out.to_str().expect("utf-8 path");
    let mut args = vec!["report", file, "--out", out_s, "--start", "2027-01-04"];
    args.extend_from_slice(extra);
    let o = xenoplan(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{file}: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    (out, html)
}

fn check_page(dir: &std::path::Path, html: &str, file: &str) {
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains("<script"),
        "{file}: the page must not need JavaScript"
    );
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "{file}: no external resources"
    );
    // Every relative link resolves to a file beside the page.
    for part in html.split("href=\"").skip(1) {
        let target = &part[..part.find('"').unwrap_or(0)];
        if target.starts_with('#') || target.starts_with("http") {
            continue;
        }
        assert!(
            dir.join(target).is_file(),
            "{file}: link {target} does not exist"
        );
    }
    // Every table has at least one body row.
    for (i, t) in html.split("<tbody>").skip(1).enumerate() {
        let body = &t[..t.find("</tbody>").unwrap_or(0)];
        assert!(body.contains("<tr>"), "{file}: table {i} has no rows");
    }
    // No NaN or infinity printed anywhere (tables, figures, text).
    for tok in html.split(|c: char| !c.is_ascii_alphanumeric()) {
        assert!(
            !matches!(tok, "NaN" | "nan" | "inf" | "Infinity" | "infinity"),
            "{file}: `{tok}` in the page"
        );
    }
    assert!(dir.join("manifest.json").is_file());
}

#[test]
fn report_tamr_has_every_section_and_figure() {
    let (dir, html) = report(
        "protocols/tamr_mcf7_xenograft.toml",
        "report_tamr",
        &["--reps", "40", "--n", "4,8"],
    );
    check_page(&dir, &html, "tamr");
    for needle in [
        "Timeline and resources",
        "Simulated study",
        "Power and arm size",
        "Methods and definitions",
        "Sample-size justification",
        "Model parameters and their sources",
        "Shafie &amp; Grantham 1981",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    let figures = html.matches("<figure>").count();
    // Gantt + per cohort growth, spaghetti, spaghetti_log, tgi, waterfall, survival (2 cohorts)
    // + power.
    let expected = 1 + 2 * 6 + 1;
    assert!(
        figures >= expected,
        "{figures} figures, expected {expected}"
    );
    for f in [
        "timeline.csv",
        "timeline.ics",
        "resources.csv",
        "animals.csv",
        "tests.csv",
        "power.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
}

#[test]
fn report_works_for_every_bundled_protocol() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("protocols"))
        .expect("protocols/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7);
    for p in files {
        let rel = format!(
            "protocols/{}",
            p.file_name().and_then(|n| n.to_str()).expect("name")
        );
        if rel.contains("tamr") {
            continue; // covered above
        }
        let stem = p
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("stem")
            .to_string();
        let (dir, html) = report(
            &rel,
            &format!("report_{stem}"),
            &["--reps", "20", "--n", "4,8"],
        );
        check_page(&dir, &html, &rel);
        assert!(html.contains("<figure>"), "{rel}: no figure");
    }
}

#[test]
fn readme_main_command_is_the_report_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(readme.contains("cargo run --release -- report protocols/tamr_mcf7_xenograft.toml"));
    assert!(readme.contains("cargo test --release"));
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(ci.contains("cargo test --release"));
}

#[test]
fn report_on_missing_file_exits_one() {
    let o = xenoplan(&["report", "protocols/does_not_exist.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does_not_exist.toml"), "{}", stderr(&o));
}

#[test]
fn report_derivation_shows_the_ic50_trajectory() {
    let file = "protocols/tamoxifen_resistant_mcf7_derivation.toml";
    let (dir, html) = report(file, "report_tamr_derivation_ic50", &["--reps", "3"]);
    check_page(&dir, &html, file);
    assert!(
        html.contains("IC50 of the pool and of the parental line at each check"),
        "no IC50 trajectory figure"
    );
    assert!(html.contains("IC50 checks, run 1"), "no IC50 check table");
    // An IC50 above the top tested dose is censored, never a number.
    assert!(
        html.contains("&gt; 1000 nM (not reached") || html.contains("> 1000 nM (not reached"),
        "no censored IC50 in the page"
    );
}

#[test]
fn report_assay_shows_in_vitro_sizing() {
    let file = "protocols/camizestrant_proliferation_assay.toml";
    let (dir, html) = report(file, "report_assay_power", &["--reps", "30", "--n", "2,3"]);
    check_page(&dir, &html, file);
    assert!(
        html.contains("Recommended replicate wells per condition: n = "),
        "no in vitro recommendation"
    );
    assert!(html.contains("In vitro power by replicate wells per condition"));
    assert!(dir.join("power.csv").is_file());
}

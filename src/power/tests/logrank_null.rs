//! Issue 16: the log-rank test's type I error at small n through the path `power` uses
//! (whole simulated studies, `analysis::compare` → `logrank_exact`), not a stand-in
//! generator: the TamR-MCF-7 cohort with tamoxifen's effect set to none, so the tamoxifen arm
//! and vehicle are two identical arms; time to 700 mm³ on the Mon/Thu caliper grid (ties).

use super::settings;
use crate::power::results::run_power;
use crate::protocol::{TestKey, parse};

/// The null protocol: TamR's tamoxifen arm without effect, one two-sided log-rank hypothesis.
fn null_protocol() -> crate::protocol::Protocol {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocols/tamr_mcf7_xenograft.toml"
    );
    let text = std::fs::read_to_string(p).expect("read TamR");
    let head = text
        .split("[[analysis.hypotheses]]")
        .next()
        .expect("text before the hypotheses");
    let tail = text
        .split("[husbandry]")
        .nth(1)
        .expect("husbandry after the hypotheses");
    let text = format!(
        "{head}[[analysis.hypotheses]]\nname = \"null\"\nkind = \"vs-control\"\ncohort = \"TamR-MCF-7\"\narms = [\"tamoxifen\"]\ntests = [\"logrank\"]\n\n[husbandry]{tail}"
    )
    .replace(
        "inhibition = { value = 0.1, cv = 0.5,",
        "inhibition = { value = 0.0,",
    );
    parse(&text, "null.toml")
        .expect("null protocol parses")
        .protocol
}

#[test]
#[ignore = "3 × 4000 whole simulated studies; cargo test --release --lib logrank_null -- --ignored --nocapture"]
fn logrank_null_rejection_at_small_n_through_power() {
    let p = null_protocol();
    let mut s = settings(vec![3, 5, 8], 4000, 2);
    s.endpoints = vec![TestKey::Logrank];
    let r = run_power(&p, &s, &|_| {}).expect("power runs");
    let alpha = s.alpha;
    let mut fails = Vec::new();
    for row in &r.rows {
        let se = (alpha * (1.0 - alpha) / row.reps as f64).sqrt();
        let hi = alpha + 4.0 * se;
        eprintln!(
            "log-rank n = {}: type I {:.4} ({}/{} studies, {} not computable), limit α + 4 SE = {hi:.4} [{}]",
            row.n_per_arm, row.power, row.rejections, row.reps, row.not_computable, r.engine
        );
        if row.power > hi {
            fails.push(format!("n = {}: {:.4} > {hi:.4}", row.n_per_arm, row.power));
        }
    }
    assert_eq!(r.rows.len(), 3);
    assert!(fails.is_empty(), "{fails:?}");
}

//! The methods section: models, definitions and tests with their references, so a printed
//! report can be read without the code.

use super::html::Block;
use crate::protocol::{EnrollmentMode, Protocol, ProtocolKind, Randomization};

/// Methods and references for a protocol of `kind`.
pub fn methods_blocks(kind: ProtocolKind) -> Vec<Block> {
    let mut b = Vec::new();
    match kind {
        ProtocolKind::Xenograft => {
            b.push(Block::List(vec![
                "Growth models (volume V in mm³, time in days): exponential V' = rV; logistic V' = rV(1 − V/K); Gompertz V' = rV·ln(K/V); Simeoni et al. 2004 (Cancer Res 64:1094): x1' = λ0·x1/[1 + (λ0·w/λ1)^ψ]^(1/ψ) − k2·C(t)·x1 with three transit compartments of damaged cells (rate k1) and ψ = 20.".into(),
                "Between-animal variability: log-normal random effects on each parameter, value·exp(η), η ~ N(0, ln(1 + CV²)); additive normal effects where the protocol says so (bench P1 growth rates).".into(),
                "Implantation: each animal takes with probability take_rate; after its latency the tumor grows from V0; it is enrolled on the first caliper day its measured volume lies in the enrollment window, or excluded after the maximum wait.".into(),
                "Estrogen dependence: growth is multiplied by the cohort's growth-without-estrogen factor once the pellet is removed (parental MCF-7: 0, growth stops without regression — Shafie & Grantham, JNCI 1981;67:51).".into(),
                "Randomization: simple, or volume-balanced (animals sorted by volume and dealt at random within blocks of one animal per arm).".into(),
                "Drug effects: direct (fractional growth inhibition and first-order kill) or exposure-driven (one-compartment PK with first-order absorption superposed over every administration; Emax/EC50 Hill model on growth, or Simeoni kill term k2·C(t)). Combinations: Bliss independence on exponential growth rates (inhibitions add, b_AB = b_A + b_B − b_C; Demidenko & Miller 2019, the null of the bliss-lmm test) plus an interaction term in units of the control rate. A resistant subclone with reduced sensitivity lets regrowth emerge on treatment.".into(),
                "Calipers: length and width read with proportional error (Jensen et al., BMC Med Imaging 2008;8:16: intra-observer CV 14%), V = L·W²/2 (NCI convention; π/6·L·W² optional; Tomayko & Reynolds 1989); tumors below a detection floor read as not palpable (Pierrillas et al., AAPS J 2016;18:404).".into(),
                "Humane endpoints (Workman et al., BJC 2010;102:1555): an animal reaching the volume, diameter or body-weight-loss limit leaves the study at that visit.".into(),
            ]));
            b.push(Block::List(vec![
                "TGI% = (1 − (T_t − T_0)/(C_t − C_0))·100 on arm means (ΔT/ΔC); T/C% = T_t/C_t·100; 95% CIs by bootstrap resampling animals within arm.".into(),
                "Rate-based T/C: ratio of mean per-animal exponential growth rates (slope of ln V) — Hather et al., Cancer Inform 2014;13(S4):65.".into(),
                "mRECIST (Gao et al., Nat Med 2015; Bioconductor Xeva convention): ΔVol_t = 100·(V_t − V_0)/V_0; best response = min ΔVol_t for t ≥ 10 d; best average response = min over t ≥ 10 d of the running mean of ΔVol; mCR: BR < −95 and BAR < −40; mPR: BR < −50 and BAR < −20; mSD: BR < 35 and BAR < 30; otherwise mPD.".into(),
                "Tests, each arm vs its cohort's control: Welch t-test on ln V at the analysis day (last day with ≥ 80% of control animals on study, invivoSyn convention); Mann–Whitney U (exact for small samples without ties, else normal approximation with tie and continuity correction); Welch t-test on per-animal growth rates and on the AUC of log relative volume; linear mixed model on ln V with random intercept and slope per animal (REML, Satterthwaite df); log-rank test on time to the endpoint (first visit at or above the event volume, or euthanasia for tumor burden; other removals censored) with Kaplan–Meier estimates, p-value by exact permutation (Heinze et al. 2003; R coin) up to 8 animals per arm, else χ²; Fisher's exact test on objective response (mCR+mPR vs mSD+mPD; mSD reported separately as disease control). Holm adjustment across comparisons.".into(),
                "Power: each n per arm is simulated R times as a whole study (take, enrollment, randomization, dropout), analysed as planned; power = fraction of rejections with a Wilson 95% interval; replicate streams are derived from (seed, n, replicate) so results do not depend on the thread count. Where a closed form exists (t-test on ln V at a fixed day) the noncentral-t power is shown beside it.".into(),
            ]));
        }
        ProtocolKind::Derivation | ProtocolKind::Assay => {
            b.push(Block::List(vec![
                "Cell growth: exponential between passages with doubling times from Wiese et al., In Vitro Cell Dev Biol 1992;28A:595 (MCF-7: 33 h with estradiol, 55 h without); the aromatase inhibitor reduces estrogen made from the androgen substrate through a Hill curve, moving growth between those doubling times.".into(),
                "Resistance arises by selection of a pre-existing resistant clone (the documented mechanism, PMC2732824) and by rare switching per division; passages sample cells binomially so small populations drift or die out.".into(),
                "Dose-response: four-parameter logistic curve fitted by Levenberg–Marquardt nonlinear least squares on log10 dose; IC50 with a 95% confidence interval.".into(),
                "IC50 checks during a derivation: on each check day the pool as it is that day is plated beside the banked parental line with the validation design and fitted the same way; an IC50 above the top tested dose is reported censored (> top dose), and its fold shift is a lower bound.".into(),
                "In vitro sizing (assay protocols): each simulated experiment plates a line and the same line with its IC50 shifted by the fold shift on the protocol's layout with n replicate wells per dose; both are fitted with the same 4PL and compared by a Wald test of the difference of log10 IC50 (SE² = SE₁² + SE₂² from the fits' asymptotic covariances, Satterthwaite df; comparing best-fit values of two fits, Motulsky & Christopoulos 2004); failed fits and IC50s outside the tested doses count as not significant; power with Wilson 95% intervals.".into(),
            ]));
        }
        ProtocolKind::Procedure => {
            b.push(Block::Para("Tasks are scheduled on working days in dependency order (a task starts when all tasks it depends on are finished).".into()));
        }
    }
    b.push(Block::Para(
        "Reproducibility: random numbers from xoshiro256++ with per-replicate streams derived by SplitMix64 from (seed, stream ids); the same protocol, seed and version give byte-identical tables. Every output folder holds a manifest.json with the tool version, protocol sha256, seed and command line."
            .into(),
    ));
    b
}

/// The ARRIVE 2.0 items the protocol answers (Percie du Sert et al., PLoS Biol
/// 2020;18:e3000410), each labelled with its item number; an item the protocol does not
/// state says so and names the key to set. Xenograft protocols only.
pub fn arrive_facts(protocol: &Protocol) -> Option<Vec<(String, String)>> {
    let x = protocol.xenograft()?;
    let arms: usize = x.cohorts.iter().map(|c| c.arms.len()).sum();
    let n: Vec<String> = x
        .cohorts
        .iter()
        .map(|c| {
            let per: Vec<String> = c.arms.iter().map(|a| a.n.to_string()).collect();
            format!("{}: {} arms, n = {}", c.name, c.arms.len(), per.join("/"))
        })
        .collect();
    let e = &x.enrollment;
    let randomization = match e.randomization {
        Randomization::Simple => "simple random assignment of eligible animals",
        Randomization::VolumeBalanced => {
            "volume-balanced: eligible animals sorted by tumor volume and dealt at random within blocks of one animal per arm"
        }
    };
    let mode = match e.mode {
        EnrollmentMode::SingleDay => {
            "all arms start on the first caliper day with enough eligible animals"
        }
        EnrollmentMode::Rolling => {
            "rolling: each animal is randomized on the caliper day its tumor first reads inside the window"
        }
        EnrollmentMode::AtBaseline => {
            "animals enrolled as drawn at baseline (no pre-treatment growth)"
        }
    };
    let a = &x.animals;
    let age = a.age_weeks.map_or("age not stated".to_string(), |w| {
        format!("{w} weeks at arrival")
    });
    let ep = &x.endpoints;
    let limit = |s: &Option<crate::protocol::Sourced>, unit: &str, what: &str| {
        s.as_ref().map(|v| format!("{what} ≥ {} {unit}", v.value))
    };
    let humane: Vec<String> = [
        limit(&ep.max_volume_mm3, "mm³", "tumor volume"),
        limit(&ep.max_diameter_mm, "mm", "mean diameter"),
        limit(&ep.max_weight_loss_pct, "%", "body-weight loss"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let test_label = |t: Option<&crate::protocol::TestKey>| {
        t.map_or("none declared".to_string(), |t| t.info().label.to_string())
    };
    let primary = match x
        .analysis
        .hypotheses
        .iter()
        .find(|h| h.role == crate::protocol::Role::Primary)
    {
        Some(h) => format!(
            "\"{}\" by {}",
            h.name,
            test_label(h.tests.first().or(x.analysis.tests.first()))
        ),
        None => test_label(x.analysis.tests.first()),
    };
    Some(vec![
        (
            "1 Study design".into(),
            format!(
                "{arms} groups in {} cohort(s), each treated arm vs its cohort's control; experimental unit: the animal (one tumor per animal)",
                x.cohorts.len()
            ),
        ),
        (
            "2 Sample size".into(),
            format!(
                "{}; justified by simulation in the power section of this report",
                n.join("; ")
            ),
        ),
        (
            "3 Inclusion and exclusion".into(),
            format!(
                "tumors inside {}–{} mm³ within {} days of implantation are eligible; animals without a take or not eligible by then are excluded (counted in the enrollment table)",
                e.min_mm3, e.max_mm3, e.max_wait_days
            ),
        ),
        (
            "4 Randomisation".into(),
            format!("{randomization}; {mode}"),
        ),
        (
            "5 Blinding".into(),
            x.analysis.blinding.clone().unwrap_or_else(|| {
                "not stated in the protocol: set [analysis] blinding (who is blinded to group allocation, and when)".into()
            }),
        ),
        (
            "6 Outcome measures".into(),
            format!(
                "tumor volume by calipers (mm³); primary hypothesis: {primary}; analysis day {}",
                x.analysis
                    .analysis_day
                    .map_or("last day with ≥ 80% of control animals on study".to_string(), |d| d.to_string())
            ),
        ),
        (
            "8 Experimental animals".into(),
            format!(
                "{} {}, {}, {age}, body weight {} g{}",
                a.species,
                a.strain,
                a.sex,
                a.body_weight_g.value,
                if a.ovariectomized { ", ovariectomized" } else { "" }
            ),
        ),
        (
            "15 Housing and husbandry".into(),
            format!("{} animals per cage", x.husbandry.per_cage),
        ),
        (
            "16 Animal care and monitoring".into(),
            if humane.is_empty() {
                "no humane endpoint stated in the protocol: set [endpoints] max-volume-mm3 / max-diameter-mm / max-weight-loss-pct".into()
            } else {
                format!("humane endpoints: {}", humane.join("; "))
            },
        ),
    ])
}

#[cfg(test)]
mod arrive_tests {
    use super::arrive_facts;
    use crate::protocol::parse;

    fn tamr_text() -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(root.join("protocols/tamr_mcf7_xenograft.toml")).expect("bundled")
    }

    #[test]
    fn arrive_items_come_from_the_protocol_and_say_what_is_missing() {
        let p = parse(&tamr_text(), "tamr.toml").expect("valid").protocol;
        let facts = arrive_facts(&p).expect("xenograft");
        let get = |k: &str| {
            facts
                .iter()
                .find(|(key, _)| key.starts_with(k))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("item {k} missing"))
        };
        let x = p.xenograft().expect("xenograft");
        assert!(get("3 ").contains(&format!(
            "{}–{} mm³",
            x.enrollment.min_mm3, x.enrollment.max_mm3
        )));
        assert!(get("4 ").starts_with("volume-balanced"));
        assert!(get("5 ").starts_with("not stated in the protocol"));
        assert!(get("15 ").contains(&format!("{} animals per cage", x.husbandry.per_cage)));
        assert!(
            get("16 ").contains("tumor volume ≥ 1500 mm³"),
            "{}",
            get("16 ")
        );
        assert!(get("1 ").contains("experimental unit: the animal"));
    }

    #[test]
    fn blinding_is_read_and_an_empty_one_is_a_positioned_error() {
        let text = tamr_text().replace(
            "target-power = 0.8\n",
            "target-power = 0.8\nblinding = \"calipers read by a technician blinded to group allocation\"\n",
        );
        let p = parse(&text, "tamr.toml").expect("valid").protocol;
        let facts = arrive_facts(&p).expect("xenograft");
        assert!(
            facts
                .iter()
                .any(|(k, v)| k.starts_with("5 ") && v.starts_with("calipers read"))
        );
        let bad = tamr_text().replace(
            "target-power = 0.8\n",
            "target-power = 0.8\nblinding = \" \"\n",
        );
        let err = parse(&bad, "tamr.toml").expect_err("error").to_string();
        assert!(
            err.contains("blinding is empty") && err.contains("tamr.toml:"),
            "{err}"
        );
    }
}

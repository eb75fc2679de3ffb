//! Cox model and stratified log-rank vs R survival 3.5.3 (fixtures/tte.R → tte.json).

use super::*;
use crate::analysis::stats::{logrank, logrank_stratified};
use proptest::prelude::*;
use serde_json::Value;

/// Relative agreement with R: R's fits are run to coxph eps 1e-11 / survreg 1e-13, ours to a
/// Newton step below 1e-10, so both are at the optimum to far better than this.
pub(crate) const R_REL_TOL: f64 = 1e-6;

/// One fixture data set: (time, event, group, x, stratum) columns and the R results.
pub(crate) struct Set {
    pub name: String,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    pub group: Vec<f64>,
    pub x: Vec<f64>,
    pub stratum: Vec<usize>,
    pub r: Value,
}

pub(crate) fn fixture() -> Vec<Set> {
    let v: Value = serde_json::from_str(include_str!("../fixtures/tte.json")).unwrap();
    let col = |d: &Value, k: &str| -> Vec<f64> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, s)| {
            let d = &s["data"];
            Set {
                name: name.clone(),
                time: col(d, "time"),
                event: col(d, "status").iter().map(|&e| e == 1.0).collect(),
                group: col(d, "group"),
                x: col(d, "x"),
                stratum: col(d, "stratum").iter().map(|&s| s as usize).collect(),
                r: s.clone(),
            }
        })
        .collect()
}

pub(crate) fn close(what: &str, got: f64, want: &Value) {
    let w = want.as_f64().unwrap();
    let rel = (got - w).abs() / w.abs().max(1e-300);
    assert!(rel < R_REL_TOL, "{what}: {got} vs R {w} (rel {rel:.2e})");
}

pub(crate) fn arr(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// Row-major covariates of a fixture set: the group, then `x` when `with_x`.
pub(crate) fn design(s: &Set, with_x: bool) -> (Vec<f64>, usize) {
    let x = (0..s.time.len())
        .flat_map(|i| {
            if with_x {
                vec![s.group[i], s.x[i]]
            } else {
                vec![s.group[i]]
            }
        })
        .collect();
    (x, 1 + with_x as usize)
}

fn check_cox(s: &Set, key: &str, with_x: bool, strata: bool, ties: Ties) {
    let (x, p) = design(s, with_x);
    let d = CoxData {
        time: &s.time,
        event: &s.event,
        x: &x,
        p,
        strata: strata.then_some(&s.stratum[..]),
    };
    let f = cox_fit(
        &d,
        &CoxOptions {
            ties,
            ..Default::default()
        },
    )
    .unwrap();
    let r = &s.r[key];
    let tag = |w: &str| format!("{} {key} {w}", s.name);
    let (coef, se, zp) = (arr(&r["coef"]), arr(&r["se"]), arr(&r["z_p"]));
    let (lo, hi) = (arr(&r["hr_low"]), arr(&r["hr_high"]));
    for j in 0..p {
        close(&tag("coef"), f.coefs[j].estimate, &coef[j]);
        close(&tag("se"), f.coefs[j].se, &se[j]);
        close(&tag("z p"), f.coefs[j].p_value, &zp[j]);
        close(&tag("hr low"), f.coefs[j].hr_low, &lo[j]);
        close(&tag("hr high"), f.coefs[j].hr_high, &hi[j]);
    }
    close(&tag("loglik0"), f.loglik_null, &r["loglik"][0]);
    close(&tag("loglik"), f.loglik, &r["loglik"][1]);
    for (k, got) in [
        ("score", f.score_statistic),
        ("score_p", f.score_p),
        ("wald", f.wald_statistic),
        ("wald_p", f.wald_p),
        ("lr", f.lr_statistic),
        ("lr_p", f.lr_p),
    ] {
        close(&tag(k), got, &r[k]);
    }
}

#[test]
fn cox_matches_r_coxph() {
    for s in fixture() {
        check_cox(&s, "cox_efron", false, false, Ties::Efron);
        check_cox(&s, "cox_breslow", false, false, Ties::Breslow);
        check_cox(&s, "cox_efron_x", true, false, Ties::Efron);
        check_cox(&s, "cox_efron_strata", false, true, Ties::Efron);
        check_cox(&s, "cox_breslow_x_strata", true, true, Ties::Breslow);
    }
}

type Groups = (Vec<(f64, bool)>, Vec<(f64, bool)>);

fn split(s: &Set, stratum: Option<usize>) -> Groups {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..s.time.len() {
        if stratum.is_some_and(|k| s.stratum[i] != k) {
            continue;
        }
        let o = (s.time[i], s.event[i]);
        if s.group[i] == 1.0 {
            a.push(o)
        } else {
            b.push(o)
        }
    }
    (a, b)
}

#[test]
fn logrank_matches_r_survdiff() {
    for s in fixture() {
        let (a, b) = split(&s, None);
        let l = logrank(&a, &b);
        let r = &s.r["logrank"];
        close("logrank chisq", l.statistic, &r["chisq"]);
        close("logrank exp1", l.expected1, &r["exp1"]);
        let k = *s.stratum.iter().max().unwrap();
        let parts: Vec<_> = (1..=k).map(|j| split(&s, Some(j))).collect();
        let refs: Vec<crate::analysis::stats::StratumPair<'_>> =
            parts.iter().map(|(a, b)| (&a[..], &b[..])).collect();
        let st = logrank_stratified(&refs).unwrap();
        let r = &s.r["logrank_strat"];
        close(
            &format!("{} strat chisq", s.name),
            st.statistic,
            &r["chisq"],
        );
        close("strat p", st.p_value, &r["p"]);
        close("strat obs1", st.observed1, &r["obs1"]);
        close("strat exp1", st.expected1, &r["exp1"]);
        close("strat var", st.variance, &r["var"]);
        assert_eq!(st.informative_strata, k);
    }
}

#[test]
fn degenerate_data_are_typed_errors() {
    let t = [1.0, 2.0, 3.0, 4.0];
    let none = [false; 4];
    let g = [1.0, 1.0, 0.0, 0.0];
    let d = |event: &'static [bool], x: &'static [f64]| CoxData {
        time: &[1.0, 2.0, 3.0, 4.0],
        event,
        x,
        p: 1,
        strata: None,
    };
    let _ = t;
    assert_eq!(
        cox_fit(
            &d(&[false; 4], &[1.0, 1.0, 0.0, 0.0]),
            &CoxOptions::default()
        ),
        Err(TteError::NoEvents)
    );
    let _ = (none, g);
    // Every event in the treated group, before any control time: β → +∞.
    let mono = cox_fit(
        &d(&[true, true, false, false], &[1.0, 1.0, 0.0, 0.0]),
        &CoxOptions::default(),
    );
    assert!(matches!(mono, Err(TteError::Monotone(_))), "{mono:?}");
    let flat = cox_fit(
        &d(&[true, true, true, false], &[1.0, 1.0, 1.0, 1.0]),
        &CoxOptions::default(),
    );
    assert!(matches!(flat, Err(TteError::NoInformation(_))), "{flat:?}");
    let bad = CoxData {
        time: &[1.0, f64::NAN],
        event: &[true, true],
        x: &[0.0, 1.0],
        p: 1,
        strata: None,
    };
    assert!(matches!(
        cox_fit(&bad, &CoxOptions::default()),
        Err(TteError::Invalid(_))
    ));
    assert_eq!(
        logrank_stratified(&[(&[(1.0, false)], &[(2.0, false)])]),
        Err(TteError::NoEvents)
    );
    assert!(matches!(
        logrank_stratified(&[(&[(1.0, true)], &[]), (&[], &[(2.0, true)])]),
        Err(TteError::NoInformation(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The Cox fit depends on times only through their order: rescaling time leaves β
    /// unchanged; and a stratified log-rank with one stratum is the unstratified test.
    #[test]
    fn hr_invariant_to_time_scale(
        obs in proptest::collection::vec((1u32..20, any::<bool>(), any::<bool>()), 6..30),
        scale in 0.01f64..100.0,
    ) {
        let time: Vec<f64> = obs.iter().map(|o| o.0 as f64).collect();
        let event: Vec<bool> = obs.iter().map(|o| o.1).collect();
        let x: Vec<f64> = obs.iter().map(|o| o.2 as u8 as f64).collect();
        let scaled: Vec<f64> = time.iter().map(|t| t * scale).collect();
        let fit = |t: &[f64]| cox_fit(&CoxData { time: t, event: &event, x: &x, p: 1, strata: None }, &CoxOptions::default());
        match (fit(&time), fit(&scaled)) {
            (Ok(a), Ok(b)) => {
                prop_assert!((a.coefs[0].estimate - b.coefs[0].estimate).abs() < 1e-9);
                prop_assert!((a.coefs[0].se - b.coefs[0].se).abs() < 1e-9);
            }
            (a, b) => prop_assert_eq!(a.err(), b.err()),
        }
        let g1: Vec<(f64, bool)> = (0..time.len()).filter(|&i| x[i] == 1.0).map(|i| (time[i], event[i])).collect();
        let g2: Vec<(f64, bool)> = (0..time.len()).filter(|&i| x[i] == 0.0).map(|i| (time[i], event[i])).collect();
        let plain = logrank(&g1, &g2);
        match logrank_stratified(&[(&g1, &g2)]) {
            Ok(s) => prop_assert!((s.statistic - plain.statistic).abs() <= 1e-12 * (1.0 + plain.statistic)),
            Err(_) => prop_assert!(plain.statistic.is_nan()),
        }
    }
}

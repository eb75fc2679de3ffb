//! AFT fits vs R `survreg` (fixtures/tte.R → tte.json).

use super::*;
use crate::analysis::stats::cox::tests::{arr, close, design, fixture};

fn check(key: &str, dist: AftDist, with_x: bool) {
    for s in fixture() {
        let (x, p) = design(&s, with_x);
        let f = aft_fit(
            &AftData {
                time: &s.time,
                event: &s.event,
                x: &x,
                p,
            },
            dist,
        )
        .unwrap();
        let r = &s.r[key];
        let tag = |w: &str| format!("{} {key} {w}", s.name);
        let (coef, se, z, pv) = (arr(&r["coef"]), arr(&r["se"]), arr(&r["z"]), arr(&r["p"]));
        for j in 0..=p {
            close(&tag("coef"), f.coefs[j].estimate, &coef[j]);
            close(&tag("se"), f.coefs[j].se, &se[j]);
            close(&tag("z"), f.coefs[j].z, &z[j]);
            close(&tag("p"), f.coefs[j].p_value, &pv[j]);
        }
        close(&tag("scale"), f.scale, &r["scale"]);
        if dist != AftDist::Exponential {
            close(&tag("log scale se"), f.log_scale_se, &se[p + 1]);
        }
        close(&tag("loglik"), f.loglik, &r["loglik"][1]);
    }
}

#[test]
fn weibull_matches_r_survreg() {
    check("aft_weibull", AftDist::Weibull, false);
    check("aft_weibull_x", AftDist::Weibull, true);
}

#[test]
fn lognormal_matches_r_survreg() {
    check("aft_lognormal", AftDist::LogNormal, false);
}

#[test]
fn exponential_matches_r_survreg() {
    check("aft_exponential", AftDist::Exponential, false);
}

#[test]
fn degenerate_data_are_typed_errors() {
    let d = AftData {
        time: &[1.0, 2.0],
        event: &[false, false],
        x: &[0.0, 1.0],
        p: 1,
    };
    assert_eq!(aft_fit(&d, AftDist::Weibull), Err(TteError::NoEvents));
    let z = AftData {
        time: &[0.0, 2.0],
        event: &[true, true],
        x: &[0.0, 1.0],
        p: 1,
    };
    assert!(matches!(
        aft_fit(&z, AftDist::LogNormal),
        Err(TteError::Invalid(_))
    ));
}

//! The methods section: models, definitions and tests with their references, so a printed
//! report can be read without the code.

use super::html::Block;
use crate::protocol::ProtocolKind;

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

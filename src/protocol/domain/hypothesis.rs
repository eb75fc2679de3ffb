//! Statistical tests (the one registry every command reads) and declared hypotheses.
//!
//! A [`TestKey`] is defined once here — its key, label, what it compares, its reference and
//! which power engine can run it. `check` validates protocol names against it, `analyze`
//! computes it (`analysis::compare`), `power` tallies it, and `--help`, the methods section
//! and the `tests.csv` definitions print its text. Adding a test is one entry in
//! [`TestKey::ALL`] plus its computation in `analysis::compare`.

/// A statistical test, as named in protocols (`[analysis] tests`, hypotheses), on the
/// command line and in `tests.csv` / `power.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TestKey {
    /// Welch t-test on ln(volume) at the analysis day.
    WelchLog,
    /// Mann–Whitney U on volume at the analysis day.
    Mwu,
    /// Welch t-test on per-animal slopes of ln(volume).
    Slope,
    /// Welch t-test on the AUC of log relative volume.
    Auc,
    /// Linear mixed model (treatment × time) on ln(volume).
    Lmm,
    /// Log-rank test on time to the endpoint.
    Logrank,
    /// Fisher's exact test on mRECIST objective response.
    Response,
    /// Jonckheere–Terpstra trend test on volume at the analysis day across ordered arms.
    Jonckheere,
    /// Linear trend of the per-animal growth rate in log dose.
    TrendSlope,
    /// Bliss-independence synergy test on exponential growth rates (LMM on log RTV).
    BlissLmm,
    /// Highest-single-agent synergy test on exponential growth rates (LMM on log RTV).
    HsaLmm,
    /// Panel: mixed model with a line random intercept on the log outcome (ln volume at the
    /// analysis day, or ln event time), pooled treatment effect.
    PanelLme,
    /// Panel: mixed model with a line random intercept on per-animal growth rates.
    PanelSlope,
    /// Panel: log-rank test stratified by line.
    PanelLogrank,
    /// Panel: Cox proportional hazards stratified by line (Wald test).
    PanelCox,
    /// Panel: parametric AFT on time to event with right censoring and a fixed effect per
    /// line (Wald test of the time ratio).
    PanelAft,
}

/// Everything the commands say about a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestInfo {
    /// Key in protocols, on the command line and in the CSVs.
    pub key: &'static str,
    /// Test name in `tests.csv`.
    pub label: &'static str,
    /// What is compared, in words (justification paragraph, methods, `--help`).
    pub description: &'static str,
    /// Where the method comes from.
    pub reference: &'static str,
    /// The tight power path computes it from per-arm moments (otherwise only the whole-study
    /// engine does).
    pub tight: bool,
    /// Hypothesis kinds it can serve.
    pub kinds: &'static [HypothesisKind],
}

const PANEL: &[HypothesisKind] = &[HypothesisKind::Panel];

const TWO_ARM: &[HypothesisKind] = &[
    HypothesisKind::VsControl,
    HypothesisKind::Pairwise,
    HypothesisKind::CombinationVsComponents,
];

impl TestKey {
    /// Every test, in the order the analysis reports them.
    pub const ALL: [TestKey; 16] = [
        TestKey::WelchLog,
        TestKey::Mwu,
        TestKey::Slope,
        TestKey::Auc,
        TestKey::Lmm,
        TestKey::Logrank,
        TestKey::Response,
        TestKey::Jonckheere,
        TestKey::TrendSlope,
        TestKey::BlissLmm,
        TestKey::HsaLmm,
        TestKey::PanelLme,
        TestKey::PanelSlope,
        TestKey::PanelLogrank,
        TestKey::PanelCox,
        TestKey::PanelAft,
    ];

    /// The registry entry.
    pub fn info(self) -> TestInfo {
        let i = |key, label, description, reference, tight, kinds| TestInfo {
            key,
            label,
            description,
            reference,
            tight,
            kinds,
        };
        match self {
            TestKey::WelchLog => i(
                "welch-log",
                "Welch t-test",
                "Welch t-test on ln(tumor volume) at the analysis day",
                "Welch 1947; Hather et al. 2014 (Cancer Inform 13:65)",
                true,
                TWO_ARM,
            ),
            TestKey::Mwu => i(
                "mwu",
                "Mann-Whitney U",
                "Mann–Whitney U test on tumor volume at the analysis day",
                "Mann & Whitney 1947; as scipy.stats.mannwhitneyu",
                true,
                TWO_ARM,
            ),
            TestKey::Slope => i(
                "slope",
                "Welch t-test",
                "Welch t-test on per-animal growth rates (OLS slope of ln volume)",
                "Hather et al. 2014",
                true,
                TWO_ARM,
            ),
            TestKey::Auc => i(
                "auc",
                "Welch t-test",
                "Welch t-test on the per-animal AUC of log relative volume (trapezoid)",
                "Duan et al. 2012 (J Biopharm Stat 22:1156)",
                true,
                TWO_ARM,
            ),
            TestKey::Lmm => i(
                "lmm",
                "LMM REML, random intercept + slope; Satterthwaite df",
                "linear mixed model on ln(volume) (random intercept and slope), treatment × time",
                "Laird & Ware 1982; Satterthwaite df as lmerTest",
                false,
                TWO_ARM,
            ),
            TestKey::Logrank => i(
                "logrank",
                "log-rank",
                "log-rank test on time to the endpoint (exact permutation p at small n)",
                "Mantel 1966; Heinze et al. 2003 (exact)",
                false,
                TWO_ARM,
            ),
            TestKey::Response => i(
                "response",
                "Fisher exact",
                "Fisher's exact test on mRECIST objective response (mCR+mPR vs mSD+mPD)",
                "Gao et al. 2015 (Nat Med 21:1318) mRECIST; Fisher 1935",
                false,
                TWO_ARM,
            ),
            TestKey::Jonckheere => i(
                "jonckheere",
                "Jonckheere-Terpstra",
                "Jonckheere–Terpstra test for an ordered trend of tumor volume at the analysis day across the dose arms",
                "Jonckheere 1954 (Biometrika 41:133); Hollander & Wolfe 1999 §6.2 (ties)",
                false,
                &[HypothesisKind::DoseTrend],
            ),
            TestKey::TrendSlope => i(
                "trend-slope",
                "linear trend in log dose",
                "regression of per-animal growth rates on log dose (control one log step below the lowest dose)",
                "Tukey, Ciminera & Heyse 1985 (Biometrics 41:295) log-dose scaling",
                false,
                &[HypothesisKind::DoseTrend],
            ),
            TestKey::BlissLmm => i(
                "bliss-lmm",
                "Bliss synergy, LMM on log RTV",
                "exponential-growth LMM on log relative tumor volume (random slope per animal); Bliss null b_AB = b_A + b_B − b_C",
                "Demidenko & Miller 2019 (PLoS One 14:e0224137); SynergyLMM (Romero-Becerra et al., Nat Commun 2025)",
                false,
                &[HypothesisKind::Synergy],
            ),
            TestKey::HsaLmm => i(
                "hsa-lmm",
                "HSA synergy, LMM on log RTV",
                "exponential-growth LMM on log relative tumor volume (random slope per animal); HSA null b_AB = min(b_A, b_B)",
                "SynergyLMM (Romero-Becerra et al., Nat Commun 2025)",
                false,
                &[HypothesisKind::Synergy],
            ),
            TestKey::PanelLme => i(
                "panel-lme",
                "LMM REML, line random intercept; containment df",
                "mixed model with a random intercept per line on the log outcome (ln volume at the analysis day, or ln time to event), pooled treatment effect",
                "Pinheiro & Bates 2000 §2.4.2 (nlme containment df); PDXpower PowANOVA (Li et al.)",
                false,
                PANEL,
            ),
            TestKey::PanelSlope => i(
                "panel-slope",
                "LMM REML on growth rates, line random intercept",
                "mixed model with a random intercept per line on per-animal growth rates (OLS slope of ln volume): random slopes nested in line, fitted in two stages",
                "Laird & Ware 1982; Pinheiro & Bates 2000 §2.4.2",
                false,
                PANEL,
            ),
            TestKey::PanelLogrank => i(
                "panel-logrank",
                "log-rank stratified by line",
                "log-rank test of time to event stratified by line (per-line observed − expected summed), p-value from relabelling animals within each line (exact when ≤ 20 000 relabellings, else up to 1 999 draws with a sequential stop)",
                "Kalbfleisch & Prentice 2002 §7.2.3; Hothorn et al. 2006 (R coin logrank_test(... | line))",
                false,
                PANEL,
            ),
            TestKey::PanelCox => i(
                "panel-cox",
                "Cox PH stratified by line (Wald)",
                "Cox proportional-hazards model with a baseline hazard per line (stratified), Wald test of treatment; a line frailty is not fitted (see the methods)",
                "Cox 1972; Therneau & Grambsch 2000 (strata); R coxph(... + strata(line))",
                false,
                PANEL,
            ),
            TestKey::PanelAft => i(
                "panel-aft",
                "AFT with line effects (Wald)",
                "parametric accelerated-failure-time model of time to event (the panel's event-time distribution; log-normal for simulated lines) with right censoring and a fixed effect per line, Wald test of the treatment time ratio: censoring-aware where panel-lme uses observed events only",
                "Kalbfleisch & Prentice 2002 §3.5; R survreg(Surv(t, e) ~ tx + factor(line))",
                false,
                PANEL,
            ),
        }
    }

    /// Key in protocols, on the command line and in the CSVs.
    pub fn as_str(self) -> &'static str {
        self.info().key
    }

    /// The test named `s` (surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<TestKey> {
        TestKey::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }

    /// Every key, for error messages and did-you-mean hints.
    pub fn keys() -> Vec<&'static str> {
        TestKey::ALL.iter().map(|t| t.as_str()).collect()
    }

    /// True for the pooled panel tests (`[panel] tests`).
    pub fn is_panel(self) -> bool {
        self.info().kinds == PANEL
    }

    /// The test description, for the justification paragraph.
    pub fn test_description(self) -> &'static str {
        self.info().description
    }
}

/// What a hypothesis asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HypothesisKind {
    /// One treated arm vs the cohort's control (today's default).
    VsControl,
    /// Arm A vs arm B (SERD vs fulvestrant; combination vs the best single agent).
    Pairwise,
    /// The combination beats each of its components (intersection–union: all must reject).
    CombinationVsComponents,
    /// An ordered trend across dose arms.
    DoseTrend,
    /// Interaction of two agents beyond Bliss independence or the highest single agent.
    Synergy,
    /// One treatment vs its control pooled across the lines of a panel. Declared by
    /// `[panel]`, not as an `[[analysis.hypotheses]]` kind (so not in [`HypothesisKind::ALL`]).
    Panel,
}

impl HypothesisKind {
    /// Every kind, in file-syntax order.
    pub const ALL: [HypothesisKind; 5] = [
        HypothesisKind::VsControl,
        HypothesisKind::Pairwise,
        HypothesisKind::CombinationVsComponents,
        HypothesisKind::DoseTrend,
        HypothesisKind::Synergy,
    ];

    /// Name in protocols and `tests.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisKind::VsControl => "vs-control",
            HypothesisKind::Pairwise => "pairwise",
            HypothesisKind::CombinationVsComponents => "combination-vs-components",
            HypothesisKind::DoseTrend => "dose-trend",
            HypothesisKind::Synergy => "synergy",
            HypothesisKind::Panel => "panel",
        }
    }

    /// How many arms `arms` lists (exact count, or a minimum).
    pub fn arm_rule(self) -> (usize, bool, &'static str) {
        match self {
            HypothesisKind::VsControl => (1, true, "[treated] (vs the cohort's control)"),
            HypothesisKind::Pairwise => (2, true, "[arm, reference]"),
            HypothesisKind::CombinationVsComponents => {
                (3, false, "[combination, component, component, …]")
            }
            HypothesisKind::DoseTrend => (2, false, "[lowest dose, …, highest dose]"),
            HypothesisKind::Synergy => (3, true, "[combination, drug A, drug B]"),
            HypothesisKind::Panel => (2, true, "[treatment, control] (declared by [panel])"),
        }
    }
}

/// Direction of the alternative, in terms of benefit (smaller or slower-growing tumors, later
/// endpoint, more responses, synergy) of the hypothesis' first arm over its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alternative {
    /// Either direction.
    TwoSided,
    /// The first arm has greater benefit (one-sided).
    Greater,
    /// The first arm has less benefit (one-sided; e.g. an expected-negative control).
    Less,
}

impl Alternative {
    /// Name in protocols and `tests.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alternative::TwoSided => "two-sided",
            Alternative::Greater => "greater",
            Alternative::Less => "less",
        }
    }

    /// p-value for this alternative from a two-sided p and the sign of the observed effect in
    /// the benefit direction (> 0: the first arm did better). Exact for tests whose null
    /// distribution is symmetric (t, normal, the permutation and rank tests used here): the
    /// one-sided tail in the observed direction is half the two-sided p.
    pub fn p_from_two_sided(self, p_two: f64, benefit: f64) -> f64 {
        if p_two.is_nan() || benefit.is_nan() {
            return f64::NAN;
        }
        let toward = match self {
            Alternative::TwoSided => return p_two,
            Alternative::Greater => benefit > 0.0,
            Alternative::Less => benefit < 0.0,
        };
        if toward {
            p_two / 2.0
        } else {
            1.0 - p_two / 2.0
        }
    }
}

/// Primary hypotheses size the study; secondaries are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sizes the study (recommended n, justification).
    Primary,
    /// Reported, not sized on (unless `power --joint`).
    Secondary,
}

impl Role {
    /// Name in protocols and CSVs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

/// What the protocol expects a hypothesis to show (`expected = "effect" | "null"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Expectation {
    /// The first arm is expected to differ (the default: what a study is sized on).
    #[default]
    Effect,
    /// An expected-null control: the comparison is expected not to differ (e.g. tamoxifen in
    /// a tamoxifen-resistant model vs vehicle); reported and named in the justification,
    /// never sized on.
    Null,
}

impl Expectation {
    /// Spellings in protocols (also the `enum` of the JSON Schema).
    pub const NAMES: [(&'static str, Expectation); 2] =
        [("effect", Expectation::Effect), ("null", Expectation::Null)];

    /// Name in protocols.
    pub fn as_str(self) -> &'static str {
        match self {
            Expectation::Effect => "effect",
            Expectation::Null => "null",
        }
    }
}

/// Multiplicity adjustment within a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// Holm step-down (Holm 1979).
    Holm,
    /// Bonferroni.
    Bonferroni,
    /// None.
    None,
    /// Fixed sequence (hierarchical gatekeeping): the family's hypotheses are tested in order
    /// (primary first, then declaration order), each at α, stopping at the first failure
    /// (Maurer, Hothorn & Lehmacher 1995; Westfall & Krishen 2001).
    FixedSequence,
}

impl Adjustment {
    /// Every method with its file name.
    pub const NAMES: [(&'static str, Adjustment); 4] = [
        ("holm", Adjustment::Holm),
        ("bonferroni", Adjustment::Bonferroni),
        ("none", Adjustment::None),
        ("fixed-sequence", Adjustment::FixedSequence),
    ];

    /// Name in protocols and on the command line.
    pub fn as_str(self) -> &'static str {
        Adjustment::NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("holm", |(n, _)| n)
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Adjustment> {
        Adjustment::NAMES
            .iter()
            .find(|(n, _)| *n == s.trim())
            .map(|(_, a)| *a)
    }
}

/// A declared hypothesis (`[[analysis.hypotheses]]`), validated against the protocol's arms.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Unique name (`tests.csv` `hypothesis` column).
    pub name: String,
    /// What it asks.
    pub kind: HypothesisKind,
    /// Cohort it applies to; `None` = every cohort that has all its arms.
    pub cohort: Option<String>,
    /// Arms, in the kind's order ([`HypothesisKind::arm_rule`]).
    pub arms: Vec<String>,
    /// Doses of `arms` for `dose-trend` (same unit; 0 = vehicle); `None` = read from the arms.
    pub doses: Option<Vec<f64>>,
    /// Tests, each a row of `tests.csv`.
    pub tests: Vec<TestKey>,
    /// Direction of the alternative.
    pub alternative: Alternative,
    /// Primary or secondary.
    pub role: Role,
    /// Multiplicity family (default: the role's name).
    pub family: String,
    /// Expected to show an effect (default) or to be null (an expected-null control).
    pub expected: Expectation,
}

/// A multiplicity family's method (`[analysis.families]`; default `[analysis] adjust`).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Family name.
    pub name: String,
    /// Method.
    pub adjust: Adjustment,
}

//! Statistical tests used by the analysis, each checked against R or scipy reference values
//! (`tests/fixtures/analysis/`). Every function is allocation-light and takes plain slices so
//! `power` can call it inside a Monte Carlo loop.
//!
//! - [`welch_t`], [`welch_from_moments`]: Welch's unequal-variance t-test;
//! - [`mann_whitney_u`]: Wilcoxon–Mann–Whitney U, exact or normal approximation (as scipy);
//! - [`fisher_exact_2x2`]: Fisher's exact test, two-sided as R's `fisher.test`;
//! - [`kaplan_meier`], [`logrank`], [`logrank_exact`], [`logrank_stratified`],
//!   [`logrank_stratified_permutation`]: survival curves and the two-group log-rank test
//!   (stratified by tumor line too; exact or permutation p-values at small n);
//! - [`cox`]: Cox proportional hazards (Efron/Breslow ties, strata); [`aft`]: parametric AFT
//!   models (Weibull, log-normal, exponential) with right censoring;
//! - [`jonckheere`], [`ols_slope_test`]: trend tests across ordered dose arms;
//! - [`holm`], [`adjust`]: multiplicity adjustment (Holm, Bonferroni, fixed sequence);
//! - [`slope`], [`auc_log_relative`]: per-animal growth summaries;
//! - [`lmm`]: linear mixed model fitted by REML, with Satterthwaite degrees of freedom.

pub mod aft;
pub mod cox;
mod fisher;
mod growth;
pub use crate::numeric::linalg;
pub mod line_mixed;
pub mod lmm;
mod multiplicity;
mod mwu;
mod survival;
mod trend;
mod ttest;

pub use fisher::{FisherTest, fisher_exact_2x2};
pub use growth::{auc_log_relative, slope};
pub use multiplicity::{adjust, holm, holm_reject_into};
pub use mwu::{MannWhitney, MwuMethod, mann_whitney_u};
pub use survival::{
    KmPoint, LogRank, LogRankReference, STRATIFIED_LOGRANK_DRAWS, STRATIFIED_LOGRANK_STOP_HITS,
    StratifiedLogRank, StratumPair, TteError, kaplan_meier, logrank, logrank_exact,
    logrank_stratified, logrank_stratified_permutation,
};
pub use trend::{SlopeTest, jonckheere, ols_slope_test};
pub use ttest::{TTest, mean_var, welch_from_moments, welch_t, welch_t_df};

#[cfg(test)]
mod tests;

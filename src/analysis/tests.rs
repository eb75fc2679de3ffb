//! Tests of the analysis as a whole: tables and tests on small data sets, calibration of the
//! TGI/T/C intervals and type I error, synergy and hypothesis families.

mod calibration;
mod hypothesis_calibration;
mod pipeline;
mod synergy;

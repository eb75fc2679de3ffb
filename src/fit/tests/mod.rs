//! Tests of the fit module that span several of its files.

mod coverage;

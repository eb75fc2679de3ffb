//! Mathematical models behind the simulator, free of any protocol or randomness:
//!
//! - [`growth`]: unperturbed and perturbed tumor growth — exponential, logistic and Gompertz
//!   closed forms (with an optional first-order kill term), the Simeoni et al. 2004 model
//!   (Cancer Res 64:1094; ψ = 20, three transit compartments) and a fixed-step RK4 integrator;
//! - [`pk`]: one-compartment pharmacokinetics with first-order absorption (Bateman function),
//!   superposed over real dosing times, plus an exact step-wise propagator used by the engine
//!   and the unit concentration curve of a dose schedule (computed once per arm);
//! - [`schedule`]: which phase days a schedule fires on and at which clock times (default
//!   dose times), for the timeline, the simulator and the power paths alike;
//! - [`window`]: which visits an endpoint reads given the analysis day;
//! - [`effect`]: Emax/Hill concentration–effect and Bliss combination with an interaction term;
//! - [`estrogen`]: when estrogen support ends before randomization (pellet, ovariectomy);
//! - [`effect_units`]: effects given as TGI%, T/C% or rate-based T/C% at a day, solved to the
//!   growth-rate inhibition of a typical growth curve (the one owner of that mapping).
//!
//! Units: time in days, volume in mm³, concentration in ng/mL, amounts in mg.

pub mod effect;
pub mod effect_units;
pub mod estrogen;
pub mod event_time;
pub mod growth;
pub mod pk;
pub mod schedule;
pub mod window;

//! Validation and conversion of the xenograft sections.

use super::convert::{Ctx, NumRule as R, missing_section, resolve_phase, undefined};
use super::diag::KeyPath;
use super::domain::*;
use super::feasibility;
use super::schema::*;
use crate::model::effect_units::{self, EffectUnit};

/// Spellings of the measurement kind (also the `enum` of the JSON Schema).
pub(crate) const MEASUREMENT_KINDS: &[(&str, MeasurementKind)] = &[
    ("caliper", MeasurementKind::Caliper),
    ("body-weight", MeasurementKind::BodyWeight),
];

/// Spellings of the randomization (also the `enum` of the JSON Schema).
pub(crate) const RANDOMIZATIONS: &[(&str, Randomization)] = &[
    ("simple", Randomization::Simple),
    ("volume-balanced", Randomization::VolumeBalanced),
];

/// Spellings of the enrollment mode (also the `enum` of the JSON Schema).
pub(crate) const ENROLLMENT_MODES: &[(&str, EnrollmentMode)] = &[
    ("single-day", EnrollmentMode::SingleDay),
    ("rolling", EnrollmentMode::Rolling),
    ("at-baseline", EnrollmentMode::AtBaseline),
];

/// Spellings of the volume formula (also the `enum` of the JSON Schema).
pub(crate) const VOLUME_FORMULAS: &[(&str, VolumeFormula)] = &[
    ("half-lw2", VolumeFormula::HalfLw2),
    ("pi-over-6-lw2", VolumeFormula::PiOver6Lw2),
];

/// Spellings of the caliper error model (also the `enum` of the JSON Schema).
pub(crate) const CALIPER_ERROR_MODELS: &[(&str, u8)] = &[("diameters", 0u8), ("log-volume", 1u8)];

/// Spellings of the tumor model type (also the `enum` of the JSON Schema).
pub(crate) const TUMOR_MODEL_TYPES: &[(&str, TumorModelType)] = &[
    ("cell-line", TumorModelType::CellLine),
    ("pdx", TumorModelType::Pdx),
];

/// Spellings of the pellet removal (also the `enum` of the JSON Schema).
pub(crate) const PELLET_REMOVALS: &[(&str, u8)] = &[
    ("at-randomization", 0u8),
    ("never", 1u8),
    ("on-study-day", 2u8),
];

/// Spellings of the effect mode (also the `enum` of the JSON Schema).
pub(crate) const EFFECT_MODES: &[(&str, u8)] = &[("direct", 0u8), ("exposure", 1u8)];

/// Spellings of the effect target (also the `enum` of the JSON Schema).
pub(crate) const EFFECT_TARGETS: &[(&str, u8)] = &[("growth", 0u8), ("kill", 1u8)];

/// Spellings of the growth model (also the `enum` of the JSON Schema).
pub(crate) const GROWTH_MODELS: &[(&str, u8)] = &[
    ("exponential", 0u8),
    ("logistic", 1u8),
    ("gompertz", 2u8),
    ("simeoni", 3u8),
];

pub(crate) const UNITS: &[(&str, DoseUnit)] = &[
    ("mg/kg", DoseUnit::MgPerKg),
    ("ug/kg", DoseUnit::UgPerKg),
    ("µg/kg", DoseUnit::UgPerKg),
    ("mg", DoseUnit::MgPerAnimal),
    ("ug", DoseUnit::UgPerAnimal),
    ("µg", DoseUnit::UgPerAnimal),
];

pub(crate) const ROUTES: &[(&str, Route)] = &[
    ("po", Route::Po),
    ("sc", Route::Sc),
    ("ip", Route::Ip),
    ("iv", Route::Iv),
    ("im", Route::Im),
    ("pellet", Route::Pellet),
];

/// Converts the xenograft body: the required sections, then animals, agents, measurements,
/// cohorts, enrollment (which solves the effects given in user units), endpoints, caliper,
/// analysis, husbandry and panel, in that order (the order of the errors).
pub(crate) fn xenograft(
    f: &FileProtocol,
    cx: &mut Ctx<'_>,
    phases: &[Phase],
    day0: Option<&str>,
) -> Option<Xenograft> {
    let root = KeyPath::root();
    let missing = required_sections(f, cx);
    pellet_steps(f, cx);
    let animals = animals(f, cx, phases);
    let agents = agents(f, cx);
    let agent_names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let measurements = measurements(f, cx, phases);
    let until = until_window(phases);
    let k = CohortCx {
        f,
        agents: &agents,
        agent_names: &agent_names,
        phases,
        day0,
    };
    let (mut cohorts, pending) = cohorts(&k, cx);
    let enrollment = enrollment(f, cx, until);
    if let (Some(a), Some(e)) = (&animals, &enrollment) {
        let tphases = treatment_phases(phases, day0_phase(phases));
        solve_user_effects(cx, &mut cohorts, &pending, (a, e, &tphases));
    }
    let endpoints = endpoints(f, cx);
    let caliper = caliper_model(f, cx);
    let analysis = f
        .analysis
        .as_ref()
        .and_then(|a| super::convert_analysis::analysis_plan(a, cx, &cohorts, &agents));
    let husbandry = husbandry(f, cx);
    let dose_modification =
        super::convert_rules::dose_modification(f, cx, &cohorts, endpoints.as_ref());
    let study_stop = super::convert_rules::study_stop(f, cx, &cohorts);

    let panel = f
        .panel
        .as_ref()
        .map(|p| super::convert_panel::panel(p, cx, &cohorts));

    if let (Some(a), Some(e), Some(cal), false) = (&animals, &enrollment, &caliper, cx.has_errors())
    {
        let located: Vec<(KeyPath, &Cohort)> = cohorts
            .iter()
            .filter_map(|c| {
                let i = f.cohorts.iter().position(|fc| fc.name == c.name)?;
                Some((root.k("cohorts").i(i), c))
            })
            .collect();
        feasibility::enrollment_reachable(cx, &located, a, e, cal);
    }
    if missing {
        return None;
    }
    let x = Xenograft {
        animals: animals?,
        agents,
        cohorts,
        measurements,
        enrollment: enrollment?,
        endpoints: endpoints?,
        end_of_study: f
            .end_of_study
            .as_ref()
            .map(|e| e.procedures.clone())
            .unwrap_or_default(),
        caliper: caliper?,
        analysis: analysis?,
        husbandry: husbandry?,
        panel: match panel {
            Some(p) => Some(Box::new(p?)),
            None => None,
        },
        dose_modification,
        study_stop,
    };
    if !cx.has_errors() {
        super::runnable::xenograft(cx, f, phases, &x);
    }
    Some(x)
}

/// Reports each section a xenograft requires and lacks (`[animals]` … `[husbandry]`, at
/// least one `[[cohorts]]`); true if any is missing.
fn required_sections(f: &FileProtocol, cx: &mut Ctx<'_>) -> bool {
    let root = KeyPath::root();
    let mut missing = false;
    for (k, present) in [
        ("animals", f.animals.is_some()),
        ("enrollment", f.enrollment.is_some()),
        ("endpoints", f.endpoints.is_some()),
        ("caliper", f.caliper.is_some()),
        ("analysis", f.analysis.is_some()),
        ("husbandry", f.husbandry.is_some()),
    ] {
        if !present {
            missing_section(cx, k, "xenograft");
            missing = true;
        }
    }
    if f.cohorts.is_empty() {
        cx.error(
            &root.k("protocol").k("kind"),
            "kind = \"xenograft\" requires at least one `[[cohorts]]`",
        );
        missing = true;
    }
    missing
}

/// Converts `[animals]`; the weight gain and weight noise are checked for feasibility.
fn animals(f: &FileProtocol, cx: &mut Ctx<'_>, phases: &[Phase]) -> Option<Animals> {
    let root = KeyPath::root();
    f.animals.as_ref().map(|a| {
        let at = root.k("animals");
        if let Some(age) = a.age_weeks {
            cx.n(age, &at.k("age-weeks"), R::Pos);
        }
        Animals {
            species: a.species.clone(),
            strain: a.strain.clone(),
            sex: a.sex.clone(),
            ovariectomized: a.ovariectomized,
            age_weeks: a.age_weeks,
            body_weight_g: cx.par(&a.body_weight_g, &at.k("body-weight-g"), R::Pos),
            weight_gain_g_per_day: {
                let g = cx.src(
                    &a.weight_gain_g_per_day,
                    &at.k("weight-gain-g-per-day"),
                    R::Finite,
                );
                let bw = a.body_weight_g.value;
                feasibility::weight_gain(
                    cx,
                    g.value,
                    bw,
                    feasibility::longest_study_days(phases),
                    &at.k("weight-gain-g-per-day").k("value"),
                );
                g
            },
            weight_noise_cv: {
                let w = cx.src(&a.weight_noise_cv, &at.k("weight-noise-cv"), R::NonNeg);
                feasibility::at_most(
                    cx,
                    w.value,
                    feasibility::bounds::MAX_WEIGHT_NOISE_CV,
                    &at.k("weight-noise-cv").k("value"),
                    "weight-noise-cv",
                    "a reading is weight × (1 + cv·z), negative for z < −1/cv (2.3% of readings at cv = 0.5); day-to-day noise of a mouse is 1–3%",
                );
                w
            },
            weight_recovery_pct_per_week: a.weight_recovery_pct_per_week.as_ref().map(|r| {
                let rat = at.k("weight-recovery-pct-per-week");
                let s = cx.src(r, &rat, R::NonNeg);
                if s.value >= 100.0 {
                    cx.error(
                        &rat.k("value"),
                        format!(
                            "`weight-recovery-pct-per-week` must be < 100, got {}",
                            s.value
                        ),
                    );
                }
                s
            }),
        }
    })
}

/// Converts `[[agents]]` (unique names, optional PK and weight loss).
fn agents(f: &FileProtocol, cx: &mut Ctx<'_>) -> Vec<Agent> {
    let root = KeyPath::root();
    let names: Vec<_> = f
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.clone(), root.k("agents").i(i).k("name")))
        .collect();
    cx.uniq(&names, "agent");
    f.agents
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let at = root.k("agents").i(i);
            let pk = a.pk.as_ref().map(|p| {
                let pat = at.k("pk");
                Pk {
                    ka_per_h: cx.src(&p.ka_per_h, &pat.k("ka-per-h"), R::Pos),
                    half_life_h: cx.src(&p.half_life_h, &pat.k("half-life-h"), R::Pos),
                    volume_l_per_kg: cx.src(&p.volume_l_per_kg, &pat.k("volume-l-per-kg"), R::Pos),
                    bioavailability: cx.src(
                        &p.bioavailability,
                        &pat.k("bioavailability"),
                        R::PosProb,
                    ),
                }
            });
            let weight_loss_pct_per_week = a
                .weight_loss_pct_per_week
                .as_ref()
                .map(|w| cx.src(w, &at.k("weight-loss-pct-per-week"), R::NonNeg));
            let weight_loss_reference = a.weight_loss_reference_dose.as_ref().and_then(|d| {
                let dat = at.k("weight-loss-reference-dose");
                if a.weight_loss_pct_per_week.is_none() {
                    cx.error(
                        &dat,
                        "`weight-loss-reference-dose` is the dose of `weight-loss-pct-per-week`, which is not given",
                    );
                }
                super::convert_rules::dose_level(cx, d, &dat)
            });
            Agent {
                name: a.name.clone(),
                class: a.class.clone(),
                vehicle: a.vehicle,
                formulation: a.formulation.clone(),
                pk,
                weight_loss_pct_per_week,
                weight_loss_reference,
            }
        })
        .collect()
}

/// Converts `[[measurements]]` (kind, schedule, phases); a xenograft needs a caliper one.
fn measurements(f: &FileProtocol, cx: &mut Ctx<'_>, phases: &[Phase]) -> Vec<Measurement> {
    let root = KeyPath::root();
    let names: Vec<_> = f
        .measurements
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), root.k("measurements").i(i).k("name")))
        .collect();
    cx.uniq(&names, "measurement");
    let mut measurements = Vec::new();
    for (i, m) in f.measurements.iter().enumerate() {
        let at = root.k("measurements").i(i);
        let kind = cx.pick(
            &m.kind,
            &at.k("kind"),
            "measurement kind",
            MEASUREMENT_KINDS,
        );
        let sched = cx.sched(
            &m.frequency,
            &m.weekdays,
            &m.times,
            m.start_day,
            m.end_day,
            &at,
        );
        if m.phases.is_empty() {
            cx.error(
                &at.k("phases"),
                "`phases` is empty: list the phases in which this measurement is taken",
            );
        }
        let mut ok = true;
        for (j, p) in m.phases.iter().enumerate() {
            match resolve_phase(cx, p, &at.k("phases").i(j), phases) {
                Some(ph) => {
                    if let Some(s) = &sched {
                        cx.fits(s, &ph, &at);
                    }
                }
                None => ok = false,
            }
        }
        if let (Some(kind), Some(schedule), true) = (kind, sched, ok) {
            measurements.push(Measurement {
                name: m.name.clone(),
                kind,
                schedule,
                phases: m.phases.clone(),
            });
        }
    }
    if !f.measurements.is_empty() && !f.measurements.iter().any(|m| m.kind == "caliper") {
        cx.error(
            &root.k("measurements"),
            "no caliper measurement: add a [[measurements]] with kind = \"caliper\"",
        );
    }
    if f.measurements.is_empty() {
        cx.error(
            &root.k("protocol").k("kind"),
            "kind = \"xenograft\" requires a caliper `[[measurements]]`",
        );
    }
    measurements
}

/// The `(min, max, max-wait-days)` window of the first phase that ends `until` a volume.
fn until_window(phases: &[Phase]) -> Option<(f64, f64, u32)> {
    phases.iter().find_map(|p| match &p.end {
        PhaseEnd::Until {
            min,
            max,
            max_wait_days,
            ..
        } => Some((*min, *max, *max_wait_days)),
        _ => None,
    })
}

/// Converts `[[cohorts]]` (unique names); returns the cohorts and their effects given in
/// user units, still to be solved. Flags top-level `[[arms]]` that no cohort uses.
fn cohorts(k: &CohortCx<'_>, cx: &mut Ctx<'_>) -> (Vec<Cohort>, Vec<PendingUserEffect>) {
    let f = k.f;
    let root = KeyPath::root();
    let names: Vec<_> = f
        .cohorts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), root.k("cohorts").i(i).k("name")))
        .collect();
    cx.uniq(&names, "cohort");
    let mut cohorts = Vec::new();
    let mut pending = Vec::new();
    for (ci, c) in f.cohorts.iter().enumerate() {
        let at = root.k("cohorts").i(ci);
        if let Some(coh) = cohort(c, cx, &at, k, &mut pending) {
            cohorts.push(coh);
        }
    }
    if !f.arms.is_empty() && f.cohorts.iter().all(|c| c.arms.is_some()) {
        cx.error_key(
            &root.k("arms"),
            "top-level [[arms]] would be ignored: every cohort lists its own arms (remove them)",
        );
    }
    (cohorts, pending)
}

/// Converts `[enrollment]`; the volume window and wait default to the `until` window.
fn enrollment(
    f: &FileProtocol,
    cx: &mut Ctx<'_>,
    until: Option<(f64, f64, u32)>,
) -> Option<Enrollment> {
    let root = KeyPath::root();
    f.enrollment.as_ref().and_then(|e| {
        let at = root.k("enrollment");
        let randomization = cx.pick(
            &e.randomization,
            &at.k("randomization"),
            "randomization",
            RANDOMIZATIONS,
        );
        let mode = cx.pick(
            &e.mode,
            &at.k("mode"),
            "enrollment mode",
            ENROLLMENT_MODES,
        );
        let baseline = mode == Some(EnrollmentMode::AtBaseline);
        let (dmin, dmax, dwait) = match (until, baseline) {
            (Some((a, b, w)), _) => (Some(a), Some(b), Some(w as i64)),
            // No pre-treatment growth: any baseline volume is eligible.
            (None, true) => (Some(0.0), Some(super::convert::limits::MAX_ABS), Some(0)),
            (None, false) => (None, None, None),
        };
        let mut get = |v: Option<f64>, d: Option<f64>, key: &str| -> Option<f64> {
            match v.or(d) {
                Some(x) => Some(cx.n(x, &at.k(key), R::NonNeg)),
                None => {
                    cx.error(&at, format!("missing `{key}` (no phase has an `until` window to take it from)"));
                    None
                }
            }
        };
        let min = get(e.min_mm3, dmin, "min-mm3");
        let max = get(e.max_mm3, dmax, "max-mm3");
        let wait = match e.max_wait_days.or(dwait) {
            Some(w) => Some(cx.cnt(w, &at.k("max-wait-days"), 0)),
            None => {
                cx.error(&at, "missing `max-wait-days` (no phase has an `until` window to take it from)");
                None
            }
        };
        // Only a window written here is checked: one taken from the `until` phase was
        // already checked there.
        if let (Some(a), Some(b), true) = (min, max, e.min_mm3.is_some() || e.max_mm3.is_some()) {
            if a > b {
                cx.error(&at.k("min-mm3"), format!("enrollment window min-mm3 ({a}) is greater than max-mm3 ({b})"));
            }
            if let (Some((ua, ub, _)), Some(_), Some(_)) = (until, e.min_mm3, e.max_mm3)
                && a <= b
                && (ua != a || ub != b)
            {
                cx.error(
                    &at.k("min-mm3"),
                    format!("enrollment window {a}–{b} mm³ differs from the `until` window {ua}–{ub} mm³ of the growth phase"),
                );
            }
        }
        Some(Enrollment { min_mm3: min?, max_mm3: max?, max_wait_days: wait?, randomization: randomization?, mode: mode? })
    })
}

/// Converts `[endpoints]` (humane volume, diameter and weight-loss limits, event volume).
fn endpoints(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Endpoints> {
    let root = KeyPath::root();
    f.endpoints.as_ref().map(|e| {
        let at = root.k("endpoints");
        let max_weight_loss_pct = e.max_weight_loss_pct.as_ref().map(|w| {
            let s = cx.src(w, &at.k("max-weight-loss-pct"), R::Pos);
            if s.value > 100.0 {
                cx.error(
                    &at.k("max-weight-loss-pct").k("value"),
                    format!("`max-weight-loss-pct` must be ≤ 100, got {}", s.value),
                );
            }
            s
        });
        Endpoints {
            max_volume_mm3: e
                .max_volume_mm3
                .as_ref()
                .map(|v| cx.src(v, &at.k("max-volume-mm3"), R::Pos)),
            max_diameter_mm: e
                .max_diameter_mm
                .as_ref()
                .map(|v| cx.src(v, &at.k("max-diameter-mm"), R::Pos)),
            max_weight_loss_pct,
            event_volume_mm3: cx.n(e.event_volume_mm3, &at.k("event-volume-mm3"), R::Pos),
        }
    })
}

/// Converts `[caliper]` (volume formula, error model, observer bias, detection floor).
fn caliper_model(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<CaliperModel> {
    let root = KeyPath::root();
    f.caliper.as_ref().and_then(|c| {
        let at = root.k("caliper");
        let formula = cx.pick(
            &c.formula,
            &at.k("formula"),
            "volume formula",
            VOLUME_FORMULAS,
        );
        let eat = at.k("error");
        let error = match cx.pick(
            &c.error.model,
            &eat.k("model"),
            "caliper error model",
            CALIPER_ERROR_MODELS,
        ) {
            Some(0) => match &c.error.cv {
                Some(cv) => Some(CaliperError::Diameters {
                    cv: caliper_error(cx, cv, &eat.k("cv"), "cv"),
                }),
                None => {
                    cx.error(
                        &eat,
                        "model = \"diameters\" needs `cv = { value = …, source = \"…\" }`",
                    );
                    None
                }
            },
            Some(_) => match &c.error.sd {
                Some(sd) => Some(CaliperError::LogVolume {
                    sd: caliper_error(cx, sd, &eat.k("sd"), "sd"),
                }),
                None => {
                    cx.error(
                        &eat,
                        "model = \"log-volume\" needs `sd = { value = …, source = \"…\" }`",
                    );
                    None
                }
            },
            None => None,
        };
        Some(CaliperModel {
            formula: formula?,
            error: error?,
            observer_bias: {
                let b = cx.src(&c.observer_bias, &at.k("observer-bias"), R::Finite);
                feasibility::observer_bias(cx, b.value, &at.k("observer-bias").k("value"));
                b
            },
            detection_floor_mm3: cx.src(
                &c.detection_floor_mm3,
                &at.k("detection-floor-mm3"),
                R::NonNeg,
            ),
            width_ratio: cx.par(&c.width_ratio, &at.k("width-ratio"), R::PosProb),
        })
    })
}

/// Converts `[husbandry]` (animals per cage, spares, drug overage, attrition).
fn husbandry(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Husbandry> {
    let root = KeyPath::root();
    f.husbandry.as_ref().map(|h| {
        let at = root.k("husbandry");
        Husbandry {
            per_cage: cx.cnt(h.per_cage, &at.k("per-cage"), 1),
            spare_fraction: cx.n(h.spare_fraction, &at.k("spare-fraction"), R::NonNeg),
            drug_overage_fraction: cx.n(
                h.drug_overage_fraction,
                &at.k("drug-overage-fraction"),
                R::NonNeg,
            ),
            attrition: cx.src(&h.attrition, &at.k("attrition"), R::Prob),
        }
    })
}

/// A caliper error (`cv` of each diameter or `sd` of the log-volume) within
/// [`feasibility::bounds::MAX_CALIPER_ERROR`].
fn caliper_error(cx: &mut Ctx<'_>, f: &FileSourced, at: &KeyPath, name: &str) -> Sourced {
    let s = cx.src(f, at, R::NonNeg);
    feasibility::at_most(
        cx,
        s.value,
        feasibility::bounds::MAX_CALIPER_ERROR,
        &at.k("value"),
        name,
        "a caliper error is a fraction (published 0.03–0.2, Jensen et al. 2008); at 1 one SD is a factor e on each diameter",
    );
    s
}

/// What converting a cohort needs from the rest of the protocol.
struct CohortCx<'a> {
    /// The whole file (top-level `[[arms]]`, `[analysis] analysis-day`).
    f: &'a FileProtocol,
    /// The converted agents.
    agents: &'a [Agent],
    /// Their names (for "undefined agent" hints).
    agent_names: &'a [&'a str],
    /// The converted phases.
    phases: &'a [Phase],
    /// Name of the phase that starts study day 0.
    day0: Option<&'a str>,
}

/// Pellet implants and removals are dated from each cohort's `[cohorts.hormone]` — the one
/// owner of the supply that the simulator, the timeline and resources read — so a step of
/// those kinds in a xenograft protocol is an error: it would date pellets the simulator never
/// gives, or give them to a cohort that orders none.
fn pellet_steps(f: &FileProtocol, cx: &mut Ctx<'_>) {
    for (i, st) in f.steps.iter().enumerate() {
        let k = st.kind.trim().to_ascii_lowercase();
        if k == "pellet-implant" || k == "pellet-removal" {
            let with: Vec<&str> = f
                .cohorts
                .iter()
                .filter(|c| c.hormone.is_some())
                .map(|c| c.name.as_str())
                .collect();
            let who = if with.is_empty() {
                "no cohort has a [cohorts.hormone], so none is ordered or simulated".to_string()
            } else {
                format!("cohorts with one: {}", with.join(", "))
            };
            cx.error(
                &KeyPath::root().k("steps").i(i).k("kind"),
                format!(
                    "step kind `{k}`: in a xenograft protocol hormone pellets are dated from each cohort's [cohorts.hormone] (`implant-offset-days`, `reimplant-every-days`, `removal`), which the simulator and resources read too ({who}); remove this step"
                ),
            );
        }
    }
}

/// Converts one `[[cohorts]]` entry: tumor model, take rate, latency, implantation, hormone
/// support, growth, drug effects (those in user units go to `pending`), resistant subclone
/// and arms.
fn cohort(
    c: &FileCohort,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
    k: &CohortCx<'_>,
    pending: &mut Vec<PendingUserEffect>,
) -> Option<Cohort> {
    let model_type = cx.pick(
        &c.model,
        &at.k("model"),
        "tumor model type",
        TUMOR_MODEL_TYPES,
    );
    let take_rate = cx.src(&c.take_rate, &at.k("take-rate"), R::Prob);
    let min_take = super::convert::limits::MIN_TAKE_RATE;
    if take_rate.value.is_finite() && take_rate.value < min_take {
        cx.error(
            &at.k("take-rate").k("value"),
            format!(
                "`take-rate` must be at least {min_take} (the study implants n / take-rate animals), got {}",
                take_rate.value
            ),
        );
    }
    let latency_days = cx.par(&c.latency_days, &at.k("latency-days"), R::NonNeg);
    let gwe = cx.src(
        &c.growth_without_estrogen,
        &at.k("growth-without-estrogen"),
        R::NonNeg,
    );
    let implantation = implantation(&c.implantation, cx, &at.k("implantation"));
    let hormone = match &c.hormone {
        None => None,
        Some(h) => Some(hormone_support(h, cx, &at.k("hormone"))?),
    };

    let growth = growth(&c.growth, cx, &at.k("growth"));
    let effects = effects(c, cx, at, k, pending);

    let resistant = c.resistant.as_ref().map(|r| {
        let rat = at.k("resistant");
        ResistantSubclone {
            fraction: cx.par(&r.fraction, &rat.k("fraction"), R::Prob),
            sensitivity: cx.src(&r.sensitivity, &rat.k("sensitivity"), R::Prob),
            growth_without_estrogen: cx.src(
                &r.growth_without_estrogen,
                &rat.k("growth-without-estrogen"),
                R::NonNeg,
            ),
        }
    });
    let arms = arms(c, cx, at, k);

    Some(Cohort {
        name: c.name.clone(),
        model_type: model_type?,
        line: c.line.clone(),
        implantation,
        hormone,
        growth: growth?,
        take_rate,
        latency_days,
        growth_without_estrogen: gwe,
        effects,
        resistant,
        arms,
    })
}

/// Converts `[cohorts.implantation]` (cells, matrigel, volume, site, implanted animals).
fn implantation(im: &FileImplantation, cx: &mut Ctx<'_>, iat: &KeyPath) -> Implantation {
    if let Some(cells) = im.cells {
        cx.n(cells, &iat.k("cells"), R::Pos);
    }
    Implantation {
        cells: im.cells,
        matrigel_fraction: cx.n(im.matrigel_fraction, &iat.k("matrigel-fraction"), R::Prob),
        volume_ul: cx.n(im.volume_ul, &iat.k("volume-ul"), R::Pos),
        site: im.site.clone(),
        animals: im.animals.map(|n| cx.cnt(n, &iat.k("animals"), 1)),
    }
}

/// Converts `[cohorts.hormone]`: the supply's kind with its own keys (pellet: dose, release,
/// re-implants; injection: dose, route, schedule; drinking water: concentration, intake,
/// bottle changes), its start (on or before the cells) and its stop; `None` when the kind
/// or the stop is not valid.
fn hormone_support(h: &FileHormone, cx: &mut Ctx<'_>, hat: &KeyPath) -> Option<HormoneSupport> {
    let removal = match cx.pick(
        &h.removal,
        &hat.k("removal"),
        "pellet removal",
        PELLET_REMOVALS,
    ) {
        Some(0) => Some(PelletRemoval::AtRandomization),
        Some(1) => Some(PelletRemoval::Never),
        Some(_) => match h.removal_day {
            Some(d) if (-100_000..=100_000).contains(&d) => {
                Some(PelletRemoval::OnStudyDay(d as i32))
            }
            Some(d) => {
                cx.error(
                    &hat.k("removal-day"),
                    format!("`removal-day` out of range: {d}"),
                );
                None
            }
            None => {
                cx.error(
                    &hat.k("removal"),
                    "removal = \"on-study-day\" needs `removal-day = N`",
                );
                None
            }
        },
        None => None,
    };
    let offset = if (-365..=0).contains(&h.implant_offset_days) {
        h.implant_offset_days as i32
    } else if h.implant_offset_days > 0 && h.implant_offset_days <= 365 {
        // The simulator grows tumors under support from the day of the cells.
        cx.error(
            &hat.k("implant-offset-days"),
            format!(
                "`implant-offset-days` = {} starts the estrogen supply after the cells, which the simulator does not model (tumors are grown under support from implantation): give it on or before the day of the cells (≤ 0, e.g. -1)",
                h.implant_offset_days
            ),
        );
        0
    } else {
        cx.error(
            &hat.k("implant-offset-days"),
            format!(
                "`implant-offset-days` must be within -365..0, got {}",
                h.implant_offset_days
            ),
        );
        0
    };
    let kind = hormone_kind(h, cx, hat)?;
    Some(HormoneSupport {
        name: h.name.clone(),
        kind,
        implant_offset_days: offset,
        removal: removal?,
    })
}

/// Spellings of the hormone supply kind (also the `enum` of the JSON Schema).
pub(crate) const HORMONE_KINDS: &[(&str, u8)] =
    &[("pellet", 0u8), ("injection", 1u8), ("drinking-water", 2u8)];

/// The kind of `[cohorts.hormone]` with the keys it needs; a key of another kind is an error
/// at that key.
fn hormone_kind(h: &FileHormone, cx: &mut Ctx<'_>, hat: &KeyPath) -> Option<HormoneKind> {
    let kind = match &h.kind {
        None => 0,
        Some(k) => cx.pick(k, &hat.k("kind"), "hormone supply kind", HORMONE_KINDS)?,
    };
    let kind_name = HORMONE_KINDS[kind as usize].0;
    // (key, present, kinds that use it)
    let keys: [(&str, bool, &[u8]); 9] = [
        ("dose-mg", h.dose_mg.is_some(), &[0, 1]),
        ("release-days", h.release_days.is_some(), &[0]),
        (
            "reimplant-every-days",
            h.reimplant_every_days.is_some(),
            &[0],
        ),
        ("frequency", h.frequency.is_some(), &[1]),
        ("times", !h.times.is_empty(), &[1]),
        ("route", h.route.is_some(), &[1]),
        (
            "concentration-ug-per-ml",
            h.concentration_ug_per_ml.is_some(),
            &[2],
        ),
        ("intake-ml-per-day", h.intake_ml_per_day.is_some(), &[2]),
        ("change-every-days", h.change_every_days.is_some(), &[2]),
    ];
    let mut ok = true;
    for (key, present, kinds) in keys {
        if present && !kinds.contains(&kind) {
            let owners: Vec<String> = kinds
                .iter()
                .map(|k| format!("\"{}\"", HORMONE_KINDS[*k as usize].0))
                .collect();
            cx.error_key(
                &hat.k(key),
                format!(
                    "`{key}` is for kind = {}; this supply is kind = \"{kind_name}\" (remove it or change `kind`)",
                    owners.join(" or ")
                ),
            );
            ok = false;
        }
    }
    let mut need = |cx: &mut Ctx<'_>, key: &str, present: bool| {
        if !present {
            cx.error(
                &hat.k("kind"),
                format!("a `{kind_name}` hormone supply needs `{key}`"),
            );
            ok = false;
        }
    };
    match kind {
        0 => {
            need(cx, "dose-mg", h.dose_mg.is_some());
            need(cx, "release-days", h.release_days.is_some());
        }
        1 => need(cx, "dose-mg", h.dose_mg.is_some()),
        _ => {
            need(
                cx,
                "concentration-ug-per-ml",
                h.concentration_ug_per_ml.is_some(),
            );
            need(cx, "intake-ml-per-day", h.intake_ml_per_day.is_some());
            need(cx, "change-every-days", h.change_every_days.is_some());
        }
    }
    if !ok {
        return None;
    }
    match kind {
        0 => pellet_kind(h, cx, hat),
        1 => injection_kind(h, cx, hat),
        _ => water_kind(h, cx, hat),
    }
}

/// A pellet: dose, release and re-implants no further apart than the release (support never
/// lapses, as the simulator assumes).
fn pellet_kind(h: &FileHormone, cx: &mut Ctx<'_>, hat: &KeyPath) -> Option<HormoneKind> {
    let dose_mg = cx.n(h.dose_mg?, &hat.k("dose-mg"), R::Pos);
    let release_days = cx.n(h.release_days?, &hat.k("release-days"), R::Pos);
    let reimplant_every_days = match h.reimplant_every_days {
        None => None,
        Some(n) => {
            let at = hat.k("reimplant-every-days");
            let n = cx.cnt(n, &at, 1);
            if f64::from(n) > release_days {
                cx.error(
                    &at,
                    format!(
                        "a pellet re-implanted every {n} days with a {}-day release leaves the tumors without estrogen for {} days before each replacement; re-implant at most every {} days",
                        crate::output::fmt_value(release_days),
                        crate::output::fmt_value(f64::from(n) - release_days),
                        release_days.floor()
                    ),
                );
            }
            (n > 0).then_some(n)
        }
    };
    Some(HormoneKind::Pellet {
        dose_mg,
        release_days,
        reimplant_every_days,
    })
}

/// Injections: dose, route (s.c. by default) and a regular schedule (a gap in the supply
/// would be support the simulator cannot represent).
fn injection_kind(h: &FileHormone, cx: &mut Ctx<'_>, hat: &KeyPath) -> Option<HormoneKind> {
    let dose_mg = cx.n(h.dose_mg?, &hat.k("dose-mg"), R::Pos);
    let route = match &h.route {
        None => Some(Route::Sc),
        Some(r) => cx.pick(r, &hat.k("route"), "route", ROUTES),
    };
    if route == Some(Route::Pellet) {
        cx.error(
            &hat.k("route"),
            "route `pellet` is kind = \"pellet\", not an injection",
        );
    }
    let freq = h.frequency.as_deref().unwrap_or("qd");
    let schedule = cx.sched(freq, &[], &h.times, None, None, hat);
    if let Some(s) = &schedule
        && !matches!(
            s.frequency,
            Frequency::Daily { .. } | Frequency::EveryNDays { .. }
        )
    {
        cx.error(
            &hat.k("frequency"),
            format!(
                "frequency `{freq}` leaves gaps in the estrogen supply that the simulator does not model (support lasts while the supply continues): use qd, bid, tid, qid or q<N>d"
            ),
        );
        return None;
    }
    Some(HormoneKind::Injection {
        dose_mg,
        route: route.filter(|r| *r != Route::Pellet)?,
        schedule: schedule?,
    })
}

/// Drinking water: concentration, sourced intake and bottle changes.
fn water_kind(h: &FileHormone, cx: &mut Ctx<'_>, hat: &KeyPath) -> Option<HormoneKind> {
    let concentration_ug_per_ml = cx.n(
        h.concentration_ug_per_ml?,
        &hat.k("concentration-ug-per-ml"),
        R::Pos,
    );
    let intake_ml_per_day = cx.src(
        h.intake_ml_per_day.as_ref()?,
        &hat.k("intake-ml-per-day"),
        R::Pos,
    );
    let change_every_days = cx.cnt(h.change_every_days?, &hat.k("change-every-days"), 1);
    (change_every_days > 0).then_some(HormoneKind::DrinkingWater {
        concentration_ug_per_ml,
        intake_ml_per_day,
        change_every_days,
    })
}

/// Converts `[[cohorts.effects]]` (unique agents, a cited source, direct or exposure mode).
fn effects(
    c: &FileCohort,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
    k: &CohortCx<'_>,
    pending: &mut Vec<PendingUserEffect>,
) -> Vec<DrugEffect> {
    let analysis_day = k.f.analysis.as_ref().and_then(|a| a.analysis_day);
    let names: Vec<_> = c
        .effects
        .iter()
        .enumerate()
        .map(|(i, e)| (e.agent.clone(), at.k("effects").i(i).k("agent")))
        .collect();
    cx.uniq(&names, "effect agent");
    let mut effects = Vec::new();
    for (i, e) in c.effects.iter().enumerate() {
        let eat = at.k("effects").i(i);
        let agent = k.agents.iter().find(|a| a.name == e.agent);
        match agent {
            None => undefined(cx, &eat.k("agent"), "agent", &e.agent, k.agent_names),
            Some(a) if a.vehicle => cx.error(
                &eat.k("agent"),
                format!("`{}` is a vehicle and cannot have a drug effect", a.name),
            ),
            _ => {}
        }
        let source = e.source.clone();
        if source.trim().is_empty() {
            cx.error(
                &eat.k("source"),
                "empty `source`: cite the reference or write \"assumed; <why>\"",
            );
        }
        let mode = match cx.pick(&e.mode, &eat.k("mode"), "effect mode", EFFECT_MODES) {
            Some(0) => direct_effect(e, cx, &eat, analysis_day, (&c.name, effects.len()), pending),
            Some(_) => exposure_effect(e, agent, cx, &eat),
            None => None,
        };
        if let Some(mode) = mode {
            effects.push(DrugEffect {
                agent: e.agent.clone(),
                mode,
                source,
                specified_as: None,
            });
        }
    }
    effects
}

/// Converts a `mode = "direct"` effect: `inhibition`, or one effect in user units
/// (`expected-tgi-pct`, `expected-tc-pct`, `expected-rate-tc`), pushed to `pending` as
/// `slot` = (cohort name, index in the cohort's effects) and solved later.
fn direct_effect(
    e: &FileEffect,
    cx: &mut Ctx<'_>,
    eat: &KeyPath,
    analysis_day: Option<f64>,
    slot: (&str, usize),
    pending: &mut Vec<PendingUserEffect>,
) -> Option<EffectMode> {
    for k in ["emax", "ec50-ng-ml", "hill", "target", "k2"] {
        if cx_exists(cx, &eat.k(k)) {
            cx.error_key(&eat.k(k), format!("`{k}` is for mode = \"exposure\"; a direct effect uses `inhibition` and `kill-rate-per-day`"));
        }
    }
    let kill_rate_per_day = match &e.kill_rate_per_day {
        Some(k) => cx.par(k, &eat.k("kill-rate-per-day"), R::NonNeg),
        None => Param::fixed(0.0, "default: no kill term"),
    };
    let user: Vec<(EffectUnit, &FileUserEffect)> = [
        (EffectUnit::TgiPct, &e.expected_tgi_pct),
        (EffectUnit::TcPct, &e.expected_tc_pct),
        (EffectUnit::RateTcPct, &e.expected_rate_tc),
    ]
    .into_iter()
    .filter_map(|(u, x)| x.as_ref().map(|x| (u, x)))
    .collect();
    let mut given: Vec<&str> = user.iter().map(|(u, _)| u.key()).collect();
    if e.inhibition.is_some() {
        given.insert(0, "inhibition");
    }
    if given.len() > 1 {
        cx.error_key(
            &eat.k(given[1]),
            format!(
                "give exactly one of `inhibition`, `expected-tgi-pct`, `expected-tc-pct`, `expected-rate-tc`; this effect has {}",
                given.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
            ),
        );
    }
    match (&e.inhibition, user.first()) {
        (None, None) => {
            cx.error(
                eat,
                "mode = \"direct\" needs `inhibition = { value = …, source = \"…\" }` or an effect in user units: `expected-tgi-pct`, `expected-tc-pct` or `expected-rate-tc = { value = …, day = …, source = \"…\" }`",
            );
            None
        }
        (Some(inh), _) => Some(EffectMode::Direct {
            inhibition: cx.par(inh, &eat.k("inhibition"), R::Prob),
            kill_rate_per_day,
        }),
        (None, Some(&(unit, u))) => {
            let uat = eat.k(unit.key());
            let value = cx.n(u.value, &uat.k("value"), R::Finite);
            if u.source.trim().is_empty() {
                cx.error(
                    &uat.k("source"),
                    "empty `source`: cite the reference or write \"assumed; <why>\"",
                );
            }
            let day = match u.day.or(analysis_day) {
                Some(d) => Some(cx.n(d, &uat.k("day"), R::Pos)),
                None => {
                    cx.error(
                        &uat,
                        format!("`{}` needs `day = N` (the study day at which the {} holds), or set `[analysis] analysis-day`", unit.key(), unit.label()),
                    );
                    None
                }
            };
            day.map(|day| {
                pending.push(PendingUserEffect {
                    cohort: slot.0.to_string(),
                    effect: slot.1,
                    at: uat,
                    unit,
                    value,
                    day,
                    cv: u.cv,
                    sd: u.sd,
                    source: u.source.clone(),
                });
                // Solved once enrollment and hosts are known (solve_user_effects).
                EffectMode::Direct {
                    inhibition: Param::fixed(f64::NAN, "not solved yet"),
                    kill_rate_per_day,
                }
            })
        }
    }
}

/// Converts a `mode = "exposure"` effect (Emax model of the agent's PK exposure, acting on
/// growth or as a kill term).
fn exposure_effect(
    e: &FileEffect,
    agent: Option<&Agent>,
    cx: &mut Ctx<'_>,
    eat: &KeyPath,
) -> Option<EffectMode> {
    for k in [
        "inhibition",
        "kill-rate-per-day",
        "expected-tgi-pct",
        "expected-tc-pct",
        "expected-rate-tc",
    ] {
        if cx_exists(cx, &eat.k(k)) {
            cx.error_key(&eat.k(k), format!("`{k}` is for mode = \"direct\"; an exposure effect uses `emax`, `ec50-ng-ml`, `hill`"));
        }
    }
    if let Some(a) = agent
        && a.pk.is_none()
    {
        cx.error(
            &eat.k("mode"),
            format!(
                "exposure-driven effect needs PK: add [agents.pk] to agent `{}`",
                a.name
            ),
        );
    }
    let hill = match e.hill {
        Some(h) => cx.n(h, &eat.k("hill"), R::Pos),
        None => 1.0,
    };
    let t = e.target.as_deref().unwrap_or("growth");
    let target = {
        {
            match cx.pick(t, &eat.k("target"), "effect target", EFFECT_TARGETS) {
                Some(0) => Some(EffectTarget::Growth),
                Some(_) => match &e.k2 {
                    Some(k2) => Some(EffectTarget::Kill {
                        k2: cx.par(k2, &eat.k("k2"), R::Pos),
                    }),
                    None => {
                        cx.error(
                            &eat.k("target"),
                            "target = \"kill\" needs `k2 = { value = …, source = \"…\" }`",
                        );
                        None
                    }
                },
                None => None,
            }
        }
    };
    let kill = matches!(target, Some(EffectTarget::Kill { .. }));
    let emax = exposure_param(cx, eat, (e.emax.as_ref(), "emax", R::Prob), kill, 0.0);
    let ec50 = exposure_param(
        cx,
        eat,
        (e.ec50_ng_ml.as_ref(), "ec50-ng-ml", R::Pos),
        kill,
        1.0,
    );
    match (emax, ec50, target) {
        (Some(emax), Some(ec50_ng_ml), Some(target)) => Some(EffectMode::Exposure {
            emax,
            ec50_ng_ml,
            hill,
            target,
        }),
        _ => None,
    }
}

/// An exposure-mode parameter `(value, key, rule)`: required unless the target is kill, where
/// it is unused and fixed at `unused`.
fn exposure_param(
    cx: &mut Ctx<'_>,
    eat: &KeyPath,
    (x, key, rule): (Option<&FileParam>, &str, R),
    kill: bool,
    unused: f64,
) -> Option<Param> {
    match x {
        Some(x) => Some(cx.par(x, &eat.k(key), rule)),
        None if kill => Some(Param::fixed(unused, "unused for target = kill")),
        None => {
            cx.error(
                eat,
                format!("mode = \"exposure\" needs `{key} = {{ value = …, source = \"…\" }}`"),
            );
            None
        }
    }
}

/// Converts the cohort's arms, its own `[[cohorts.arms]]` or the shared top-level `[[arms]]`:
/// unique names, exactly one control arm, then each arm.
fn arms(c: &FileCohort, cx: &mut Ctx<'_>, at: &KeyPath, k: &CohortCx<'_>) -> Vec<Arm> {
    // Arms: the cohort's own, or the shared top-level list.
    let (arms_src, aat) = match &c.arms {
        Some(a) => (a.as_slice(), at.k("arms")),
        None => (k.f.arms.as_slice(), KeyPath::root().k("arms")),
    };
    if arms_src.is_empty() {
        cx.error(
            &at.k("name"),
            format!(
                "cohort `{}` has no arms: add [[cohorts.arms]] or top-level [[arms]]",
                c.name
            ),
        );
    }
    let names: Vec<_> = arms_src
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.clone(), aat.i(i).k("name")))
        .collect();
    cx.uniq(&names, "arm");
    let controls: Vec<usize> = arms_src
        .iter()
        .enumerate()
        .filter(|(_, a)| a.control)
        .map(|(i, _)| i)
        .collect();
    if controls.is_empty() && !arms_src.is_empty() {
        cx.error(
            &at.k("name"),
            format!(
                "cohort `{}` has no control arm: mark exactly one arm `control = true`",
                c.name
            ),
        );
    }
    if controls.len() > 1 {
        let list: Vec<String> = controls
            .iter()
            .map(|&i| format!("`{}`", arms_src[i].name))
            .collect();
        cx.error(
            &aat.i(controls[1]).k("control"),
            format!(
                "cohort `{}` has {} control arms ({}); exactly one is allowed",
                c.name,
                controls.len(),
                list.join(", ")
            ),
        );
    }
    arms_src
        .iter()
        .enumerate()
        .map(|(i, a)| arm(a, c, cx, &aat.i(i), k))
        .collect()
}

/// Converts one arm (size, interaction, treatments); warns on an agent without an effect.
fn arm(a: &FileArm, c: &FileCohort, cx: &mut Ctx<'_>, arat: &KeyPath, k: &CohortCx<'_>) -> Arm {
    let n = cx.count_max(a.n, &arat.k("n"), 1, super::convert::limits::MAX_N_PER_ARM);
    let interaction = cx.n(a.interaction, &arat.k("interaction"), R::Finite);
    if !(-1.0..=1.0).contains(&interaction) {
        cx.error(
            &arat.k("interaction"),
            format!("`interaction` must be between -1 and 1, got {interaction}"),
        );
    }
    if interaction != 0.0 && a.treatments.len() < 2 {
        cx.error_key(
            &arat.k("interaction"),
            format!("`interaction` only applies to combination arms; arm `{}` has one treatment, so it would be ignored (remove it)", a.name),
        );
    }
    if a.treatments.is_empty() && !a.control {
        cx.error(
            &arat.k("name"),
            format!("arm `{}` has no treatments", a.name),
        );
    }
    let mut treatments = Vec::new();
    for (j, t) in a.treatments.iter().enumerate() {
        if let Some(t) = treatment(t, cx, &arat.k("treatments").i(j), k) {
            if !c.effects.iter().any(|e| e.agent == t.agent)
                && k.agents.iter().any(|x| x.name == t.agent && !x.vehicle)
            {
                cx.warn_key(
                    &arat.k("treatments").i(j).k("agent"),
                    format!("agent `{}` has no [[cohorts.effects]] entry in cohort `{}`; it will act like a vehicle", t.agent, c.name),
                );
            }
            treatments.push(t);
        }
    }
    Arm {
        name: a.name.clone(),
        control: a.control,
        treatments,
        n,
        interaction,
    }
}

/// An effect given in user units, waiting for [`solve_user_effects`].
pub(crate) struct PendingUserEffect {
    cohort: String,
    /// Index in the cohort's `effects`.
    effect: usize,
    /// Position of the user form (`…effects[i].expected-tgi-pct`).
    at: KeyPath,
    unit: EffectUnit,
    value: f64,
    day: f64,
    cv: Option<f64>,
    sd: Option<f64>,
    source: String,
}

/// The cohort's typical growth curve from randomization, as the effect-unit solve sees it:
/// typical growth parameters; V0 = the growth model's typical V0 when enrollment is
/// `at-baseline`, else the geometric middle of the enrollment window (randomization takes
/// the animals closest to it); the hormone factor of the simulator's closed-form rule
/// (`CohortPlan::closed_form_hormone_factor`: 1 while estrogen lasts past study day 0 —
/// intact hosts, or a pellet neither removed at randomization nor exhausted — else the
/// cohort's growth without estrogen). The effect acts from day 0 on ([`effect_units::ALWAYS_ON`]);
/// the effect-unit solve narrows it to the arm's dosing window.
pub fn typical_curve(
    c: &Cohort,
    animals: &Animals,
    enrollment: &Enrollment,
) -> effect_units::Curve {
    let v0 = match enrollment.mode {
        EnrollmentMode::AtBaseline => c.growth.v0().value,
        _ if enrollment.min_mm3 > 0.0 => (enrollment.min_mm3 * enrollment.max_mm3).sqrt(),
        _ => 0.5 * enrollment.max_mm3,
    };
    let support = crate::model::estrogen::support_end_study(
        animals.ovariectomized,
        c.hormone
            .as_ref()
            .map(|h| (h.exhausted_tumor(), h.removal_study())),
        0.0,
    ) > 0.0;
    let hormone = if support {
        1.0
    } else {
        c.growth_without_estrogen.value
    };
    let shape = growth_shape(c);
    effect_units::Curve {
        shape,
        v0,
        hormone,
        effect: effect_units::ALWAYS_ON,
    }
}

/// The shape of the cohort's typical growth curve (typical rates and capacity).
pub(crate) fn growth_shape(c: &Cohort) -> effect_units::Shape {
    use crate::model::growth::{Kinetics, Simeoni};
    use effect_units::Shape;
    match &c.growth {
        GrowthModel::Exponential { rate, .. } => Shape::Closed {
            kinetics: Kinetics::Exponential,
            rate: rate.value,
        },
        GrowthModel::Logistic {
            rate, capacity_mm3, ..
        } => Shape::Closed {
            kinetics: Kinetics::Logistic {
                capacity: capacity_mm3.value,
            },
            rate: rate.value,
        },
        GrowthModel::Gompertz {
            rate, capacity_mm3, ..
        } => Shape::Closed {
            kinetics: Kinetics::Gompertz {
                capacity: capacity_mm3.value,
            },
            rate: rate.value,
        },
        GrowthModel::Simeoni {
            lambda0,
            lambda1,
            k1,
            psi,
            ..
        } => Shape::Simeoni(Simeoni {
            lambda0: lambda0.value,
            lambda1: lambda1.value,
            k1: k1.value,
            psi: *psi,
        }),
    }
}

/// Solves every effect given in user units to its growth-rate inhibition (errors at the
/// user form when the target cannot be reached).
fn solve_user_effects(
    cx: &mut Ctx<'_>,
    cohorts: &mut [Cohort],
    pending: &[PendingUserEffect],
    (animals, enrollment, tphases): (&Animals, &Enrollment, &[(String, u32, u32)]),
) {
    for p in pending {
        let Some(c) = cohorts.iter_mut().find(|c| c.name == p.cohort) else {
            continue;
        };
        let mut curve = typical_curve(c, animals, enrollment);
        let Some(agent) = c.effects.get(p.effect).map(|e| e.agent.clone()) else {
            continue;
        };
        let windows = agent_effect_windows(c, &agent, tphases);
        if let Some((arm, w)) = windows.first() {
            curve.effect = *w;
            let differ: Vec<String> = windows
                .iter()
                .filter(|(_, v)| (v.0 - w.0).abs() > 1e-9 || (v.1 - w.1).abs() > 1e-9)
                .map(|(a, v)| format!("`{a}` ({})", window_text(*v)))
                .collect();
            if !differ.is_empty() {
                cx.warn_key(
                    &p.at,
                    format!(
                        "`{}` is solved for the dosing of arm `{arm}` ({}); {} dose `{agent}` over other days and will show a different {}",
                        p.unit.key(),
                        window_text(*w),
                        differ.join(", "),
                        p.unit.label()
                    ),
                );
            }
        }
        if c.resistant.is_some() {
            cx.warn_key(
                &p.at,
                format!(
                    "`{}` is solved on the sensitive population; the resistant subclone of cohort `{}` will make the simulated {} weaker",
                    p.unit.key(),
                    c.name,
                    p.unit.label()
                ),
            );
        }
        let Some(eff) = c.effects.get_mut(p.effect) else {
            continue;
        };
        let EffectMode::Direct {
            inhibition,
            kill_rate_per_day,
        } = &mut eff.mode
        else {
            continue;
        };
        let kill = kill_rate_per_day.value;
        match effect_units::solve(p.unit, p.value, &curve, kill, p.day) {
            Ok(i) => {
                let solved_for = format!(
                    "solved for {} growth: typical on-treatment control rate {}/day, V0 {} mm³ at randomization{}, {} (first dose to last dose + one interval)",
                    curve.model_name(),
                    crate::output::fmt_sig_real(curve.control_rate(), 3),
                    crate::output::fmt_sig_real(curve.v0, 3),
                    if kill > 0.0 {
                        format!(", kill {kill}/day")
                    } else {
                        String::new()
                    },
                    window_text(curve.effect)
                );
                let fp = FileParam {
                    value: i,
                    cv: p.cv,
                    sd: p.sd,
                    source: format!(
                        "expected {} {}% at day {} ({}); {solved_for}",
                        p.unit.label(),
                        p.value,
                        p.day,
                        p.source
                    ),
                };
                *inhibition = cx.par(&fp, &p.at, R::Prob);
                eff.specified_as = Some(UserEffect {
                    unit: p.unit,
                    value: p.value,
                    day: p.day,
                    source: p.source.clone(),
                    solved_for,
                });
            }
            Err(why) => cx.error(
                &p.at.k("value"),
                format!("`{}` in cohort `{}`: {why}", p.unit.key(), c.name),
            ),
        }
    }
}

/// The direct-effect window ([`crate::model::schedule::direct_effect_window`]) of `agent` in
/// each arm of `c` that doses it, in arm order: from its first administration to its last
/// plus one interval over the arm's treatments of the agent, averaged over the weekdays of
/// study day 0 when a schedule depends on the weekday (rolling enrollment randomizes on any).
fn agent_effect_windows(
    c: &Cohort,
    agent: &str,
    tphases: &[(String, u32, u32)],
) -> Vec<(String, (f64, f64))> {
    use crate::model::schedule::{administration_span, direct_effect_window, weekday_variants};
    let mut out = Vec::new();
    for arm in &c.arms {
        let (mut sum, mut count) = ((0.0, 0.0), 0u32);
        let doses: Vec<&Treatment> = arm.treatments.iter().filter(|t| t.agent == agent).collect();
        let weekdays = doses
            .iter()
            .map(|t| weekday_variants(&t.schedule))
            .max()
            .unwrap_or(1);
        for wd0 in 0..weekdays {
            let mut w: Option<(f64, f64)> = None;
            for t in &doses {
                let Some((_, off, len)) = tphases.iter().find(|p| p.0 == t.phase) else {
                    continue;
                };
                // The span, not the list: the phase length is not bounded yet.
                let Some((a, b)) = administration_span(&t.schedule, *off, *len, wd0) else {
                    continue;
                };
                if let Some(v) = direct_effect_window(&[a, b], &t.schedule) {
                    w = Some(w.map_or(v, |u| (u.0.min(v.0), u.1.max(v.1))));
                }
            }
            if let Some(v) = w {
                count += 1;
                sum = (sum.0 + v.0, sum.1 + v.1);
            }
        }
        if count > 0 {
            let k = f64::from(count);
            out.push((arm.name.clone(), (sum.0 / k, sum.1 / k)));
        }
    }
    out
}

/// "effect on study days a–b" for a direct-effect window.
fn window_text((on, off): (f64, f64)) -> String {
    let f = crate::output::fmt_value;
    if off.is_finite() {
        format!("effect on study days {}–{}", f(on), f(off))
    } else {
        format!("effect from study day {} on", f(on))
    }
}

fn cx_exists(cx: &Ctx<'_>, at: &KeyPath) -> bool {
    cx.path_exists(at)
}

fn growth(g: &FileGrowth, cx: &mut Ctx<'_>, at: &KeyPath) -> Option<GrowthModel> {
    let model = cx.pick(&g.model, &at.k("model"), "growth model", GROWTH_MODELS)?;
    let v0_mm3 = cx.par(&g.v0_mm3, &at.k("v0-mm3"), R::Pos);
    let needs: &[&str] = match model {
        0 => &["rate"],
        1 | 2 => &["rate", "capacity-mm3"],
        _ => &["lambda0", "lambda1", "k1"],
    };
    let all = ["rate", "capacity-mm3", "lambda0", "lambda1", "k1", "psi"];
    let given = |k: &str| match k {
        "rate" => g.rate.is_some(),
        "capacity-mm3" => g.capacity_mm3.is_some(),
        "lambda0" => g.lambda0.is_some(),
        "lambda1" => g.lambda1.is_some(),
        "k1" => g.k1.is_some(),
        _ => g.psi.is_some(),
    };
    let mut ok = true;
    for k in needs {
        if !given(k) {
            cx.error(
                &at.k("model"),
                format!("growth model `{}` needs `{k}`", g.model),
            );
            ok = false;
        }
    }
    for k in all {
        let used = needs.contains(&k) || (model == 3 && k == "psi");
        if given(k) && !used {
            cx.error_key(
                &at.k(k),
                format!("`{k}` is not a parameter of growth model `{}`", g.model),
            );
            ok = false;
        }
    }
    let p = |cx: &mut Ctx<'_>, x: &Option<FileParam>, k: &str, r: R| {
        x.as_ref().map(|x| cx.par(x, &at.k(k), r))
    };
    let rate = p(cx, &g.rate, "rate", R::Finite);
    let cap = p(cx, &g.capacity_mm3, "capacity-mm3", R::Pos);
    let l0 = p(cx, &g.lambda0, "lambda0", R::Pos);
    let l1 = p(cx, &g.lambda1, "lambda1", R::Pos);
    let k1 = p(cx, &g.k1, "k1", R::Pos);
    let psi = g.psi.map(|x| cx.n(x, &at.k("psi"), R::Pos)).unwrap_or(20.0);
    if let (Some(c), true) = (&cap, v0_mm3.value.is_finite())
        && c.value <= v0_mm3.value
    {
        {
            cx.error(
                &at.k("capacity-mm3").k("value"),
                format!(
                    "`capacity-mm3` ({}) must exceed `v0-mm3` ({})",
                    c.value, v0_mm3.value
                ),
            );
        }
    }
    if !ok {
        return None;
    }
    Some(match model {
        0 => GrowthModel::Exponential {
            v0_mm3,
            rate: rate?,
        },
        1 => GrowthModel::Logistic {
            v0_mm3,
            rate: rate?,
            capacity_mm3: cap?,
        },
        2 => GrowthModel::Gompertz {
            v0_mm3,
            rate: rate?,
            capacity_mm3: cap?,
        },
        _ => GrowthModel::Simeoni {
            v0_mm3,
            lambda0: l0?,
            lambda1: l1?,
            k1: k1?,
            psi,
        },
    })
}

/// Converts one treatment of an arm: a defined agent, dose and unit, route, schedule within its
/// phase (day 0's phase by default), and the route's limits.
fn treatment(
    t: &FileTreatment,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
    k: &CohortCx<'_>,
) -> Option<Treatment> {
    let agent = k.agents.iter().find(|a| a.name == t.agent);
    if agent.is_none() {
        undefined(cx, &at.k("agent"), "agent", &t.agent, k.agent_names);
    }
    let vehicle = agent.is_some_and(|a| a.vehicle);
    let dose = cx.n(
        t.dose,
        &at.k("dose"),
        if vehicle { R::NonNeg } else { R::Pos },
    );
    let unit = dose_unit(t, cx, at);
    let route = cx.pick(&t.route, &at.k("route"), "route", ROUTES);
    let schedule = cx.sched(
        &t.frequency,
        &t.weekdays,
        &t.times,
        t.start_day,
        t.end_day,
        at,
    );
    if route == Some(Route::Pellet) {
        pellet_limits(t, cx, at, unit, schedule.as_ref());
    }
    if let Some(v) = t.volume_ml_per_kg {
        let v = cx.n(v, &at.k("volume-ml-per-kg"), R::Pos);
        // Institutional limit for oral gavage in mice: 10 mL/kg typical, 50 mL/kg maximum.
        if route == Some(Route::Po) && v > 50.0 {
            cx.error(
                &at.k("volume-ml-per-kg"),
                format!("PO dosing volume {v} mL/kg exceeds the 50 mL/kg maximum"),
            );
        }
    }
    let phase_name = match (&t.phase, k.day0) {
        (Some(p), _) => resolve_phase(cx, p, &at.k("phase"), k.phases).map(|p| p.name),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    };
    if let (Some(s), Some(pn)) = (&schedule, &phase_name)
        && let Some(p) = k.phases.iter().find(|p| &p.name == pn)
    {
        cx.fits(s, p, at);
    }
    Some(Treatment {
        agent: t.agent.clone(),
        dose,
        unit: unit?,
        route: route?,
        schedule: schedule?,
        phase: phase_name?,
        volume_ml_per_kg: t.volume_ml_per_kg,
    })
}

/// The dose unit of a treatment (one of [`UNITS`]).
fn dose_unit(t: &FileTreatment, cx: &mut Ctx<'_>, at: &KeyPath) -> Option<DoseUnit> {
    match UNITS.iter().find(|(k, _)| *k == t.unit.trim()) {
        Some((_, u)) => Some(*u),
        None => {
            let names: Vec<&str> = UNITS
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| k.is_ascii())
                .collect();
            cx.error(
                &at.k("unit"),
                format!(
                    "unknown dose unit `{}`; expected one of {}",
                    t.unit,
                    names.join(", ")
                ),
            );
            None
        }
    }
}

/// A slow-release pellet holds a fixed amount per animal and is implanted once: no per-kg unit,
/// no daily frequency.
fn pellet_limits(
    t: &FileTreatment,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
    unit: Option<DoseUnit>,
    schedule: Option<&Schedule>,
) {
    if let Some(u) = unit
        && matches!(u, DoseUnit::MgPerKg | DoseUnit::UgPerKg)
    {
        cx.error(
            &at.k("unit"),
            format!("unit `{}` is not valid for route `pellet`: a pellet holds a fixed amount per animal (use mg or ug)", t.unit),
        );
    }
    if let Some(s) = schedule
        && matches!(
            s.frequency,
            Frequency::Daily { .. } | Frequency::Weekdays { .. } | Frequency::Cycle { .. }
        )
    {
        cx.error(
            &at.k("frequency"),
            format!(
                "frequency `{}` is not possible for route `pellet`: a slow-release pellet is implanted once (use \"once\", or q<N>d to replace it)",
                t.frequency
            ),
        );
    }
}

#[cfg(test)]
mod user_effect_tests {
    //! Effects in user units: conversion, positions of the errors, the end-to-end TGI.
    use crate::model::effect_units::{EffectUnit, measure};
    use crate::protocol::domain::EffectMode;
    use crate::protocol::{LoadError, parse};

    const FIXTURE: &str = include_str!("../../tests/fixtures/effects/user_units.toml");

    fn with(old: &str, new: &str) -> String {
        assert!(FIXTURE.contains(old), "fixture lacks {old}");
        FIXTURE.replacen(old, new, 1)
    }

    fn errors(text: &str) -> Vec<(usize, String)> {
        match parse(text, "t.toml") {
            Ok(_) => Vec::new(),
            Err(LoadError::Invalid { diagnostics, .. }) => diagnostics
                .into_iter()
                .filter(|d| d.severity == crate::protocol::diag::Severity::Error)
                .map(|d| (d.line, d.message))
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines()
            .position(|l| l.contains(needle))
            .expect("needle")
            + 1
    }

    #[test]
    fn fixture_solves_to_the_documented_inhibitions_and_keeps_the_users_number() {
        let l = parse(FIXTURE, "user_units.toml").unwrap_or_else(|e| panic!("{e}"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let x = l.protocol.xenograft().expect("xenograft");
        let c = &x.cohorts[0];
        let inh = |agent: &str| match &c.effect(agent).expect("effect").mode {
            EffectMode::Direct { inhibition, .. } => inhibition.value,
            m => panic!("{m:?}"),
        };
        // Exponential closed form, g = ln2/7, t = 21 (day from [analysis] analysis-day); the
        // effect acts from the first dose (default 10:00 of day 0) on, w = 21 − 10/24 days:
        // ln(V_T/V0) = g·21 − g·I·w.
        let g = std::f64::consts::LN_2 / 7.0;
        let w = 21.0 - 10.0 / 24.0;
        let ln_t = (1.0 + 0.3 * (g * 21.0).exp_m1()).ln();
        assert!((inh("drug-tgi70") - (g * 21.0 - ln_t) / (g * w)).abs() < 1e-12);
        assert!((inh("drug-tc25") - (-(0.25f64.ln()) / (g * w))).abs() < 1e-12);
        assert_eq!(inh("drug-i30"), 0.3);
        let u = c
            .effect("drug-tgi70")
            .unwrap()
            .specified_as
            .as_ref()
            .unwrap();
        assert_eq!((u.unit, u.value, u.day), (EffectUnit::TgiPct, 70.0, 21.0));
        assert!(u.source.contains("~70% TGI"));
        assert!(c.effect("drug-i30").unwrap().specified_as.is_none());
        // The case: inhibition 0.7 on this growth is TGI ≈ 88%, not 70%.
        let curve = super::typical_curve(c, &x.animals, &x.enrollment);
        let tgi = measure(EffectUnit::TgiPct, &curve, 0.7, 0.0, 21.0);
        assert!((tgi - 87.6).abs() < 0.5, "{tgi}");
    }

    #[test]
    fn one_form_only_and_positioned_errors() {
        // Two forms.
        let t = with(
            "expected-tc-pct = { value = 25, day = 21, source = \"assumed; test fixture\" }",
            "expected-tc-pct = { value = 25, day = 21, source = \"assumed; test fixture\" }\ninhibition = { value = 0.5, source = \"x\" }",
        );
        let e = errors(&t);
        assert!(e.iter().any(|(_, m)| m.contains("exactly one of")), "{e:?}");
        // Impossible target, at the value's line.
        let t = with(
            "expected-tc-pct = { value = 25,",
            "expected-tc-pct = { value = 125,",
        );
        let e = errors(&t);
        let l = line_of(&t, "value = 125");
        assert!(
            e.iter()
                .any(|(line, m)| *line == l && m.contains("cannot be negative")),
            "{e:?}"
        );
        let t = with(
            "expected-tgi-pct = { value = 70,",
            "expected-tgi-pct = { value = 130,",
        );
        let e = errors(&t);
        assert!(e.iter().any(|(_, m)| m.contains("kill rate")), "{e:?}");
        // No day and no analysis day.
        let t = with("analysis-day = 21\n", "");
        let e = errors(&t);
        let l = line_of(&t, "expected-tgi-pct = {");
        assert!(
            e.iter()
                .any(|(line, m)| *line == l && m.contains("needs `day = N`")),
            "{e:?}"
        );
        // Neither form.
        let t = with(
            "inhibition = { value = 0.3, source = \"assumed; test fixture\" }\n",
            "",
        );
        let e = errors(&t);
        assert!(
            e.iter().any(|(_, m)| m.contains("expected-tgi-pct")),
            "{e:?}"
        );
        // Unknown keys in the user form are errors too.
        let t = with(
            "expected-tc-pct = { value = 25, day = 21,",
            "expected-tc-pct = { value = 25, day = 21, dya = 3,",
        );
        let e = errors(&t);
        assert!(
            e.iter()
                .any(|(_, m)| m.contains("unknown key `dya`") && m.contains("did you mean `day`?")),
            "{e:?}"
        );
        // cv on the user form carries onto the solved inhibition.
        let t = with(
            "expected-tc-pct = { value = 25, day = 21,",
            "expected-tc-pct = { value = 25, day = 21, cv = 0.2,",
        );
        let l = parse(&t, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let x = l.protocol.xenograft().unwrap();
        match &x.cohorts[0].effect("drug-tc25").unwrap().mode {
            EffectMode::Direct { inhibition, .. } => assert_eq!(
                inhibition.variability,
                crate::protocol::domain::Variability::LogNormal { cv: 0.2 }
            ),
            m => panic!("{m:?}"),
        }
    }
}

#[cfg(test)]
mod typical_curve_tests {
    /// The effect-unit solve's hormone factor is the simulator's closed-form rule, for every
    /// cohort of every bundled xenograft protocol.
    #[test]
    fn hormone_factor_matches_the_simulators_closed_form_rule() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        for dir in ["protocols", "examples", "tests/fixtures/effects"] {
            for e in std::fs::read_dir(root.join(dir)).expect("dir") {
                let p = e.expect("entry").path();
                if p.extension().and_then(|x| x.to_str()) != Some("toml") {
                    continue;
                }
                let l = crate::protocol::load(&p).unwrap_or_else(|e| panic!("{e}"));
                let Some(x) = l.protocol.xenograft() else {
                    continue;
                };
                let plan =
                    crate::sim::plan::Plan::new(&l.protocol, &crate::sim::SimOptions::default())
                        .expect("plan");
                for (c, cp) in x.cohorts.iter().zip(&plan.cohorts) {
                    let curve = super::typical_curve(c, &x.animals, &x.enrollment);
                    assert_eq!(
                        curve.hormone,
                        cp.closed_form_hormone_factor(),
                        "{} {}",
                        p.display(),
                        c.name
                    );
                    n += 1;
                }
            }
        }
        assert!(n >= 5, "{n} cohorts");
    }
}

//! Small protocols built in Rust for tests, examples and benchmarks (no file needed).
//!
//! [`basic`] is a TamR-like design: acclimation (7 d), implantation phase ending on the
//! 150–200 mm³ window (max wait 60 d), treatment day 0 → 28; calipers Mon/Thu; one cohort
//! with a vehicle arm and a drug arm (direct effect, PO QD). Values are assumed test values,
//! not calibrated ones. Tests mutate the returned value.

use crate::protocol::*;
use jiff::civil::Weekday;

fn src() -> String {
    "assumed; test fixture".into()
}

fn s(v: f64) -> Sourced {
    Sourced::new(v, "assumed; test fixture")
}

/// A daily PO schedule in phase `treatment`.
pub fn qd() -> Schedule {
    Schedule {
        frequency: Frequency::Daily { per_day: 1 },
        start_day: 0,
        end_day: None,
        times: Vec::new(),
    }
}

/// A treatment of `agent` at `dose` mg/kg PO on `schedule` in phase `treatment`.
pub fn treatment(agent: &str, dose: f64, schedule: Schedule) -> Treatment {
    Treatment {
        agent: agent.into(),
        dose,
        unit: DoseUnit::MgPerKg,
        route: Route::Po,
        schedule,
        phase: "treatment".into(),
        volume_ml_per_kg: Some(10.0),
    }
}

/// An arm.
pub fn arm(name: &str, control: bool, n: u32, treatments: Vec<Treatment>) -> Arm {
    Arm {
        name: name.into(),
        control,
        treatments,
        n,
        interaction: 0.0,
    }
}

/// A PK-bearing agent (oral, t½ 6 h, ka 1/h, V 5 L/kg, F 0.5).
pub fn agent(name: &str, vehicle: bool) -> Agent {
    Agent {
        name: name.into(),
        class: if vehicle {
            "vehicle".into()
        } else {
            "SERD".into()
        },
        vehicle,
        formulation: "0.5% methylcellulose".into(),
        pk: if vehicle {
            None
        } else {
            Some(Pk {
                ka_per_h: s(1.0),
                half_life_h: s(6.0),
                volume_l_per_kg: s(5.0),
                bioavailability: s(0.5),
            })
        },
        weight_loss_pct_per_week: None,
        weight_loss_reference: None,
    }
}

/// The basic protocol's one cohort (TamR-MCF-7 with an E2 pellet removed at randomization,
/// vehicle and one drug arm of 8).
fn basic_cohort(growth: GrowthModel) -> Cohort {
    Cohort {
        name: "TamR-MCF-7".into(),
        model_type: TumorModelType::CellLine,
        line: "TamR-MCF-7".into(),
        implantation: Implantation {
            cells: Some(5e6),
            matrigel_fraction: 0.5,
            volume_ul: 100.0,
            site: "s.c. flank".into(),
            animals: None,
        },
        hormone: Some(HormoneSupport {
            name: "E2 0.72 mg 60-day".into(),
            kind: HormoneKind::Pellet {
                dose_mg: 0.72,
                release_days: 60.0,
                reimplant_every_days: None,
            },
            implant_offset_days: -1,
            removal: PelletRemoval::AtRandomization,
        }),
        growth,
        take_rate: s(0.9),
        latency_days: Param::new(10.0, 0.2, "assumed; test fixture"),
        growth_without_estrogen: s(1.0),
        effects: vec![DrugEffect {
            agent: "drug".into(),
            mode: EffectMode::Direct {
                inhibition: Param::fixed(0.7, "assumed; test fixture"),
                kill_rate_per_day: Param::fixed(0.0, "assumed; test fixture"),
            },
            source: src(),
            specified_as: None,
        }],
        resistant: None,
        arms: vec![
            arm("vehicle", true, 8, vec![treatment("vehicle", 0.0, qd())]),
            arm(
                "drug 10 mg/kg",
                false,
                8,
                vec![treatment("drug", 10.0, qd())],
            ),
        ],
    }
}

/// The basic protocol with the given growth model (see the module docs).
pub fn basic(growth: GrowthModel) -> Protocol {
    let caliper_days = Schedule {
        frequency: Frequency::Weekdays {
            days: vec![Weekday::Monday, Weekday::Thursday],
        },
        start_day: 0,
        end_day: None,
        times: Vec::new(),
    };
    let x = Xenograft {
        animals: Animals {
            species: "mouse".into(),
            strain: "BALB/c nude".into(),
            sex: "female".into(),
            ovariectomized: true,
            age_weeks: Some(6.0),
            body_weight_g: Param::new(20.0, 0.08, "assumed; test fixture"),
            weight_gain_g_per_day: s(0.03),
            weight_noise_cv: s(0.02),
            weight_recovery_pct_per_week: None,
        },
        agents: vec![agent("vehicle", true), agent("drug", false)],
        cohorts: vec![basic_cohort(growth)],
        measurements: vec![
            Measurement {
                name: "calipers".into(),
                kind: MeasurementKind::Caliper,
                schedule: caliper_days.clone(),
                phases: vec!["growth".into(), "treatment".into()],
            },
            Measurement {
                name: "weights".into(),
                kind: MeasurementKind::BodyWeight,
                schedule: caliper_days,
                phases: vec!["treatment".into()],
            },
        ],
        enrollment: Enrollment {
            min_mm3: 150.0,
            max_mm3: 200.0,
            max_wait_days: 60,
            randomization: Randomization::VolumeBalanced,
            mode: EnrollmentMode::SingleDay,
        },
        endpoints: Endpoints {
            max_volume_mm3: Some(s(2000.0)),
            max_diameter_mm: Some(s(20.0)),
            max_weight_loss_pct: Some(s(20.0)),
            event_volume_mm3: 1000.0,
        },
        end_of_study: vec!["harvest".into()],
        caliper: CaliperModel {
            formula: VolumeFormula::HalfLw2,
            error: CaliperError::Diameters { cv: s(0.063) },
            observer_bias: s(0.0),
            detection_floor_mm3: s(20.0),
            width_ratio: Param::new(0.75, 0.1, "assumed; test fixture"),
        },
        analysis: AnalysisPlan {
            tests: vec![TestKey::WelchLog],
            alpha: 0.05,
            adjust: Adjustment::Holm,
            hypotheses: Vec::new(),
            families: Vec::new(),
            analysis_day: None,
            target_power: 0.8,
            blinding: None,
        },
        husbandry: Husbandry {
            per_cage: 5,
            spare_fraction: 0.1,
            drug_overage_fraction: 0.2,
            attrition: s(0.0),
        },
        panel: None,
        dose_modification: None,
        study_stop: None,
    };
    Protocol {
        id: "fixture-xenograft".into(),
        title: "Fixture xenograft".into(),
        description: String::new(),
        references: Vec::new(),
        phases: vec![
            Phase {
                name: "acclimation".into(),
                end: PhaseEnd::Fixed { days: 7 },
                day0: false,
                description: String::new(),
            },
            Phase {
                name: "growth".into(),
                end: PhaseEnd::Until {
                    measurement: "calipers".into(),
                    min: 150.0,
                    max: 200.0,
                    max_wait_days: 60,
                },
                day0: false,
                description: String::new(),
            },
            Phase {
                name: "treatment".into(),
                end: PhaseEnd::Fixed { days: 28 },
                day0: true,
                description: String::new(),
            },
        ],
        steps: Vec::new(),
        calendar: CalendarPolicy::default(),
        body: Body::Xenograft(x),
    }
}

/// Exponential growth with V0 = 30 mm³ (CV 0.3) and r = 0.1/day (CV 0.2).
pub fn exponential() -> GrowthModel {
    GrowthModel::Exponential {
        v0_mm3: Param::new(30.0, 0.3, "assumed; test fixture"),
        rate: Param::new(0.1, 0.2, "assumed; test fixture"),
    }
}

/// Gompertz growth with V0 = 30 mm³, r = 0.025/day, K = 5000 mm³.
pub fn gompertz() -> GrowthModel {
    GrowthModel::Gompertz {
        v0_mm3: Param::new(30.0, 0.3, "assumed; test fixture"),
        rate: Param::new(0.025, 0.2, "assumed; test fixture"),
        capacity_mm3: Param::new(5000.0, 0.2, "assumed; test fixture"),
    }
}

/// The bench P1 design (../shared/bench/P1.md) at `n` per arm: AtBaseline, exponential,
/// V0 ~ LN(ln 175, 0.15), g ~ N(mult·ln2/7, 0.25·ln2/7), log-volume error 0.10, arms with
/// growth multipliers 1, 0.8, 0.6, 0.4, visits Mon/Thu day 0–28 (9 visits), no endpoints.
pub fn p1(n: u32) -> Protocol {
    let g = std::f64::consts::LN_2 / 7.0;
    let cv_v0 = (0.15f64 * 0.15).exp_m1().sqrt();
    let mut p = basic(GrowthModel::Exponential {
        v0_mm3: Param::new(175.0, cv_v0, "bench P1"),
        rate: Param {
            value: g,
            variability: Variability::Normal { sd: 0.25 * g },
            source: "bench P1".into(),
        },
    });
    p.id = "bench-p1".into();
    p.phases.remove(1);
    let Body::Xenograft(x) = &mut p.body else {
        return p;
    };
    x.enrollment.mode = EnrollmentMode::AtBaseline;
    x.caliper.error = CaliperError::LogVolume { sd: s(0.10) };
    x.caliper.detection_floor_mm3 = s(0.0);
    x.caliper.width_ratio = Param::fixed(1.0, "assumed; test fixture");
    x.endpoints = Endpoints {
        max_volume_mm3: None,
        max_diameter_mm: None,
        max_weight_loss_pct: None,
        event_volume_mm3: 1000.0,
    };
    x.measurements.truncate(1);
    x.measurements[0].phases = vec!["treatment".into()];
    let c = &mut x.cohorts[0];
    c.hormone = None;
    c.take_rate = s(1.0);
    x.animals.ovariectomized = false;
    c.effects.clear();
    c.arms = vec![arm(
        "control",
        true,
        n,
        vec![treatment("vehicle", 0.0, qd())],
    )];
    for (i, mult) in [0.8, 0.6, 0.4].into_iter().enumerate() {
        let name = format!("drug{}", i + 1);
        x.agents.push(Agent {
            pk: None,
            ..agent(&name, false)
        });
        c.effects.push(DrugEffect {
            agent: name.clone(),
            mode: EffectMode::Direct {
                inhibition: Param::fixed(1.0 - mult, "bench P1"),
                kill_rate_per_day: Param::fixed(0.0, "bench P1"),
            },
            source: "bench P1".into(),
            specified_as: None,
        });
        c.arms.push(arm(
            &format!("x{mult}"),
            false,
            n,
            // P1 grows the treated arms at their rate from t = 0: dosing at 00:00 switches
            // the direct effect on at randomization.
            vec![treatment(
                &name,
                1.0,
                Schedule {
                    times: vec![jiff::civil::Time::midnight()],
                    ..qd()
                },
            )],
        ));
    }
    p
}

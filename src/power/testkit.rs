//! Protocols built in code for the power tests (the TOML loader lives in `protocol`).

use crate::protocol::*;
use jiff::civil::Weekday;

/// ln 2 / 7: the P1 control growth rate (doubling in 7 days).
pub fn g_ctrl() -> f64 {
    std::f64::consts::LN_2 / 7.0
}

/// P1's agents, effects (treated rate = multiplier × control, as a kill term) and arms
/// (control + one arm per multiplier, 10 animals each).
fn p1_arms(multipliers: &[f64]) -> (Vec<Agent>, Vec<DrugEffect>, Vec<Arm>) {
    let g = g_ctrl();
    let src = "bench P1";
    let mut agents = vec![Agent {
        name: "vehicle".into(),
        class: "vehicle".into(),
        vehicle: true,
        formulation: String::new(),
        pk: None,
        weight_loss_pct_per_week: None,
        weight_loss_reference: None,
    }];
    // P1 grows the treated arms at their rate from t = 0: dosing at 00:00 of day 0 switches
    // the direct effect on at randomization (it acts from the first dose).
    let daily = Schedule {
        frequency: Frequency::Daily { per_day: 1 },
        start_day: 0,
        end_day: None,
        times: vec![jiff::civil::Time::midnight()],
    };
    let treat = |agent: &str| Treatment {
        agent: agent.into(),
        dose: 1.0,
        unit: DoseUnit::MgPerKg,
        route: Route::Po,
        schedule: daily.clone(),
        phase: "treatment".into(),
        volume_ml_per_kg: None,
    };
    let mut arms = vec![Arm {
        name: "control".into(),
        control: true,
        treatments: vec![treat("vehicle")],
        n: 10,
        interaction: 0.0,
    }];
    let mut effects = Vec::new();
    for (i, &m) in multipliers.iter().enumerate() {
        let name = format!("drug{}", i + 1);
        agents.push(Agent {
            name: name.clone(),
            class: "test".into(),
            vehicle: false,
            formulation: String::new(),
            pk: None,
            weight_loss_pct_per_week: None,
            weight_loss_reference: None,
        });
        effects.push(DrugEffect {
            agent: name.clone(),
            mode: EffectMode::Direct {
                inhibition: Param::fixed(0.0, src),
                kill_rate_per_day: Param::fixed((1.0 - m) * g, src),
            },
            source: src.into(),
            specified_as: None,
        });
        arms.push(Arm {
            name: format!("x{m}"),
            control: false,
            treatments: vec![treat(&name)],
            n: 10,
            interaction: 0.0,
        });
    }
    (agents, effects, arms)
}

/// Bench P1 (../shared/bench/P1.md) with the given growth-rate multipliers for the treated
/// arms (control first): V0 log-normal (sdlog 0.15), g ~ N(mult·g_ctrl, 0.25·g_ctrl), caliper
/// ln-error SD 0.10, 9 visits Mon/Thu over 28 days, Welch on ln V at day 28, α = 0.05.
pub fn p1_protocol(multipliers: &[f64]) -> Protocol {
    let g = g_ctrl();
    // cv such that sdlog = 0.15.
    let cv = (0.15_f64.powi(2).exp() - 1.0).sqrt();
    let src = "bench P1";
    let (agents, effects, arms) = p1_arms(multipliers);
    let x = Xenograft {
        animals: Animals {
            species: "mouse".into(),
            strain: "nude".into(),
            sex: "female".into(),
            ovariectomized: false,
            age_weeks: None,
            body_weight_g: Param::fixed(20.0, src),
            weight_gain_g_per_day: Sourced::new(0.0, src),
            weight_noise_cv: Sourced::new(0.0, src),
            weight_recovery_pct_per_week: None,
        },
        agents,
        cohorts: vec![Cohort {
            name: "P1".into(),
            model_type: TumorModelType::CellLine,
            line: "P1".into(),
            implantation: Implantation {
                cells: None,
                matrigel_fraction: 0.0,
                volume_ul: 100.0,
                site: "s.c.".into(),
                animals: None,
            },
            hormone: None,
            growth: GrowthModel::Exponential {
                v0_mm3: Param::new(175.0, cv, src),
                rate: Param {
                    value: g,
                    variability: Variability::Normal { sd: 0.25 * g },
                    source: src.into(),
                },
            },
            take_rate: Sourced::new(1.0, src),
            latency_days: Param::fixed(0.0, src),
            growth_without_estrogen: Sourced::new(1.0, src),
            effects,
            resistant: None,
            arms,
        }],
        measurements: vec![Measurement {
            name: "calipers".into(),
            kind: MeasurementKind::Caliper,
            schedule: Schedule {
                frequency: Frequency::Weekdays {
                    days: vec![Weekday::Monday, Weekday::Thursday],
                },
                start_day: 0,
                end_day: None,
                times: vec![],
            },
            phases: vec!["treatment".into()],
        }],
        enrollment: Enrollment {
            min_mm3: 0.0,
            max_mm3: 1e9,
            max_wait_days: 0,
            randomization: Randomization::Simple,
            mode: EnrollmentMode::AtBaseline,
        },
        endpoints: Endpoints {
            max_volume_mm3: None,
            max_diameter_mm: None,
            max_weight_loss_pct: None,
            event_volume_mm3: 1000.0,
        },
        end_of_study: vec![],
        caliper: CaliperModel {
            formula: VolumeFormula::HalfLw2,
            error: CaliperError::LogVolume {
                sd: Sourced::new(0.10, src),
            },
            observer_bias: Sourced::new(0.0, src),
            detection_floor_mm3: Sourced::new(0.0, src),
            width_ratio: Param::fixed(0.7, src),
        },
        analysis: AnalysisPlan {
            tests: vec![TestKey::WelchLog],
            alpha: 0.05,
            adjust: Adjustment::None,
            hypotheses: Vec::new(),
            families: Vec::new(),
            analysis_day: Some(28.0),
            target_power: 0.8,
            blinding: None,
        },
        husbandry: Husbandry {
            per_cage: 5,
            spare_fraction: 0.1,
            drug_overage_fraction: 0.2,
            attrition: Sourced::new(0.0, src),
        },
        panel: None,
        dose_modification: None,
        study_stop: None,
    };
    Protocol {
        id: "p1-power".into(),
        title: "Bench P1".into(),
        description: String::new(),
        references: vec![],
        phases: vec![Phase {
            name: "treatment".into(),
            end: PhaseEnd::Fixed { days: 28 },
            day0: true,
            description: String::new(),
        }],
        steps: vec![],
        calendar: CalendarPolicy::default(),
        body: Body::Xenograft(x),
    }
}

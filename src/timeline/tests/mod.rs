//! Unit tests of the whole expansion on protocols built in Rust.

use super::*;
use crate::protocol::*;
use jiff::civil::{Time, Weekday, date};

fn s(v: f64) -> Sourced {
    Sourced::new(v, "assumed; test")
}

fn p(v: f64) -> Param {
    Param::fixed(v, "assumed; test")
}

fn sched(frequency: Frequency, start: u32, end: Option<u32>, times: Vec<Time>) -> Schedule {
    Schedule {
        frequency,
        start_day: start,
        end_day: end,
        times,
    }
}

fn treat(agent: &str, dose: f64, freq: Frequency, times: Vec<Time>) -> Treatment {
    Treatment {
        agent: agent.into(),
        dose,
        unit: DoseUnit::MgPerKg,
        route: Route::Po,
        schedule: sched(freq, 0, None, times),
        phase: "treatment".into(),
        volume_ml_per_kg: Some(10.0),
    }
}

fn arm(name: &str, control: bool, n: u32, t: Vec<Treatment>) -> Arm {
    Arm {
        name: name.into(),
        control,
        treatments: t,
        n,
        interaction: 0.0,
    }
}

fn agent(name: &str, vehicle: bool) -> Agent {
    Agent {
        name: name.into(),
        class: if vehicle { "vehicle" } else { "SERD" }.into(),
        vehicle,
        formulation: "0.5% methylcellulose".into(),
        pk: None,
        weight_loss_pct_per_week: None,
        weight_loss_reference: None,
    }
}

/// A small TamR-like study: one cohort, vehicle QD and a BID drug, calipers Mon/Thu, a
/// conditional growth phase.
pub(super) fn tamr() -> Protocol {
    let cohort = Cohort {
        name: "TamR-MCF-7".into(),
        model_type: TumorModelType::CellLine,
        line: "TamR-MCF-7".into(),
        implantation: Implantation {
            cells: Some(5e6),
            matrigel_fraction: 0.5,
            volume_ul: 100.0,
            site: "s.c. right flank".into(),
            animals: None,
        },
        hormone: Some(HormoneSupport {
            name: "17b-estradiol 0.72 mg 60-day pellet".into(),
            kind: HormoneKind::Pellet {
                dose_mg: 0.72,
                release_days: 60.0,
                reimplant_every_days: None,
            },
            implant_offset_days: -1,
            removal: PelletRemoval::AtRandomization,
        }),
        growth: GrowthModel::Exponential {
            v0_mm3: p(20.0),
            rate: p(0.05),
        },
        take_rate: s(0.9),
        latency_days: p(21.0),
        growth_without_estrogen: s(1.0),
        effects: vec![],
        resistant: None,
        arms: vec![
            arm(
                "vehicle",
                true,
                8,
                vec![treat(
                    "vehicle",
                    0.0,
                    Frequency::Daily { per_day: 1 },
                    vec![],
                )],
            ),
            arm(
                "drug BID",
                false,
                8,
                vec![treat(
                    "drug",
                    25.0,
                    Frequency::Daily { per_day: 2 },
                    vec![Time::constant(8, 0, 0, 0), Time::constant(18, 0, 0, 0)],
                )],
            ),
            arm(
                "fulvestrant",
                false,
                8,
                vec![Treatment {
                    unit: DoseUnit::MgPerAnimal,
                    route: Route::Im,
                    volume_ml_per_kg: None,
                    ..treat("fulvestrant", 5.0, Frequency::EveryNDays { n: 7 }, vec![])
                }],
            ),
        ],
    };
    let x = Xenograft {
        animals: Animals {
            species: "mouse".into(),
            strain: "BALB/c nude".into(),
            sex: "female".into(),
            ovariectomized: true,
            age_weeks: Some(6.0),
            body_weight_g: p(20.0),
            weight_gain_g_per_day: s(0.05),
            weight_noise_cv: s(0.02),
            weight_recovery_pct_per_week: None,
        },
        agents: vec![
            agent("vehicle", true),
            agent("drug", false),
            agent("fulvestrant", false),
        ],
        cohorts: vec![cohort],
        measurements: vec![
            Measurement {
                name: "calipers".into(),
                kind: MeasurementKind::Caliper,
                schedule: sched(
                    Frequency::Weekdays {
                        days: vec![Weekday::Monday, Weekday::Thursday],
                    },
                    0,
                    None,
                    vec![],
                ),
                phases: vec!["growth".into(), "treatment".into()],
            },
            Measurement {
                name: "body weight".into(),
                kind: MeasurementKind::BodyWeight,
                schedule: sched(Frequency::EveryNDays { n: 3 }, 0, None, vec![]),
                phases: vec!["treatment".into()],
            },
        ],
        enrollment: Enrollment {
            min_mm3: 150.0,
            max_mm3: 200.0,
            max_wait_days: 70,
            randomization: Randomization::VolumeBalanced,
            mode: EnrollmentMode::SingleDay,
        },
        endpoints: Endpoints {
            max_volume_mm3: None,
            max_diameter_mm: None,
            max_weight_loss_pct: None,
            event_volume_mm3: 1000.0,
        },
        end_of_study: vec!["tumors excised: Western blot (ERa), IHC (Ki-67)".into()],
        caliper: CaliperModel {
            formula: VolumeFormula::HalfLw2,
            error: CaliperError::Diameters { cv: s(0.07) },
            observer_bias: s(0.0),
            detection_floor_mm3: s(20.0),
            width_ratio: p(0.8),
        },
        analysis: AnalysisPlan {
            tests: vec![],
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
            attrition: s(0.05),
        },
        panel: None,
        dose_modification: None,
        study_stop: None,
    };
    Protocol {
        id: "tamr-test".into(),
        title: "TamR test".into(),
        description: String::new(),
        references: vec![],
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
                    max_wait_days: 70,
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
        steps: vec![
            Step {
                name: "arrival".into(),
                kind: EventKind::Arrival,
                phase: "acclimation".into(),
                schedule: Schedule::once(0),
                scope: Scope::All,
                details: "quarantine".into(),
            },
            Step {
                name: "tumor implantation".into(),
                kind: EventKind::Implantation,
                phase: "growth".into(),
                schedule: Schedule::once(0),
                scope: Scope::All,
                details: String::new(),
            },
        ],
        calendar: CalendarPolicy::default(),
        body: Body::Xenograft(x),
    }
}

fn estimates() -> Estimates {
    let mut e = Estimates::default();
    e.insert(
        "growth",
        "TamR-MCF-7",
        ConditionEstimate {
            median_day: 35.0,
            p05: 30.0,
            p95: 42.0,
            n_sims: 200,
            n_failed: 0,
        },
    );
    e
}

fn options(policy: WeekendPolicy) -> Options {
    Options {
        calendar: Calendar::new(date(2027, 1, 4), policy, &[]),
        animals: Vec::new(),
    }
}

#[test]
fn conditional_phase_placed_at_median_with_range() {
    let tl = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    // acclimation 7 days, growth median 35 → randomization on day 42 = 2027-02-15.
    let r = tl
        .events
        .iter()
        .find(|e| e.kind == EventKind::Randomization)
        .unwrap();
    assert_eq!(r.date, date(2027, 2, 15));
    assert_eq!(r.study_day, 0);
    // Range: 30..42 days after 2027-01-11 → 2027-02-10..2027-02-22.
    assert!(
        r.details.contains("2027-02-10..2027-02-22"),
        "{}",
        r.details
    );
    let span = tl.spans.iter().find(|s| s.label == "growth").unwrap();
    assert_eq!(span.uncertain, Some((37, 49)));
    // Arrival is study day −42; no uncertainty before the conditional end.
    let a = tl
        .events
        .iter()
        .find(|e| e.kind == EventKind::Arrival)
        .unwrap();
    assert_eq!(a.study_day, -42);
    assert!(!a.details.contains("5-95"));
    assert!(
        expand(
            &tamr(),
            &options(WeekendPolicy::Allow),
            &Estimates::default()
        )
        .is_err()
    );
}

#[test]
fn bid_arm_gets_56_doses_per_animal_over_28_days() {
    let tl = expand(
        &tamr(),
        &options(WeekendPolicy::ShiftToNextWorkingDay),
        &estimates(),
    )
    .unwrap();
    let bid: Vec<_> = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Dosing && e.arm.as_deref() == Some("drug BID"))
        .collect();
    assert_eq!(bid.len(), 56);
    // 8 evaluable per arm with 5% attrition: ⌈8 / 0.95⌉ = 9 randomized and dosed.
    assert!(bid.iter().all(|e| e.animals == Some(9) && e.time.is_some()));
    // Weekends keep their doses (flagged), daily dosing stays daily.
    assert!(
        bid.iter()
            .filter(|e| e.flag == Some(DayFlag::Weekend))
            .count()
            == 16
    );
    let fulv: Vec<_> = tl
        .events
        .iter()
        .filter(|e| e.arm.as_deref() == Some("fulvestrant"))
        .collect();
    assert_eq!(fulv.len(), 4);
    assert!(fulv.iter().all(|e| e.flag.is_none()));
}

#[test]
fn weekend_shift_moves_sparse_events_only() {
    let tl = expand(
        &tamr(),
        &options(WeekendPolicy::ShiftToNextWorkingDay),
        &estimates(),
    )
    .unwrap();
    let cal = &tl.calendar;
    for e in &tl.events {
        if !matches!(e.kind, EventKind::Dosing) {
            assert!(
                cal.is_working(e.day),
                "{} on {} ({:?})",
                e.label,
                e.date,
                e.kind
            );
        }
    }
    // Body weight every 3 days keeps ≥ 3 days spacing.
    let bw: Vec<i64> = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::BodyWeight)
        .map(|e| e.day)
        .collect();
    assert!(bw.windows(2).all(|w| w[1] - w[0] >= 3), "{bw:?}");
    // Under keep-and-flag the same body weights are every 3 days exactly, some flagged.
    let tl2 = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    let bw2: Vec<&Event> = tl2
        .events
        .iter()
        .filter(|e| e.kind == EventKind::BodyWeight)
        .collect();
    assert!(bw2.windows(2).all(|w| w[1].day - w[0].day == 3));
    assert!(bw2.iter().any(|e| e.flag.is_some()));
}

#[test]
fn resources_by_hand() {
    let pr = tamr();
    let opts = Options {
        animals: crate::sim::animals::protocol_plans(&pr, Some(0.8)),
        ..options(WeekendPolicy::Allow)
    };
    let tl = expand(&pr, &opts, &estimates()).unwrap();
    let rows = resources(&pr, &tl);
    let get = |item: &str| {
        rows.iter()
            .find(|r| r.item == item)
            .unwrap_or_else(|| panic!("{item} missing: {rows:?}"))
            .quantity
            .clone()
    };
    // 3 arms × ⌈8 / 0.95⌉ = 27 randomized / (0.9 × 0.8) = 37.5 → 38; × 1.1 = 41.8 → 42
    // ordered and implanted (spares included).
    assert_eq!(get("mice to order · TamR-MCF-7"), "42");
    assert_eq!(get("cages before randomization · TamR-MCF-7"), "9");
    assert_eq!(get("cages after randomization · TamR-MCF-7"), "6");
    // Pellet implanted day 6 (implantation day 7 − 1), removed day 42: 36 days < 60 → 1 each.
    assert_eq!(get("hormone pellets · TamR-MCF-7"), "42");
    // 42 × 100 µL × 0.5 × 1.2 = 2.52 mL.
    assert_eq!(get("Matrigel · TamR-MCF-7"), "2.52");
    // BID drug: Σ_{d=0}^{27} 2 × 25 mg/kg × (20 + 0.05 d) g × 9 randomized animals × 1.2.
    let mg: f64 = (0..28)
        .map(|d| 2.0 * 25.0 * (20.0 + 0.05 * d as f64) / 1000.0 * 9.0)
        .sum::<f64>()
        * 1.2;
    assert_eq!(get("drug (drug)"), format!("{mg:.1}"));
    // Fulvestrant 5 mg/animal on days 0, 7, 14, 21 × 9 animals × 1.2 = 216 mg.
    assert_eq!(get("fulvestrant (drug)"), "216.0");
    // Vehicle: 28 doses × 10 mL/kg × (20 + 0.05 d) g × 9.
    let ml: f64 = (0..28)
        .map(|d| 10.0 * (20.0 + 0.05 * d as f64) / 1000.0 * 9.0)
        .sum::<f64>()
        * 1.2;
    assert_eq!(get("dosing solution · vehicle"), format!("{ml:.1}"));
    // Calipers Mon/Thu from 2027-01-11 to 2027-03-14 (growth + treatment).
    let cal_sessions = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Caliper)
        .count();
    assert_eq!(get("caliper sessions"), cal_sessions.to_string());
    assert_eq!(cal_sessions, 18);
}

#[test]
fn workload_and_peaks() {
    let tl = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    let w = workload(&tl);
    let day0 = w.iter().find(|d| d.day == 42).unwrap();
    // 27 randomized (3 arms × ⌈8 / 0.95⌉): randomization, pellet removal, calipers, body
    // weight 27 each; vehicle 9, BID 2 × 9, fulvestrant 9.
    assert_eq!(day0.procedures, 27 * 4 + 9 + 18 + 9);
    assert_eq!(day0.animals, 27);
    assert!(day0.peak);
    assert!(w.iter().any(|d| !d.peak));
}

#[test]
fn markdown_has_weekly_tables_and_peaks() {
    let tl = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    let md = markdown(&tl);
    assert!(md.contains("## Week 2027-W01"));
    assert!(md.contains("## Week 2027-W07"));
    assert!(md.contains("**PEAK**"));
    assert!(md.contains("⚠ weekend"));
}

#[test]
fn ics_is_rfc5545_and_parses_back() {
    let tl = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    let stamp: jiff::Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
    let text = ics(&tl, stamp);
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{line}");
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    let unfolded = text.replace("\r\n ", "");
    let n = tl.events.len();
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), n);
    assert_eq!(unfolded.matches("DTSTAMP:20270101T000000Z").count(), n);
    let uids: std::collections::BTreeSet<&str> =
        unfolded.lines().filter(|l| l.starts_with("UID:")).collect();
    assert_eq!(uids.len(), n);
    assert!(unfolded.contains("DTSTART:20270215T080000"));
    assert!(unfolded.contains("DTSTART;VALUE=DATE:20270104"));
    // Independent parser.
    let parsed: icalendar::Calendar = text.parse().unwrap();
    use icalendar::Component;
    let events: Vec<_> = parsed
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .collect();
    assert_eq!(events.len(), n);
    let first = events[0];
    assert_eq!(first.get_summary(), Some("arrival"));
    assert!(first.get_description().unwrap_or("").contains("quarantine"));
    assert!(matches!(
        first.get_start(),
        Some(icalendar::DatePerhapsTime::Date(_))
    ));
    let timed = events
        .iter()
        .filter(|e| matches!(e.get_start(), Some(icalendar::DatePerhapsTime::DateTime(_))))
        .count();
    // Every dosing event carries the clock time the PK model doses at (model::schedule).
    let dosing = tl
        .events
        .iter()
        .filter(|e| e.kind == crate::protocol::EventKind::Dosing)
        .count();
    assert!(dosing > 56);
    assert_eq!(timed, dosing);
    assert!(first.get_uid().is_some());
}

#[test]
fn gantt_renders() {
    let tl = expand(&tamr(), &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    let g = Gantt::new(&tl);
    let dir = std::env::temp_dir().join(format!("xenoplan-gantt-{}", std::process::id()));
    let files = crate::plot::save(&g, &dir.join("gantt"), g.size()).unwrap();
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert!(svg.contains("growth") && svg.contains("calipers"));
    std::fs::remove_dir_all(&dir).ok();
}

fn derivation() -> Protocol {
    let d = Derivation {
        parental_line: "MCF-7aro".into(),
        derived_line: "Res-Ana".into(),
        culture: Culture {
            medium: "phenol red-free IMEM".into(),
            serum: "10% CS-FBS".into(),
            substrate: Some("testosterone".into()),
            substrate_nm: Some(10.0),
            vessel: "T75".into(),
            medium_ml: 12.0,
            seeding_cells: 1e6,
            confluent_cells: 8e6,
            passage_at_confluence: 0.8,
            split_ratio: 4.0,
            medium_change_days: 3,
        },
        drug: "anastrozole".into(),
        start_concentration_nm: s(100.0),
        escalation: vec![
            EscalationStep {
                concentration_nm: 300.0,
                trigger: EscalationTrigger::Day(60),
            },
            EscalationStep {
                concentration_nm: 1000.0,
                trigger: EscalationTrigger::GrowthRecovered { doubling_h: 60.0 },
            },
        ],
        duration_days: 240,
        cloning: Some(Cloning {
            clones: 12,
            expansion_days: 28,
        }),
        validation: Some(AssayDesign {
            drug: "anastrozole".into(),
            doses_nm: vec![0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0],
            replicates: 3,
            duration_days: 6.0,
            seeding_cells: 3000.0,
            plate_wells: 96,
            readout: Readout::Mtt,
            noise_cv: s(0.1),
            edge_effect: 0.1,
            layout: PlateLayout {
                edges: EdgeWells::Pbs,
                ..PlateLayout::default()
            },
        }),
        checks: None,
        split: None,
        expected_time_to_resistance: None,
        model: DerivationModel {
            doubling_h_with_e2: s(33.0),
            doubling_h_without_e2: s(55.0),
            death_rate_per_day: s(0.01),
            ic50_sensitive_nm: s(100.0),
            ic50_resistant_nm: s(5000.0),
            hill: s(1.0),
            resistant_fraction: s(1e-4),
            switch_rate_per_division: s(1e-6),
            intermediate_ic50_factor: None,
            fitness_off_drug: None,
            reversion_rate_per_division: None,
        },
    };
    Protocol {
        id: "deriv".into(),
        title: "Derivation".into(),
        description: String::new(),
        references: vec![],
        phases: vec![],
        steps: vec![],
        calendar: CalendarPolicy::default(),
        body: Body::Derivation(d),
    }
}

#[test]
fn derivation_spans_months_with_passages_escalation_cloning_validation() {
    let pr = derivation();
    let tl = expand(
        &pr,
        &options(WeekendPolicy::ShiftToNextWorkingDay),
        &Estimates::default(),
    )
    .unwrap();
    let count = |k: EventKind| tl.events.iter().filter(|e| e.kind == k).count();
    assert!(
        count(EventKind::Passage) > 40,
        "{}",
        count(EventKind::Passage)
    );
    assert!(count(EventKind::MediumChange) > 10);
    assert_eq!(count(EventKind::Cloning), 2);
    assert_eq!(count(EventKind::Assay), 3);
    let esc: Vec<_> = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::DoseEscalation)
        .collect();
    assert!(!esc.is_empty());
    assert_eq!(esc[0].day, 60); // day 60 = 2027-03-05, a Friday
    assert!(tl.events.iter().all(|e| tl.calendar.is_working(e.day)));
    assert!(tl.last_day() > 240 + 28);
    let rows = resources(&pr, &tl);
    // 13 lines (parental + 12 clones) × 6 doses × 3 = 234 wells / 60 inner → 4 plates, plus
    // ⌈12 / (96 × 0.1516)⌉ = 1 cloning plate.
    let plates = rows.iter().find(|r| r.item.starts_with("plates")).unwrap();
    assert_eq!(plates.quantity, "5");
}

#[test]
fn quantiles_type7() {
    let v: Vec<Option<f64>> = (1..=10).map(|x| Some(x as f64)).chain([None]).collect();
    let e = ConditionEstimate::from_samples("g", &v).unwrap();
    // R: quantile(1:10, c(.05,.5,.95)) = 1.45 5.5 9.55
    assert!(
        (e.p05 - 1.45).abs() < 1e-12
            && (e.median_day - 5.5).abs() < 1e-12
            && (e.p95 - 9.55).abs() < 1e-12
    );
    assert_eq!(e.n_failed, 1);
    assert!(ConditionEstimate::from_samples("g", &[None, None]).is_err());
}

#[test]
fn two_cohorts_enroll_on_their_own_days_and_animals_are_not_double_counted() {
    let mut pr = tamr();
    let Body::Xenograft(x) = &mut pr.body else {
        unreachable!()
    };
    let mut c2 = x.cohorts[0].clone();
    c2.name = "MCF-7".into();
    x.cohorts.push(c2);
    let mut est = estimates();
    let mut e2 = *est.get("growth", "TamR-MCF-7").unwrap();
    e2.median_day = 28.0;
    est.insert("growth", "MCF-7", e2);
    let opts = Options {
        animals: crate::sim::animals::protocol_plans(&pr, Some(0.8)),
        ..options(WeekendPolicy::KeepAndFlag)
    };
    let tl = expand(&pr, &opts, &est).unwrap();
    let rand: Vec<&Event> = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Randomization)
        .collect();
    assert_eq!(rand.len(), 2);
    assert_eq!(rand[0].cohort.as_deref(), Some("MCF-7"));
    assert_eq!(rand[0].day, 7 + 28);
    assert_eq!(rand[1].day, 7 + 35);
    // Implantation day 7: one implantation event per cohort (42 each, as resources_by_hand)
    // plus calipers per cohort; the same mice are handled → 84 animals, not 168.
    let w = workload(&tl);
    let d7 = w.iter().find(|d| d.day == 7).unwrap();
    assert_eq!(d7.animals, 84);
    assert_eq!(d7.procedures, 42 * 4);
}

/// The `.ics` tells the lab the clock times the PK model doses at: for QD to QID without
/// explicit times, the timeline's dosing occurrences on a day equal the simulator's dose
/// events of that day (both read model::schedule).
#[test]
fn timeline_dose_times_equal_the_simulators() {
    use crate::protocol::*;
    for per_day in 1..=4u8 {
        let mut p = crate::power::testkit::p1_protocol(&[0.5]);
        let Body::Xenograft(x) = &mut p.body else {
            unreachable!()
        };
        x.agents[1].pk = Some(Pk {
            ka_per_h: Sourced::new(1.0, "test"),
            half_life_h: Sourced::new(4.0, "test"),
            volume_l_per_kg: Sourced::new(1.0, "test"),
            bioavailability: Sourced::new(0.5, "test"),
        });
        x.cohorts[0].effects[0].mode = EffectMode::Exposure {
            emax: Param::fixed(0.8, "test"),
            ec50_ng_ml: Param::fixed(100.0, "test"),
            hill: 1.0,
            target: EffectTarget::Growth,
        };
        let sched = Schedule {
            frequency: Frequency::Daily { per_day },
            start_day: 0,
            end_day: None,
            times: vec![],
        };
        x.cohorts[0].arms[1].treatments[0].schedule = sched.clone();
        let opts = crate::sim::SimOptions::default();
        let engine = crate::sim::Engine::new(&p, &opts).unwrap();
        // Study day 0 on the default Monday start: the simulator's weekday-0 event list.
        let sim_times: Vec<f64> = engine.plan.cohorts[0].arms[1].events[0]
            .iter()
            .filter(|e| e.t < 1.0 && matches!(e.kind, crate::sim::plan::EvKind::Dose(_)))
            .map(|e| e.t)
            .collect();
        let cal = Calendar::new(opts.start, WeekendPolicy::Allow, &[]);
        let occ = super::schedule::dose_occurrences(&cal, &sched, 0, 28, &mut 0);
        let tl_times: Vec<f64> = occ
            .iter()
            .filter(|o| o.day == 0)
            .map(|o| crate::model::schedule::day_fraction(o.time.expect("dosing is timed")))
            .collect();
        assert_eq!(sim_times.len(), usize::from(per_day));
        for (a, b) in sim_times.iter().zip(&tl_times) {
            assert!(
                (a - b).abs() < 1e-12,
                "per day {per_day}: {sim_times:?} vs {tl_times:?}"
            );
        }
        assert_eq!(sim_times.len(), tl_times.len());
    }
}

/// The derivation's repeated IC50 checks (`[validation] check-every-days`) add their plates,
/// medium, drug and PBS to `resources.csv`, counted through the plate layout: the bundled
/// TamR derivation checks on days 28…168 of selection, and the day-168 check is the final
/// validation (counted once), so 5 checks × 3 plates are added to the validation's 3.
#[test]
fn ic50_checks_add_their_plates_and_medium_to_resources() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("protocols/tamoxifen_resistant_mcf7_derivation.toml");
    let with = crate::protocol::load(&path).unwrap().protocol;
    let mut without = with.clone();
    let Body::Derivation(d) = &mut without.body else {
        panic!("derivation")
    };
    assert!(
        d.checks.take().is_some(),
        "the bundled derivation has checks"
    );
    let opts = options(WeekendPolicy::KeepAndFlag);
    let qty = |p: &Protocol, prefix: &str| -> f64 {
        let tl = expand(p, &opts, &Estimates::default()).unwrap();
        let rows = resources(p, &tl);
        let r = rows.iter().find(|r| r.item.starts_with(prefix)).unwrap();
        r.quantity.parse().unwrap()
    };
    let Body::Derivation(dw) = &with.body else {
        panic!("derivation")
    };
    let v = dw.validation.as_ref().unwrap();
    let per_check = crate::protocol::plate_layout::plan(v, 2).unwrap().plates;
    assert_eq!(per_check, 3);
    let plates = "plates (96-well";
    assert_eq!(qty(&without, plates), 3.0);
    assert_eq!(qty(&with, plates), 3.0 + 5.0 * f64::from(per_check));
    assert!(qty(&with, "culture medium") > qty(&without, "culture medium"));
    assert!(qty(&with, "PBS") > qty(&without, "PBS"));
    assert!(qty(&with, "4-hydroxytamoxifen (drug)") > qty(&without, "4-hydroxytamoxifen (drug)"));
}

fn xeno(p: &mut Protocol) -> &mut Xenograft {
    match &mut p.body {
        Body::Xenograft(x) => x,
        _ => unreachable!(),
    }
}

/// Issue 17: an arm that changes dose (two treatments of one agent) is ordered as the sum over
/// its dated administrations — each at its own dose, per kg × that day's body weight or flat
/// per mouse — computed here independently of the expansion; the text names each rule.
#[test]
fn dose_change_amounts_are_summed_over_the_dated_administrations() {
    let mut pr = tamr();
    let x = xeno(&mut pr);
    // "drug BID" becomes flat 10 µg/mouse QD on study days 0–13, then 2.5 mg/kg BID 14–27.
    x.cohorts[0].arms[1].treatments = vec![
        Treatment {
            unit: DoseUnit::UgPerAnimal,
            ..treat("drug", 10.0, Frequency::Daily { per_day: 1 }, vec![])
        },
        treat("drug", 2.5, Frequency::Daily { per_day: 2 }, vec![]),
    ];
    x.cohorts[0].arms[1].treatments[0].schedule.end_day = Some(13);
    x.cohorts[0].arms[1].treatments[1].schedule.start_day = 14;
    let opts = Options {
        animals: crate::sim::animals::protocol_plans(&pr, Some(0.8)),
        ..options(WeekendPolicy::KeepAndFlag)
    };
    let tl = expand(&pr, &opts, &estimates()).unwrap();
    let rows = resources(&pr, &tl);
    let row = |item: &str| {
        rows.iter()
            .find(|r| r.item == item)
            .unwrap_or_else(|| panic!("{item} missing: {rows:?}"))
            .clone()
    };
    // Independently: 9 randomized animals (⌈8 / 0.95⌉), body weight 20 + 0.05·d g.
    let bw = |d: u32| 20.0 + 0.05 * f64::from(d);
    let flat_mg: f64 = (0..14).map(|_| 0.010 * 9.0).sum();
    let per_kg_mg: f64 = (14..28).map(|d| 2.0 * 2.5 * bw(d) / 1000.0 * 9.0).sum();
    let drug = row("drug (drug)");
    assert_eq!(drug.quantity, format!("{:.1}", (flat_mg + per_kg_mg) * 1.2));
    // The first entry's dose for every administration (the bug) orders far less.
    let first_dose_only = (14.0 + 28.0) * 0.010 * 9.0 * 1.2;
    assert_ne!(drug.quantity, format!("{first_dose_only:.1}"));
    assert!(
        drug.details
            .contains("126 x 10 ug per mouse (flat dose, not scaled by body weight)")
            && drug
                .details
                .contains("252 x 2.5 mg/kg x body weight on the day (20 g at day 0 + 0.05 g/day)")
            && drug.details.contains("overage 20%"),
        "{}",
        drug.details
    );
    // A flat per-mouse dose is never explained as dose × body weight.
    let fulv = row("fulvestrant (drug)");
    assert!(
        fulv.details.contains("per mouse (flat dose") && !fulv.details.contains("x body weight"),
        "{}",
        fulv.details
    );
    // Dosing solution of the arm: 10 mL/kg at every administration, QD then BID.
    let ml: f64 = (0..14).map(|d| 10.0 * bw(d) / 1000.0 * 9.0).sum::<f64>()
        + (14..28)
            .map(|d| 2.0 * 10.0 * bw(d) / 1000.0 * 9.0)
            .sum::<f64>();
    assert_eq!(
        row("dosing solution · drug").quantity,
        format!("{:.1}", ml * 1.2)
    );
    // The dose records are the dosing events: one list.
    let events: u32 = tl
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Dosing && e.arm.as_deref() == Some("drug BID"))
        .filter_map(|e| e.animals)
        .sum();
    let records: u32 = tl
        .doses
        .iter()
        .filter(|d| d.arm == "drug BID")
        .map(|d| d.animals)
        .sum();
    assert_eq!(events, records);
    assert_eq!(records, (14 + 28) * 9);
}

/// A 5on2off BID cycle counts from the first dose: for a phase starting on any weekday the
/// simulator's dose events and the timeline's dosing occurrences are days 0–4, 7–11, … at the
/// same two clock times (both read model::schedule).
#[test]
fn dosing_cycles_count_from_the_first_dose_in_the_simulator_and_the_timeline() {
    let mut p = crate::power::testkit::p1_protocol(&[0.5]);
    let x = xeno(&mut p);
    x.agents[1].pk = Some(Pk {
        ka_per_h: Sourced::new(1.0, "test"),
        half_life_h: Sourced::new(4.0, "test"),
        volume_l_per_kg: Sourced::new(1.0, "test"),
        bioavailability: Sourced::new(0.5, "test"),
    });
    x.cohorts[0].effects[0].mode = EffectMode::Exposure {
        emax: Param::fixed(0.8, "test"),
        ec50_ng_ml: Param::fixed(100.0, "test"),
        hill: 1.0,
        target: EffectTarget::Growth,
    };
    let cycle = Schedule {
        frequency: Frequency::Cycle {
            on: 5,
            off: 2,
            per_day: 2,
        },
        start_day: 0,
        end_day: None,
        times: vec![],
    };
    x.cohorts[0].arms[1].treatments[0].schedule = cycle.clone();
    let opts = crate::sim::SimOptions::default();
    let engine = crate::sim::Engine::new(&p, &opts).unwrap();
    let len = engine.horizon_days();
    let want: Vec<u32> = (0..len).filter(|d| d % 7 < 5).collect();
    let cal = Calendar::new(opts.start, WeekendPolicy::ShiftToNextWorkingDay, &[]);
    for wd0 in 0..7usize {
        // The simulator: dose events for a study day 0 on weekday `wd0`.
        let sim: Vec<f64> = engine.plan.cohorts[0].arms[1].events[wd0]
            .iter()
            .filter(|e| matches!(e.kind, crate::sim::plan::EvKind::Dose(_)))
            .map(|e| e.t)
            .collect();
        let mut sim_days: Vec<u32> = sim.iter().map(|t| t.floor() as u32).collect();
        sim_days.dedup();
        assert_eq!(sim_days, want, "simulator, study day 0 on weekday {wd0}");
        assert_eq!(sim.len(), 2 * want.len());
        // The timeline: a phase starting on that weekday (the calendar starts on a Monday);
        // a cycle never moves, even under `shift`.
        let occ =
            super::schedule::dose_occurrences(&cal, &cycle, wd0 as i64, i64::from(len), &mut 0);
        let tl: Vec<f64> = occ
            .iter()
            .map(|o| {
                (o.day - wd0 as i64) as f64
                    + crate::model::schedule::day_fraction(o.time.expect("timed"))
            })
            .collect();
        assert_eq!(tl.len(), sim.len(), "timeline, weekday {wd0}");
        for (a, b) in sim.iter().zip(&tl) {
            assert!((a - b).abs() < 1e-12, "weekday {wd0}: {sim:?} vs {tl:?}");
        }
        // Over the first 21 days: 15 dosing days, 30 doses.
        assert_eq!(sim.iter().filter(|&&t| t < 21.0).count(), 30);
    }
}

/// The hormone supply kinds, dated from their one owner and counted by resources: a pellet
/// re-implanted every 20 days (20-day release) until randomization, daily injections stopped
/// on study day 14, and supplemented drinking water changed weekly to the end — each total
/// computed here from the layout (implantation day 7, randomization day 42, end day 70; 42
/// implanted, 27 randomized).
#[test]
fn hormone_supply_kinds_are_dated_and_counted() {
    let supplies = [
        (
            HormoneKind::Pellet {
                dose_mg: 0.5,
                release_days: 20.0,
                reimplant_every_days: Some(20),
            },
            -1,
            PelletRemoval::AtRandomization,
        ),
        (
            HormoneKind::Injection {
                dose_mg: 0.1,
                route: Route::Sc,
                schedule: sched(Frequency::Daily { per_day: 1 }, 0, None, vec![]),
            },
            0,
            PelletRemoval::OnStudyDay(14),
        ),
        (
            HormoneKind::DrinkingWater {
                concentration_ug_per_ml: 2.0,
                intake_ml_per_day: Sourced::new(5.0, "assumed; test"),
                change_every_days: 7,
            },
            -1,
            PelletRemoval::Never,
        ),
    ];
    for (kind, offset, removal) in supplies {
        let mut pr = tamr();
        xeno(&mut pr).cohorts[0].hormone = Some(HormoneSupport {
            name: "hormone".into(),
            kind: kind.clone(),
            implant_offset_days: offset,
            removal,
        });
        let opts = Options {
            animals: crate::sim::animals::protocol_plans(&pr, Some(0.8)),
            ..options(WeekendPolicy::KeepAndFlag)
        };
        let tl = expand(&pr, &opts, &estimates()).unwrap();
        let rows = resources(&pr, &tl);
        let qty = |item: &str| -> String {
            rows.iter()
                .find(|r| r.item == item)
                .unwrap_or_else(|| panic!("{item} missing: {rows:?}"))
                .quantity
                .clone()
        };
        let on = |d: i64| if d < 42 { 42u32 } else { 27 };
        let days_of = |k: EventKind, label: &str| -> Vec<i64> {
            tl.events
                .iter()
                .filter(|e| e.kind == k && e.label.starts_with(label))
                .map(|e| e.day)
                .collect()
        };
        match kind {
            HormoneKind::Pellet { .. } => {
                // Day 6 (the cells on day 7, −1), re-implant day 26; the next (46) is after
                // the removal on day 42.
                assert_eq!(
                    days_of(EventKind::PelletImplant, "hormone pellet"),
                    vec![6, 26]
                );
                assert_eq!(
                    days_of(EventKind::PelletRemoval, "hormone pellet"),
                    vec![42]
                );
                assert_eq!(
                    qty("hormone pellets · TamR-MCF-7"),
                    (on(6) + on(26)).to_string()
                );
            }
            HormoneKind::Injection { .. } => {
                // Daily from day 7 to study day 13 (day 55), at the default 10:00.
                let days = days_of(EventKind::HormoneSupply, "hormone injection");
                assert_eq!(days, (7..56).collect::<Vec<i64>>());
                let n: u32 = (7..56).map(on).sum();
                assert_eq!(qty("hormone injections · TamR-MCF-7"), n.to_string());
                assert_eq!(
                    qty("hormone (hormone) · TamR-MCF-7"),
                    format!("{:.1}", f64::from(n) * 0.1 * 1.2)
                );
            }
            HormoneKind::DrinkingWater { .. } => {
                // Bottles on days 6, 13, …, 69, each for 7 days (the last to day 70).
                let changes: Vec<i64> = (6..70).step_by(7).collect();
                assert_eq!(
                    days_of(EventKind::HormoneSupply, "hormone drinking water"),
                    changes
                );
                let animal_days: i64 = changes
                    .iter()
                    .map(|&d| i64::from(on(d)) * (70 - d).min(7))
                    .sum();
                let ml = animal_days as f64 * 5.0 * 1.2;
                assert_eq!(
                    qty("hormone drinking water · TamR-MCF-7"),
                    format!("{ml:.0}")
                );
                assert_eq!(
                    qty("hormone (hormone) · TamR-MCF-7"),
                    format!("{:.1}", ml * 2.0 / 1000.0)
                );
            }
        }
    }
}

/// A single pellet that must support longer than it releases is noted on the timeline (the
/// design check weighs it against the cohort's growth without estrogen).
#[test]
fn a_pellet_running_out_before_its_removal_is_noted() {
    let mut pr = tamr();
    xeno(&mut pr).cohorts[0].hormone = Some(HormoneSupport {
        name: "E2 20-day pellet".into(),
        kind: HormoneKind::Pellet {
            dose_mg: 0.5,
            release_days: 20.0,
            reimplant_every_days: None,
        },
        implant_offset_days: -1,
        removal: PelletRemoval::AtRandomization,
    });
    let tl = expand(&pr, &options(WeekendPolicy::KeepAndFlag), &estimates()).unwrap();
    assert!(
        tl.notes
            .iter()
            .any(|n| n.contains("runs out on study day -16") && n.contains("reimplant-every-days")),
        "{:?}",
        tl.notes
    );
    let rows = resources(&pr, &tl);
    let r = rows
        .iter()
        .find(|r| r.item == "hormone pellets · TamR-MCF-7")
        .unwrap();
    assert!(
        r.details.contains("covers 20 of the 36 days"),
        "{}",
        r.details
    );
}

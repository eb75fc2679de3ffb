//! Domain values for unit tests (assumed numbers; the real ones come from protocol files).

use crate::protocol::*;

/// An anastrozole-like derivation (assumed values; tests only).
pub fn derivation() -> Derivation {
    let a = |v: f64| Sourced::new(v, "assumed; test value");
    Derivation {
        parental_line: "MCF-7aro".into(),
        derived_line: "Res-Ana".into(),
        culture: Culture {
            medium: "phenol red-free IMEM".into(),
            serum: "10% charcoal-stripped FBS".into(),
            substrate: Some("testosterone".into()),
            substrate_nm: Some(10.0),
            vessel: "T75".into(),
            medium_ml: 12.0,
            seeding_cells: 1e6,
            confluent_cells: 1e7,
            passage_at_confluence: 0.8,
            split_ratio: 4.0,
            medium_change_days: 3,
        },
        drug: "anastrozole".into(),
        start_concentration_nm: a(10.0),
        escalation: vec![
            EscalationStep {
                concentration_nm: 100.0,
                trigger: EscalationTrigger::GrowthRecovered { doubling_h: 40.0 },
            },
            EscalationStep {
                concentration_nm: 1000.0,
                trigger: EscalationTrigger::Day(180),
            },
        ],
        duration_days: 270,
        cloning: Some(Cloning {
            clones: 12,
            expansion_days: 28,
        }),
        validation: Some(design(Readout::Mtt)),
        checks: None,
        split: None,
        expected_time_to_resistance: None,
        model: DerivationModel {
            doubling_h_with_e2: Sourced::new(33.0, "Wiese 1992"),
            doubling_h_without_e2: Sourced::new(55.0, "Wiese 1992"),
            death_rate_per_day: a(0.1),
            ic50_sensitive_nm: a(10.0),
            ic50_resistant_nm: a(1000.0),
            hill: a(1.0),
            resistant_fraction: a(1e-5),
            switch_rate_per_division: a(1e-7),
            intermediate_ic50_factor: None,
            fitness_off_drug: None,
            reversion_rate_per_division: None,
        },
    }
}

/// A plate design with a half-log dose series.
pub fn design(readout: Readout) -> AssayDesign {
    AssayDesign {
        drug: "anastrozole".into(),
        doses_nm: vec![
            0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0,
        ],
        replicates: 3,
        duration_days: 6.0,
        seeding_cells: 3000.0,
        plate_wells: 96,
        readout,
        noise_cv: Sourced::new(0.08, "assumed; test value"),
        edge_effect: 0.0,
        layout: PlateLayout::default(),
    }
}

/// Wraps a body in a protocol.
pub fn protocol(body: Body) -> Protocol {
    Protocol {
        id: "test-invitro".into(),
        title: "Test".into(),
        description: String::new(),
        references: Vec::new(),
        phases: Vec::new(),
        steps: Vec::new(),
        calendar: CalendarPolicy::default(),
        body,
    }
}

/// A camizestrant-like assay protocol body.
pub fn assay() -> Assay {
    let a = |v: f64| Sourced::new(v, "assumed; test value");
    Assay {
        medium: "RPMI".into(),
        lines: vec![
            AssayLine {
                name: "MCF7".into(),
                ic50_nm: a(1.0),
                hill: a(1.0),
                doubling_h: a(33.0),
                max_inhibition: Param::fixed(0.9, "assumed"),
                between_experiment_log10_ic50_sd: a(0.2),
            },
            AssayLine {
                name: "CAMA-1".into(),
                ic50_nm: a(5.0),
                hill: a(1.2),
                doubling_h: a(60.0),
                max_inhibition: Param::fixed(0.8, "assumed"),
                between_experiment_log10_ic50_sd: a(0.2),
            },
        ],
        design: design(Readout::SytoxGreen),
    }
}

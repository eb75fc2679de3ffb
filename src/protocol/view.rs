//! The protocol's model parameters as one tree of labelled values with their sources: the one
//! walk of the validated protocol that `show` renders as text (`src/cli/show.rs`) and the
//! report renders as its parameter table (`src/report/summary.rs`). A parameter added to the
//! domain is added here once and appears in both.
//!
//! Top-level nodes are keyed by where they sit in the protocol file (`animals`,
//! `agents.<name>`, `cohorts.<name>`, `endpoints`, `caliper`, `husbandry`, `derivation`,
//! `derivation.model`, `derivation.validation`, `lines.<name>`, `design`), so a renderer that
//! prints its own headings (species, implantation, plate design …) finds the values that go
//! under each; nested groups (a cohort's growth model, effects, resistant subclone) carry the
//! heading they are shown under.

use super::domain::*;

/// A value the model uses, with its unit, between-animal variability and source.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewValue {
    /// The value (a typical value for a parameter with variability).
    pub value: f64,
    /// Unit ("" for a ratio or a count).
    pub unit: &'static str,
    /// Between-animal variability (`None` for a sourced constant).
    pub variability: Variability,
    /// Literature source, or `assumed; <why>`.
    pub source: String,
}

/// A node of the view: a labelled value, or a group of nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewNode {
    /// The name in the protocol's own terms: the file key of a value (`take-rate`,
    /// `pk.half-life-h`) or the path of a top-level group (`cohorts.MCF-7`).
    pub key: String,
    /// The name for people ("take rate", "MCF-7"); the report names a value by the labels
    /// of its path ("MCF-7 · take rate"). Empty for a group that adds no words.
    pub label: String,
    /// The heading a nested group is shown under ("growth model: gompertz").
    pub heading: String,
    /// The value of a leaf; `None` for a group.
    pub value: Option<ViewValue>,
    /// Context a reader needs before the children (the user-unit effect a parameter was
    /// solved from).
    pub notes: Vec<String>,
    /// The nodes of a group.
    pub children: Vec<ViewNode>,
}

impl ViewNode {
    fn group(key: impl Into<String>, label: impl Into<String>) -> Self {
        ViewNode {
            key: key.into(),
            label: label.into(),
            heading: String::new(),
            value: None,
            notes: Vec::new(),
            children: Vec::new(),
        }
    }

    fn heading(mut self, heading: String) -> Self {
        self.heading = heading;
        self
    }

    fn value(&mut self, key: &str, label: &str, unit: &'static str, v: ViewValue) {
        self.children.push(ViewNode {
            key: key.into(),
            label: label.into(),
            value: Some(ViewValue { unit, ..v }),
            ..ViewNode::group("", "")
        });
    }

    fn param(&mut self, key: &str, label: &str, unit: &'static str, p: &Param) {
        self.value(key, label, unit, from_param(p));
    }

    fn sourced(&mut self, key: &str, label: &str, unit: &'static str, s: &Sourced) {
        self.value(key, label, unit, from_sourced(s));
    }

    /// The child group keyed `key`, if any.
    pub fn find<'a>(nodes: &'a [ViewNode], key: &str) -> Option<&'a ViewNode> {
        nodes.iter().find(|n| n.key == key)
    }

    /// Every value under `nodes` with the labels of its path (outermost first).
    pub fn leaves(nodes: &[ViewNode]) -> Vec<(Vec<&str>, &ViewNode)> {
        fn walk<'a>(
            n: &'a ViewNode,
            path: &mut Vec<&'a str>,
            out: &mut Vec<(Vec<&'a str>, &'a ViewNode)>,
        ) {
            if !n.label.is_empty() {
                path.push(&n.label);
            }
            if n.value.is_some() {
                out.push((path.clone(), n));
            }
            for c in &n.children {
                walk(c, path, out);
            }
            if !n.label.is_empty() {
                path.pop();
            }
        }
        let mut out = Vec::new();
        for n in nodes {
            walk(n, &mut Vec::new(), &mut out);
        }
        out
    }
}

fn from_param(p: &Param) -> ViewValue {
    ViewValue {
        value: p.value,
        unit: "",
        variability: p.variability,
        source: p.source.clone(),
    }
}

fn from_sourced(s: &Sourced) -> ViewValue {
    constant(s.value, &s.source)
}

fn constant(value: f64, source: &str) -> ViewValue {
    ViewValue {
        value,
        unit: "",
        variability: Variability::None,
        source: source.into(),
    }
}

/// The model parameters of `p` as a tree (top-level groups in the order `show` prints them).
pub fn protocol_view(p: &Protocol) -> Vec<ViewNode> {
    match &p.body {
        Body::Xenograft(x) => xenograft(x),
        Body::Derivation(d) => derivation(d),
        Body::Assay(a) => assay(a),
        Body::Procedure(_) => Vec::new(),
    }
}

fn xenograft(x: &Xenograft) -> Vec<ViewNode> {
    let a = &x.animals;
    let mut animals = ViewNode::group("animals", "animals");
    animals.param("body-weight-g", "body weight", "g", &a.body_weight_g);
    let gain = &a.weight_gain_g_per_day;
    animals.sourced("weight-gain-g-per-day", "weight gain", "g/day", gain);
    animals.sourced("weight-noise-cv", "weight noise CV", "", &a.weight_noise_cv);
    if let Some(r) = &a.weight_recovery_pct_per_week {
        animals.notes.push(
            "a drug-induced weight deficit recovers on days without a toxic dose: ln weight rises by −ln(1 − r/100)/7 per day, up to the untreated weight".into(),
        );
        animals.sourced(
            "weight-recovery-pct-per-week",
            "weight recovery off dosing",
            "%/week",
            r,
        );
    }
    let mut out = vec![animals];
    out.extend(x.agents.iter().map(agent));
    out.extend(x.cohorts.iter().map(cohort));
    let mut endpoints = ViewNode::group("endpoints", "humane endpoint");
    for (key, label, unit, s) in [
        (
            "max-volume-mm3",
            "volume",
            "mm³",
            &x.endpoints.max_volume_mm3,
        ),
        (
            "max-diameter-mm",
            "diameter",
            "mm",
            &x.endpoints.max_diameter_mm,
        ),
        (
            "max-weight-loss-pct",
            "weight loss",
            "%",
            &x.endpoints.max_weight_loss_pct,
        ),
    ] {
        if let Some(s) = s {
            endpoints.sourced(key, label, unit, s);
        }
    }
    out.push(endpoints);
    if let Some(m) = &x.dose_modification {
        let mut g = ViewNode::group("dose-modification", "dose modification");
        g.notes.push(format!(
            "a loss ≥ this from the day-0 body weight on a body-weight day starts a {}-day dosing holiday, then dosing resumes at {}% of the dose; the trigger after {} holiday(s) stops dosing",
            m.holiday_days,
            crate::output::fmt_value(m.resume_dose_fraction * 100.0),
            m.max_holidays
        ));
        g.sourced(
            "weight-loss-pct",
            "holiday threshold",
            "%",
            &m.weight_loss_pct,
        );
        out.push(g);
    }
    out.push(caliper(&x.caliper));
    let mut husbandry = ViewNode::group("husbandry", "");
    husbandry.sourced("attrition", "attrition", "", &x.husbandry.attrition);
    out.push(husbandry);
    out
}

/// An agent's PK and body-weight loss.
fn agent(a: &Agent) -> ViewNode {
    let mut g = ViewNode::group(format!("agents.{}", a.name), a.name.clone());
    if let Some(pk) = &a.pk {
        g.sourced("pk.ka-per-h", "PK ka", "1/h", &pk.ka_per_h);
        g.sourced("pk.half-life-h", "PK half-life", "h", &pk.half_life_h);
        g.sourced("pk.volume-l-per-kg", "PK V/F", "L/kg", &pk.volume_l_per_kg);
        g.sourced(
            "pk.bioavailability",
            "PK bioavailability",
            "",
            &pk.bioavailability,
        );
    }
    if let Some(w) = &a.weight_loss_pct_per_week {
        g.notes.push(match &a.weight_loss_reference {
            Some(r) => format!(
                "body-weight loss at {} {}, scaled by the dose given: ln weight falls by ln(1 − loss/100)/7 × dose/{} {} on every dosing day",
                crate::output::fmt_value(r.dose),
                r.unit.as_str(),
                crate::output::fmt_value(r.dose),
                r.unit.as_str()
            ),
            None => "body-weight loss at whatever dose a treatment gives (no weight-loss-reference-dose): ln weight falls by ln(1 − loss/100)/7 on every dosing day".into(),
        });
        g.sourced("weight-loss-pct-per-week", "body-weight loss", "%/week", w);
    }
    g
}

/// A cohort's take, latency, hormone dependence, growth model, effects and resistant subclone.
fn cohort(c: &Cohort) -> ViewNode {
    let mut g = ViewNode::group(format!("cohorts.{}", c.name), c.name.clone());
    g.sourced("take-rate", "take rate", "", &c.take_rate);
    g.param("latency-days", "latency", "days", &c.latency_days);
    let gwe = &c.growth_without_estrogen;
    g.sourced(
        "growth-without-estrogen",
        "growth without estrogen (multiplier)",
        "",
        gwe,
    );
    if let Some(HormoneSupport {
        kind: HormoneKind::DrinkingWater {
            intake_ml_per_day, ..
        },
        ..
    }) = &c.hormone
    {
        g.sourced(
            "intake-ml-per-day",
            "hormone drinking-water intake",
            "mL/day",
            intake_ml_per_day,
        );
    }
    let model = c.growth.name();
    let mut growth = ViewNode::group("growth", format!("{model} growth"))
        .heading(format!("growth model: {model}"));
    for (name, unit, p) in c.growth.parameters() {
        growth.param(&format!("{name} ({unit})"), name, unit, p);
    }
    if let GrowthModel::Simeoni { psi, .. } = &c.growth {
        growth.value("psi", "ψ", "", constant(*psi, "Simeoni et al. 2004"));
    }
    g.children.push(growth);
    g.children.extend(c.effects.iter().map(effect));
    if let Some(r) = &c.resistant {
        let mut res =
            ViewNode::group("resistant", "resistant").heading("resistant subclone".into());
        res.param("fraction", "fraction", "", &r.fraction);
        res.sourced("sensitivity", "sensitivity", "", &r.sensitivity);
        let gwe = &r.growth_without_estrogen;
        res.sourced(
            "growth-without-estrogen",
            "growth without estrogen",
            "",
            gwe,
        );
        g.children.push(res);
    }
    g
}

/// A drug effect: the parameters the engine uses for its mode (a Simeoni kill target uses
/// k2 only), with the user-unit target it was solved from as a note.
fn effect(e: &DrugEffect) -> ViewNode {
    let mut g = ViewNode::group("effect", e.agent.clone())
        .heading(format!("effect of {} [{}]", e.agent, e.source));
    match &e.mode {
        EffectMode::Direct {
            inhibition,
            kill_rate_per_day,
        } => {
            if let Some(u) = &e.specified_as {
                g.notes.push(format!(
                    "expected {} {}% at day {} → inhibition {} ({}) [{}]",
                    u.unit.label(),
                    crate::output::fmt_value(u.value),
                    crate::output::fmt_value(u.day),
                    crate::output::fmt_sig_real(inhibition.value, 3),
                    u.solved_for,
                    u.source
                ));
            }
            g.param("inhibition", "growth inhibition", "", inhibition);
            g.param("kill-rate-per-day", "kill rate", "1/day", kill_rate_per_day);
        }
        EffectMode::Exposure {
            emax,
            ec50_ng_ml,
            hill,
            target,
        } => match target {
            EffectTarget::Growth => {
                g.param("emax", "Emax", "", emax);
                g.param("ec50-ng-ml", "EC50", "ng/mL", ec50_ng_ml);
                g.value("hill", "Hill", "", constant(*hill, &e.source));
            }
            EffectTarget::Kill { k2 } => g.param(
                "k2 (per ng/mL/day)",
                "k2 (Simeoni kill)",
                "(ng/mL)⁻¹/day",
                k2,
            ),
        },
    }
    g
}

fn caliper(c: &CaliperModel) -> ViewNode {
    let mut g = ViewNode::group("caliper", "calipers");
    match &c.error {
        CaliperError::Diameters { cv } => {
            g.sourced("error: diameter CV", "diameter error CV", "", cv)
        }
        CaliperError::LogVolume { sd } => {
            g.sourced("error: log-volume SD", "log-volume error SD", "", sd)
        }
    }
    g.sourced("observer-bias", "observer bias", "", &c.observer_bias);
    let floor = &c.detection_floor_mm3;
    g.sourced("detection-floor-mm3", "detection floor", "mm³", floor);
    g.param("width-ratio", "width/length ratio", "", &c.width_ratio);
    g
}

fn derivation(d: &Derivation) -> Vec<ViewNode> {
    let mut top = ViewNode::group("derivation", "");
    let start = &d.start_concentration_nm;
    top.sourced("start-concentration-nm", "start concentration", "nM", start);
    let m = &d.model;
    let mut model = ViewNode::group("derivation.model", "");
    for (key, label, unit, s) in [
        (
            "doubling-h-with-e2",
            "doubling with E2",
            "h",
            &m.doubling_h_with_e2,
        ),
        (
            "doubling-h-without-e2",
            "doubling without E2",
            "h",
            &m.doubling_h_without_e2,
        ),
        (
            "death-rate-per-day",
            "death rate",
            "1/day",
            &m.death_rate_per_day,
        ),
        (
            "ic50-sensitive-nm",
            "IC50 sensitive",
            "nM",
            &m.ic50_sensitive_nm,
        ),
        (
            "ic50-resistant-nm",
            "IC50 resistant",
            "nM",
            &m.ic50_resistant_nm,
        ),
        ("hill", "Hill", "", &m.hill),
        (
            "resistant-fraction",
            "pre-existing resistant fraction",
            "",
            &m.resistant_fraction,
        ),
        (
            "switch-rate-per-division",
            "switch rate per division",
            "",
            &m.switch_rate_per_division,
        ),
    ] {
        model.sourced(key, label, unit, s);
    }
    if let Some(f) = &m.intermediate_ic50_factor {
        model.sourced(
            "intermediate-ic50-factor",
            "adapting state IC50 factor",
            "",
            f,
        );
    }
    let mut out = vec![top, model];
    if let Some(v) = &d.validation {
        let mut g = ViewNode::group("derivation.validation", "validation");
        g.sourced("noise-cv", "readout noise CV", "", &v.noise_cv);
        out.push(g);
    }
    out
}

fn assay(a: &Assay) -> Vec<ViewNode> {
    let mut out: Vec<ViewNode> = a
        .lines
        .iter()
        .map(|l| {
            let mut g = ViewNode::group(format!("lines.{}", l.name), l.name.clone());
            g.sourced("ic50-nm", "IC50", "nM", &l.ic50_nm);
            g.sourced("hill", "Hill", "", &l.hill);
            g.sourced("doubling-h", "doubling", "h", &l.doubling_h);
            g.param(
                "max-inhibition",
                "max inhibition (variability: between experiments)",
                "",
                &l.max_inhibition,
            );
            g.sourced(
                "between-experiment-log10-ic50-sd",
                "between-experiment SD of log10 IC50",
                "",
                &l.between_experiment_log10_ic50_sd,
            );
            g
        })
        .collect();
    let mut design = ViewNode::group("design", "");
    design.sourced("noise-cv", "readout noise CV", "", &a.design.noise_cv);
    out.push(design);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled protocol: each leaf has a source, the top-level keys are unique, and the
    /// report's labels name each value once.
    #[test]
    fn bundled_protocols_give_sourced_uniquely_named_values() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
        let mut seen = 0;
        for e in std::fs::read_dir(dir).expect("protocols/").flatten() {
            let path = e.path();
            if path.extension().and_then(|s| s.to_str()) != Some("toml") {
                continue;
            }
            let l = crate::protocol::load(&path).expect("bundled protocol loads");
            let view = protocol_view(&l.protocol);
            let mut keys: Vec<&str> = view.iter().map(|n| n.key.as_str()).collect();
            keys.sort();
            let n = keys.len();
            keys.dedup();
            assert_eq!(
                keys.len(),
                n,
                "{}: duplicate top-level keys",
                path.display()
            );
            let leaves = ViewNode::leaves(&view);
            let mut names: Vec<String> = leaves.iter().map(|(p, _)| p.join(" · ")).collect();
            for (path_labels, leaf) in &leaves {
                let v = leaf.value.as_ref().expect("leaf");
                assert!(!v.source.trim().is_empty(), "{path_labels:?} has no source");
            }
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(
                names.len(),
                n,
                "{}: two values share a name",
                path.display()
            );
            seen += usize::from(!leaves.is_empty());
        }
        assert!(
            seen >= 3,
            "too few bundled protocols with parameters: {seen}"
        );
    }
}

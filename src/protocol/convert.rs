//! Validation and conversion of the file schema into domain types. Every check records a
//! positioned diagnostic and carries on, so one run reports every problem; a domain value is
//! returned only when no error was found.

use super::diag::{Diagnostic, KeyPath, Severity, SpanIndex, closest};
use super::domain::*;
use super::schema::*;
use jiff::civil::{Time, Weekday};

/// Largest accepted between-experiment SD of log10 IC50 (a 100-fold SD).
const MAX_LOG10_IC50_SD: f64 = 2.0;
use std::collections::{HashMap, HashSet};

/// Spellings of the protocol kind (also the `enum` of the JSON Schema).
pub(crate) const PROTOCOL_KINDS: &[(&str, ProtocolKind)] = &[
    ("xenograft", ProtocolKind::Xenograft),
    ("derivation", ProtocolKind::Derivation),
    ("assay", ProtocolKind::Assay),
    ("procedure", ProtocolKind::Procedure),
];

/// Spellings of the weekend policy (also the `enum` of the JSON Schema).
pub(crate) const WEEKEND_POLICIES: &[(&str, WeekendPolicy)] = &[
    ("allow", WeekendPolicy::Allow),
    ("shift", WeekendPolicy::ShiftToNextWorkingDay),
    ("flag", WeekendPolicy::KeepAndFlag),
];

/// Spellings of the readout (also the `enum` of the JSON Schema).
pub(crate) const READOUTS: &[(&str, Readout)] = &[
    ("mtt", Readout::Mtt),
    ("crystal-violet", Readout::CrystalViolet),
    ("sytox-green", Readout::SytoxGreen),
];

/// `edge-wells` values of an assay design.
pub(crate) const EDGE_WELLS: &[(&str, EdgeWells)] =
    &[("samples", EdgeWells::Samples), ("pbs", EdgeWells::Pbs)];

/// `arrangement` values of an assay design.
pub(crate) const ARRANGEMENTS: &[(&str, Arrangement)] = &[
    ("packed", Arrangement::Packed),
    ("line-per-plate", Arrangement::LinePerPlate),
];

/// `[split] at` milestones (also the `enum` of the JSON Schema).
pub(crate) const SPLIT_MILESTONES: &[(&str, SplitAt)] =
    &[("target-fold-shift", SplitAt::TargetShift)];

/// `[[split.arms]] kind` values (also the `enum` of the JSON Schema).
pub(crate) const ARM_KINDS: &[&str] = &["continue", "holiday", "escalate"];

/// Collects diagnostics while converting.
pub(crate) struct Ctx<'a> {
    label: &'a str,
    text: &'a str,
    spans: SpanIndex<'a>,
    /// Everything found so far.
    pub diags: Vec<Diagnostic>,
    /// Unknown keys and sections of another kind are warnings, not errors.
    pub allow_unknown: bool,
}

/// Numeric rule for a value.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    /// Finite.
    Finite,
    /// > 0.
    Pos,
    /// ≥ 0.
    NonNeg,
    /// 0 ≤ x ≤ 1.
    Prob,
    /// 0 < x ≤ 1.
    PosProb,
    /// 0 < x < 1.
    Open01,
}

/// Documented limits on protocol values (README "Limits"). They keep every derived size and
/// loop finite: beyond them no study is realistic, and a value like `1e308` or `5e-324` turns
/// into infinities, empty ranges or allocations of terabytes further down.
pub mod limits {
    /// Largest magnitude of any number in a protocol.
    pub const MAX_ABS: f64 = 1e12;
    /// Smallest magnitude of a non-zero number (below it, reciprocals overflow).
    pub const MIN_ABS: f64 = 1e-15;
    /// Largest integer count or day number (≈ 274 years of days).
    pub const MAX_COUNT: i64 = 100_000;
    /// Largest number of animals in one arm.
    pub const MAX_N_PER_ARM: i64 = 10_000;
    /// Largest duration in days (phases, tasks, derivations).
    pub const MAX_DAYS: f64 = 100_000.0;
    /// Smallest take rate: the study implants n / take-rate animals.
    pub const MIN_TAKE_RATE: f64 = 0.01;
}

/// Magnitude in `[MIN_ABS, MAX_ABS]` or exactly zero.
fn in_range(v: f64) -> bool {
    v == 0.0 || (limits::MIN_ABS..=limits::MAX_ABS).contains(&v.abs())
}

impl Rule {
    fn ok(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::Finite => true,
                Rule::Pos => v > 0.0,
                Rule::NonNeg => v >= 0.0,
                Rule::Prob => (0.0..=1.0).contains(&v),
                Rule::PosProb => v > 0.0 && v <= 1.0,
                Rule::Open01 => v > 0.0 && v < 1.0,
            }
    }
    fn describe(self) -> &'static str {
        match self {
            Rule::Finite => "a finite number",
            Rule::Pos => "> 0",
            Rule::NonNeg => "≥ 0",
            Rule::Prob => "between 0 and 1",
            Rule::PosProb => "in (0, 1]",
            Rule::Open01 => "strictly between 0 and 1",
        }
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(label: &'a str, text: &'a str, spans: SpanIndex<'a>) -> Self {
        Ctx {
            label,
            text,
            spans,
            diags: Vec::new(),
            allow_unknown: false,
        }
    }

    fn push(&mut self, severity: Severity, span: std::ops::Range<usize>, msg: String) {
        self.diags
            .push(Diagnostic::at(severity, msg, self.label, self.text, span));
    }
    /// Error pointing at the value at `at` (or its nearest existing ancestor).
    pub(crate) fn error(&mut self, at: &KeyPath, msg: impl Into<String>) {
        let span = self.spans.value(at);
        self.push(Severity::Error, span, msg.into());
    }
    /// Error pointing at the key at `at`.
    pub(crate) fn error_key(&mut self, at: &KeyPath, msg: impl Into<String>) {
        let span = self.spans.key(at);
        self.push(Severity::Error, span, msg.into());
    }
    /// Warning pointing at the key at `at`.
    pub(crate) fn warn_key(&mut self, at: &KeyPath, msg: impl Into<String>) {
        let span = self.spans.key(at);
        self.push(Severity::Warning, span, msg.into());
    }
    /// JSON kind of the value at `at` (see [`SpanIndex::json_kind`]).
    pub(crate) fn value_kind(&self, at: &KeyPath) -> Option<&'static str> {
        self.spans.json_kind(at)
    }
    /// Any error so far?
    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }

    fn name_of(at: &KeyPath) -> String {
        let mut p = at.clone();
        // `value` inside `{ value = …, source = … }` is named after its parent key.
        if p.last_key() == Some("value") {
            p = p.parent();
        }
        p.last_key()
            .map(str::to_string)
            .unwrap_or_else(|| at.to_string())
    }

    fn num(&mut self, v: f64, at: &KeyPath, rule: Rule) -> f64 {
        if !rule.ok(v) {
            let name = Self::name_of(at);
            self.error(
                at,
                format!("`{name}` must be {}, got {}", rule.describe(), v),
            );
        } else if !in_range(v) {
            let name = Self::name_of(at);
            self.error(
                at,
                format!(
                    "`{name}` = {v:e} is outside the supported range: 0 or a magnitude between {:e} and {:e}",
                    limits::MIN_ABS,
                    limits::MAX_ABS
                ),
            );
        }
        v
    }

    fn count(&mut self, v: i64, at: &KeyPath, min: i64) -> u32 {
        self.count_max(v, at, min, limits::MAX_COUNT)
    }

    /// An integer in `[min, max]`; 0 (after an error) otherwise.
    pub(crate) fn count_max(&mut self, v: i64, at: &KeyPath, min: i64, max: i64) -> u32 {
        let name = Self::name_of(at);
        if v < min {
            let what = if min == 0 { "≥ 0" } else { "≥ 1" };
            self.error(at, format!("`{name}` must be an integer {what}, got {v}"));
            return 0;
        }
        if v > max {
            self.error(at, format!("`{name}` must be at most {max}, got {v}"));
            return 0;
        }
        v as u32
    }

    /// A duration in days ≤ [`limits::MAX_DAYS`] (already checked against `rule`).
    fn days_num(&mut self, v: f64, at: &KeyPath, rule: Rule) -> f64 {
        let v = self.num(v, at, rule);
        if v > limits::MAX_DAYS {
            let name = Self::name_of(at);
            self.error(
                at,
                format!(
                    "`{name}` must be at most {} days, got {v}",
                    limits::MAX_DAYS
                ),
            );
        }
        v
    }

    fn source(&mut self, s: &str, at: &KeyPath) -> String {
        if s.trim().is_empty() {
            self.error(
                at,
                "empty `source`: cite the reference or write \"assumed; <why>\"",
            );
        }
        s.to_string()
    }

    fn sourced(&mut self, f: &FileSourced, at: &KeyPath, rule: Rule) -> Sourced {
        let value = self.num(f.value, &at.k("value"), rule);
        let source = self.source(&f.source, &at.k("source"));
        Sourced { value, source }
    }

    fn param(&mut self, f: &FileParam, at: &KeyPath, rule: Rule) -> Param {
        let value = self.num(f.value, &at.k("value"), rule);
        let source = self.source(&f.source, &at.k("source"));
        let variability = match (f.cv, f.sd) {
            (Some(_), Some(_)) => {
                self.error_key(
                    &at.k("sd"),
                    "give either `cv` (log-normal) or `sd` (normal), not both",
                );
                Variability::None
            }
            (Some(cv), None) => {
                let cv = self.num(cv, &at.k("cv"), Rule::NonNeg);
                if cv > 0.0 {
                    Variability::LogNormal { cv }
                } else {
                    Variability::None
                }
            }
            (None, Some(sd)) => {
                let sd = self.num(sd, &at.k("sd"), Rule::NonNeg);
                if sd > 0.0 {
                    Variability::Normal { sd }
                } else {
                    Variability::None
                }
            }
            (None, None) => Variability::None,
        };
        Param {
            value,
            variability,
            source,
        }
    }

    /// Parses a keyword from a fixed list; errors name the closest valid choice.
    fn choice<T: Copy>(
        &mut self,
        s: &str,
        at: &KeyPath,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some((_, v)) = options.iter().find(|(k, _)| *k == lower) {
            return Some(*v);
        }
        let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        let hint = match closest(&lower, names.iter().copied()) {
            Some(c) => format!("; did you mean `{c}`?"),
            None => format!("; expected one of {}", names.join(", ")),
        };
        self.error(at, format!("unknown {what} `{s}`{hint}"));
        None
    }

    /// Reports duplicate names (second and later occurrences).
    fn unique(&mut self, names: &[(String, KeyPath)], what: &str) {
        let mut seen: HashMap<&str, &KeyPath> = HashMap::new();
        for (n, at) in names {
            if let Some(first) = seen.get(n.as_str()) {
                let first_line = self.line_of(first);
                self.error(
                    at,
                    format!("duplicate {what} name `{n}` (first defined on line {first_line})"),
                );
            } else {
                seen.insert(n, at);
            }
            if n.trim().is_empty() {
                self.error(at, format!("empty {what} name"));
            }
        }
    }

    fn line_of(&self, at: &KeyPath) -> usize {
        let s = self.spans.value(at).start.min(self.text.len());
        self.text[..s].matches('\n').count() + 1
    }

    fn exists(&self, at: &KeyPath) -> bool {
        self.spans.exists(at)
    }
    /// True when `at` is present in the file.
    pub(crate) fn path_exists(&self, at: &KeyPath) -> bool {
        self.spans.exists(at)
    }
}

/// Raw schedule fields shared by steps, treatments and measurements.
struct RawSchedule<'f> {
    day: Option<i64>,
    frequency: Option<&'f str>,
    weekdays: &'f [String],
    times: &'f [String],
    start_day: Option<i64>,
    end_day: Option<i64>,
}

/// The spellings [`parse_frequency`] accepts, as a JSON Schema pattern (the schema test checks
/// that both agree on every listed and aliased frequency).
pub(crate) const FREQUENCY_PATTERN: &str = "^(once|qd|daily|bid|tid|qid|qw|weekly|q2w|weekdays|q[1-9][0-9]*d|[1-9][0-9]*on[1-9][0-9]*off([- ](qd|bid|tid|qid))?)$";

/// Weekday spellings: the first three letters name the day (`mon`, `monday`).
pub(crate) const WEEKDAY_PATTERN: &str = "^(mon|tue|wed|thu|fri|sat|sun)[a-z]*$";

/// A frequency spelling, or `None` when it is none of them. A dosing cycle that is malformed
/// (`5on0off`, `0on2off`, `5on2of`) is `Some(Err(why))`: the message says what to write.
fn parse_frequency(s: &str) -> Option<Result<Frequency, String>> {
    let l = s.trim().to_ascii_lowercase();
    Some(Ok(match l.as_str() {
        "once" => Frequency::Once,
        "qd" | "daily" => Frequency::Daily { per_day: 1 },
        "bid" => Frequency::Daily { per_day: 2 },
        "tid" => Frequency::Daily { per_day: 3 },
        "qid" => Frequency::Daily { per_day: 4 },
        "qw" | "weekly" => Frequency::EveryNDays { n: 7 },
        "q2w" => Frequency::EveryNDays { n: 14 },
        "weekdays" => Frequency::Weekdays { days: Vec::new() },
        _ if l.starts_with(|c: char| c.is_ascii_digit()) || l.contains("off") => {
            return Some(parse_cycle(&l));
        }
        _ => {
            let n = l
                .strip_prefix('q')?
                .strip_suffix('d')?
                .parse::<u32>()
                .ok()?;
            if n == 0 {
                return None;
            }
            Frequency::EveryNDays { n }
        }
    }))
}

/// How a dosing cycle is written (the messages of [`parse_cycle`]).
const CYCLE_FORM: &str = "a dosing cycle is written <N>on<M>off — N dosing days then M days off, counted from the first dose (5on2off, 4on3off, 21on7off for \"3 weeks on, 1 off\") — optionally followed by -bid, -tid or -qid";

/// `<N>on<M>off` with an optional `-qd|-bid|-tid|-qid` (or space-separated) suffix.
fn parse_cycle(l: &str) -> Result<Frequency, String> {
    let (body, per_day) = [("qd", 1u8), ("bid", 2), ("tid", 3), ("qid", 4)]
        .iter()
        .find_map(|(sfx, n)| {
            l.strip_suffix(sfx)
                .and_then(|b| b.strip_suffix(['-', ' ']))
                .map(|b| (b.trim_end(), *n))
        })
        .unwrap_or((l, 1));
    let malformed = || format!("unknown frequency `{l}`: {CYCLE_FORM}");
    let (on, rest) = body.split_once("on").ok_or_else(malformed)?;
    let off = rest.strip_suffix("off").ok_or_else(malformed)?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(on) || !digits(off) {
        return Err(malformed());
    }
    let (on, off): (u64, u64) = (
        on.parse().map_err(|_| malformed())?,
        off.parse().map_err(|_| malformed())?,
    );
    if on == 0 {
        return Err(format!(
            "dosing cycle `{l}` has no dosing day: N in <N>on<M>off must be at least 1"
        ));
    }
    if off == 0 {
        return Err(format!(
            "dosing cycle `{l}` has no day off, which is dosing every day: write \"qd\" (or \"bid\", \"tid\", \"qid\")"
        ));
    }
    let max = limits::MAX_COUNT as u64;
    if on + off > max {
        return Err(format!(
            "dosing cycle `{l}` lasts {} days; a cycle is at most {max} days",
            on + off
        ));
    }
    Ok(Frequency::Cycle {
        on: on as u32,
        off: off as u32,
        per_day,
    })
}

pub(crate) const FREQUENCIES: [&str; 10] = [
    "once", "qd", "bid", "tid", "qid", "q3d", "qw", "q2w", "weekdays", "5on2off",
];

pub(crate) const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

impl Ctx<'_> {
    fn schedule(&mut self, r: RawSchedule<'_>, at: &KeyPath) -> Option<Schedule> {
        let freq = match (r.frequency, r.day) {
            (Some(f), _) => match parse_frequency(f) {
                Some(Ok(x)) => Some(x),
                Some(Err(why)) => {
                    self.error(&at.k("frequency"), why);
                    None
                }
                None => {
                    let hint = match closest(&f.to_ascii_lowercase(), FREQUENCIES) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!(
                            "expected one of {} (q<N>d for every N days, <N>on<M>off for a dosing cycle)",
                            FREQUENCIES.join(", ")
                        ),
                    };
                    self.error(
                        &at.k("frequency"),
                        format!("unknown frequency `{f}`; {hint}"),
                    );
                    None
                }
            },
            (None, Some(_)) => Some(Frequency::Once),
            (None, None) => {
                self.error(
                    at,
                    "missing schedule: give `day = N` (one-off) or `frequency = \"…\"` (recurring)",
                );
                None
            }
        };
        let mut ok = freq.is_some();
        let mut freq = freq.unwrap_or(Frequency::Once);
        // Weekdays.
        if let Frequency::Weekdays { days } = &mut freq {
            if r.weekdays.is_empty() {
                self.error(
                    &at.k("frequency"),
                    "frequency = \"weekdays\" needs `weekdays = [\"mon\", \"thu\"]`",
                );
                ok = false;
            }
            for (i, w) in r.weekdays.iter().enumerate() {
                let wat = at.k("weekdays").i(i);
                let short: String = w.trim().to_ascii_lowercase().chars().take(3).collect();
                match WEEKDAYS.iter().find(|(k, _)| *k == short) {
                    Some((_, d)) if days.contains(d) => {
                        self.error(&wat, format!("weekday `{w}` listed twice"));
                        ok = false;
                    }
                    Some((_, d)) => days.push(*d),
                    None => {
                        self.error(&wat, format!("unknown weekday `{w}`; expected mon, tue, wed, thu, fri, sat or sun"));
                        ok = false;
                    }
                }
            }
        } else if !r.weekdays.is_empty() {
            self.error_key(
                &at.k("weekdays"),
                "`weekdays` is only used with frequency = \"weekdays\"",
            );
            ok = false;
        }
        // Times.
        let mut times = Vec::new();
        for (i, t) in r.times.iter().enumerate() {
            match parse_time(t) {
                Some(x) => times.push(x),
                None => {
                    self.error(
                        &at.k("times").i(i),
                        format!("invalid time `{t}`; expected HH:MM (24 h)"),
                    );
                    ok = false;
                }
            }
        }
        if let Frequency::Daily { per_day } | Frequency::Cycle { per_day, .. } = freq
            && !r.times.is_empty()
            && r.times.len() != per_day as usize
        {
            self.error(
                &at.k("times"),
                format!(
                    "frequency `{}` needs {} times, got {}",
                    freq.label().to_lowercase(),
                    per_day,
                    r.times.len()
                ),
            );
            ok = false;
        }
        // Days.
        let start = match (freq == Frequency::Once, r.day, r.start_day) {
            (true, Some(d), _) => self.day(d, &at.k("day")),
            (true, None, Some(d)) => self.day(d, &at.k("start-day")),
            (false, Some(_), _) => {
                self.error_key(
                    &at.k("day"),
                    "`day` is for one-off steps; with a recurring frequency use `start-day` / `end-day`",
                );
                ok = false;
                None
            }
            (_, None, Some(d)) => self.day(d, &at.k("start-day")),
            (_, None, None) => Some(0),
        };
        let start = start?;
        let end = if freq == Frequency::Once {
            Some(start)
        } else {
            match r.end_day {
                Some(e) => {
                    let e = self.day(e, &at.k("end-day"))?;
                    if e < start {
                        self.error(
                            &at.k("end-day"),
                            format!("`end-day` ({e}) is before `start-day` ({start})"),
                        );
                        ok = false;
                    }
                    Some(e)
                }
                None => None,
            }
        };
        ok.then_some(Schedule {
            frequency: freq,
            start_day: start,
            end_day: end,
            times,
        })
    }

    fn day(&mut self, d: i64, at: &KeyPath) -> Option<u32> {
        if !(0..=limits::MAX_COUNT).contains(&d) {
            let name = Self::name_of(at);
            self.error(
                at,
                format!("`{name}` must be a day offset ≥ 0 from the start of the phase, got {d}"),
            );
            None
        } else {
            Some(d as u32)
        }
    }

    /// A schedule must fit in its phase when the phase has a fixed length.
    fn fits_phase(&mut self, s: &Schedule, phase: &Phase, at: &KeyPath) {
        if let PhaseEnd::Fixed { days } = phase.end {
            let last = s.end_day.unwrap_or(s.start_day).max(s.start_day);
            if last > days {
                let key = if s.end_day.is_some() && s.frequency != Frequency::Once {
                    "end-day"
                } else if self.exists(&at.k("day")) {
                    "day"
                } else {
                    "start-day"
                };
                self.error(
                    &at.k(key),
                    format!(
                        "day {last} is after the end of phase `{}` ({} days)",
                        phase.name, days
                    ),
                );
            }
        }
    }
}

/// Sections that only some kinds use: (key, kinds, present?).
fn kind_sections(f: &FileProtocol) -> Vec<(&'static str, ProtocolKind, bool)> {
    use ProtocolKind::*;
    vec![
        ("animals", Xenograft, f.animals.is_some()),
        ("agents", Xenograft, !f.agents.is_empty()),
        ("arms", Xenograft, !f.arms.is_empty()),
        ("cohorts", Xenograft, !f.cohorts.is_empty()),
        ("measurements", Xenograft, !f.measurements.is_empty()),
        ("enrollment", Xenograft, f.enrollment.is_some()),
        ("endpoints", Xenograft, f.endpoints.is_some()),
        ("end-of-study", Xenograft, f.end_of_study.is_some()),
        ("caliper", Xenograft, f.caliper.is_some()),
        ("analysis", Xenograft, f.analysis.is_some()),
        ("husbandry", Xenograft, f.husbandry.is_some()),
        ("panel", Xenograft, f.panel.is_some()),
        (
            "dose-modification",
            Xenograft,
            f.dose_modification.is_some(),
        ),
        ("study-stop", Xenograft, f.study_stop.is_some()),
        ("derivation", Derivation, f.derivation.is_some()),
        ("culture", Derivation, f.culture.is_some()),
        ("escalation", Derivation, !f.escalation.is_empty()),
        ("cloning", Derivation, f.cloning.is_some()),
        ("validation", Derivation, f.validation.is_some()),
        ("model", Derivation, f.model.is_some()),
        ("split", Derivation, f.split.is_some()),
        ("assay", Assay, f.assay.is_some()),
        ("lines", Assay, !f.lines.is_empty()),
        ("design", Assay, f.design.is_some()),
        ("procedure", Procedure, f.procedure.is_some()),
        ("tasks", Procedure, !f.tasks.is_empty()),
    ]
}

/// Converts a deserialized file into a protocol, recording every problem in `cx`.
pub(crate) fn convert(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Protocol> {
    let kind = header(f, cx);
    let references = references(f, cx);
    let calendar = calendar(f, cx);
    let phases = phases(f, cx);
    let day0_name = phases
        .iter()
        .find(|p| p.day0)
        .or(phases.first())
        .map(|p| p.name.clone());
    if let Some(kind) = kind {
        foreign_sections(f, cx, kind);
    }
    let steps = steps(f, cx, &phases);

    let kind = kind?;
    let body = match kind {
        ProtocolKind::Xenograft => {
            super::convert_xeno::xenograft(f, cx, &phases, day0_name.as_deref())
                .map(Body::Xenograft)
        }
        ProtocolKind::Derivation => derivation(f, cx).map(Body::Derivation),
        ProtocolKind::Assay => assay(f, cx).map(Body::Assay),
        ProtocolKind::Procedure => procedure(f, cx).map(Body::Procedure),
    };
    if cx.has_errors() {
        return None;
    }
    Some(Protocol {
        id: f.protocol.id.clone(),
        title: f.protocol.title.clone(),
        description: f.protocol.description.clone(),
        references,
        phases,
        steps,
        calendar,
        body: body?,
    })
}

/// The `[protocol]` header: checks the id and the title; returns the kind (`None` when unknown).
fn header(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<ProtocolKind> {
    let hdr = KeyPath::root().k("protocol");
    let kind = cx.choice(
        &f.protocol.kind,
        &hdr.k("kind"),
        "protocol kind",
        PROTOCOL_KINDS,
    );
    let id = &f.protocol.id;
    let id_ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-');
    if !id_ok {
        cx.error(
            &hdr.k("id"),
            format!(
                "invalid id `{id}`: use kebab-case (a-z, 0-9, '-'), it names the output folder"
            ),
        );
    }
    if f.protocol.title.trim().is_empty() {
        cx.error(&hdr.k("title"), "empty title");
    }
    kind
}

/// `[[references]]`, with unique ids.
fn references(f: &FileProtocol, cx: &mut Ctx<'_>) -> Vec<Reference> {
    let refs: Vec<Reference> = f
        .references
        .iter()
        .map(|r| Reference {
            id: r.id.clone(),
            citation: r.citation.clone(),
            url: r.url.clone(),
        })
        .collect();
    let names: Vec<_> = f
        .references
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), KeyPath::root().k("references").i(i).k("id")))
        .collect();
    cx.unique(&names, "reference");
    refs
}

/// `[calendar]`: the weekend policy and the holidays (defaults when absent).
fn calendar(f: &FileProtocol, cx: &mut Ctx<'_>) -> CalendarPolicy {
    let mut calendar = CalendarPolicy::default();
    if let Some(c) = &f.calendar {
        let at = KeyPath::root().k("calendar");
        if let Some(w) = &c.weekend {
            calendar.weekend = cx
                .choice(w, &at.k("weekend"), "weekend policy", WEEKEND_POLICIES)
                .unwrap_or_default();
        }
        for (i, h) in c.holidays.iter().enumerate() {
            match h.parse::<jiff::civil::Date>() {
                Ok(d) => calendar.holidays.push(d),
                Err(_) => cx.error(
                    &at.k("holidays").i(i),
                    format!("invalid date `{h}`; expected \"YYYY-MM-DD\""),
                ),
            }
        }
    }
    calendar
}

/// `[[phases]]`: unique names, at least one, at most one `day0`, each with one ending.
fn phases(f: &FileProtocol, cx: &mut Ctx<'_>) -> Vec<Phase> {
    let root = KeyPath::root();
    let pnames: Vec<_> = f
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), root.k("phases").i(i).k("name")))
        .collect();
    cx.unique(&pnames, "phase");
    if f.phases.is_empty() {
        cx.error(
            &root.k("protocol"),
            "no phases: add at least one [[phases]] with `duration-days` or `until`",
        );
    }
    let mut phases = Vec::new();
    let mut day0_seen = false;
    for (i, p) in f.phases.iter().enumerate() {
        let at = root.k("phases").i(i);
        if p.day0 {
            if day0_seen {
                cx.error(&at.k("day0"), "more than one phase has `day0 = true`");
            }
            day0_seen = true;
        }
        // A phase with an invalid end is kept (with a placeholder that never triggers further
        // checks) so references to it do not cascade into "unknown phase" errors; the error
        // already recorded prevents a protocol from being returned.
        let end = phase_end(f, cx, p, &at).unwrap_or(PhaseEnd::Fixed { days: u32::MAX });
        phases.push(Phase {
            name: p.name.clone(),
            end,
            day0: p.day0,
            description: p.description.clone(),
        });
    }
    phases
}

/// How a phase ends: exactly one of `duration-days` and `until`.
fn phase_end(f: &FileProtocol, cx: &mut Ctx<'_>, p: &FilePhase, at: &KeyPath) -> Option<PhaseEnd> {
    match (&p.duration_days, &p.until) {
        (Some(_), Some(_)) => {
            cx.error_key(
                &at.k("until"),
                format!(
                    "phase `{}` has both `duration-days` and `until`; keep one",
                    p.name
                ),
            );
            None
        }
        (None, None) => {
            cx.error(
                &at.k("name"),
                format!("phase `{}` needs `duration-days` or `until`", p.name),
            );
            None
        }
        (Some(d), None) => {
            if *d <= 0 || *d > limits::MAX_COUNT {
                cx.error(
                    &at.k("duration-days"),
                    if *d <= 0 {
                        format!("`duration-days` must be > 0, got {d}")
                    } else {
                        format!(
                            "`duration-days` must be at most {}, got {d}",
                            limits::MAX_COUNT
                        )
                    },
                );
                None
            } else {
                Some(PhaseEnd::Fixed { days: *d as u32 })
            }
        }
        (None, Some(u)) => Some(until_end(f, cx, u, &at.k("until"))),
    }
}

/// A phase that ends on a measurement window (`until`), on a defined measurement.
fn until_end(f: &FileProtocol, cx: &mut Ctx<'_>, u: &FileUntil, uat: &KeyPath) -> PhaseEnd {
    let min = cx.num(u.min, &uat.k("min"), Rule::NonNeg);
    let max = cx.num(u.max, &uat.k("max"), Rule::Pos);
    if min > max {
        cx.error(
            &uat.k("min"),
            format!("window min ({min}) is greater than max ({max})"),
        );
    }
    let wait = cx.count(u.max_wait_days, &uat.k("max-wait-days"), 1);
    let known = f.measurements.iter().any(|m| m.name == u.measurement);
    if !known {
        let hint = closest(
            &u.measurement,
            f.measurements.iter().map(|m| m.name.as_str()),
        )
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_else(|| "; define it in [[measurements]]".into());
        cx.error(
            &uat.k("measurement"),
            format!(
                "ending condition on undefined measurement `{}`{hint}",
                u.measurement
            ),
        );
    }
    PhaseEnd::Until {
        measurement: u.measurement.clone(),
        min,
        max,
        max_wait_days: wait,
    }
}

/// Kind-specific sections present for the wrong kind: an error (a warning with `--allow-unknown`).
fn foreign_sections(f: &FileProtocol, cx: &mut Ctx<'_>, kind: ProtocolKind) {
    let root = KeyPath::root();
    for (key, k, present) in kind_sections(f) {
        if present && k != kind {
            let msg = format!(
                "`{key}` is only used by {} protocols; kind `{}` would ignore it (remove it, or fix `kind`)",
                k.as_str(),
                kind.as_str()
            );
            if cx.allow_unknown {
                cx.warn_key(&root.k(key), format!("{msg}; ignored (--allow-unknown)"));
            } else {
                cx.error_key(&root.k(key), msg);
            }
        }
    }
}

/// `[[steps]]`: unique names; each with a kind, a phase, a schedule that fits it and a scope.
fn steps(f: &FileProtocol, cx: &mut Ctx<'_>, phases: &[Phase]) -> Vec<Step> {
    let root = KeyPath::root();
    let snames: Vec<_> = f
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), root.k("steps").i(i).k("name")))
        .collect();
    cx.unique(&snames, "step");
    let mut steps = Vec::new();
    for (i, s) in f.steps.iter().enumerate() {
        let at = root.k("steps").i(i);
        let kind = cx.choice_clone(&s.kind, &at.k("kind"), "step kind", EVENT_KINDS);
        let phase = resolve_phase(cx, &s.phase, &at.k("phase"), phases);
        let sched = cx.schedule(
            RawSchedule {
                day: s.day,
                frequency: s.frequency.as_deref(),
                weekdays: &s.weekdays,
                times: &s.times,
                start_day: s.start_day,
                end_day: s.end_day,
            },
            &at,
        );
        if let (Some(sc), Some(p)) = (&sched, &phase) {
            cx.fits_phase(sc, p, &at);
        }
        let scope = step_scope(f, cx, s, &at);
        if let (Some(kind), Some(phase), Some(schedule), Some(scope)) = (kind, phase, sched, scope)
        {
            steps.push(Step {
                name: s.name.clone(),
                kind,
                phase: phase.name,
                schedule,
                scope,
                details: s.details.clone(),
            });
        }
    }
    steps
}

/// Whom a step applies to: every animal, a defined cohort, or a defined arm of a cohort.
fn step_scope(f: &FileProtocol, cx: &mut Ctx<'_>, s: &FileStep, at: &KeyPath) -> Option<Scope> {
    match (&s.cohort, &s.arm) {
        (None, None) => Some(Scope::All),
        (None, Some(_)) => {
            cx.error_key(
                &at.k("arm"),
                "`arm` needs `cohort` (arm names are unique within a cohort)",
            );
            None
        }
        (Some(c), arm) => {
            let Some(coh) = f.cohorts.iter().find(|x| &x.name == c) else {
                let cohort_names: Vec<&str> = f.cohorts.iter().map(|c| c.name.as_str()).collect();
                undefined(cx, &at.k("cohort"), "cohort", c, &cohort_names);
                return None;
            };
            let Some(a) = arm else {
                return Some(Scope::Cohort(c.clone()));
            };
            let arms = coh.arms.as_ref().unwrap_or(&f.arms);
            let names: Vec<&str> = arms.iter().map(|x| x.name.as_str()).collect();
            if names.contains(&a.as_str()) {
                Some(Scope::Arm {
                    cohort: c.clone(),
                    arm: a.clone(),
                })
            } else {
                undefined(cx, &at.k("arm"), "arm", a, &names);
                None
            }
        }
    }
}

pub(crate) const EVENT_KINDS: &[(&str, EventKind)] = &[
    ("arrival", EventKind::Arrival),
    ("pellet-implant", EventKind::PelletImplant),
    ("pellet-removal", EventKind::PelletRemoval),
    ("implantation", EventKind::Implantation),
    ("randomization", EventKind::Randomization),
    ("dosing", EventKind::Dosing),
    ("caliper", EventKind::Caliper),
    ("body-weight", EventKind::BodyWeight),
    ("health-check", EventKind::HealthCheck),
    ("harvest", EventKind::Harvest),
    ("passage", EventKind::Passage),
    ("medium-change", EventKind::MediumChange),
    ("dose-escalation", EventKind::DoseEscalation),
    ("cloning", EventKind::Cloning),
    ("assay", EventKind::Assay),
    ("task", EventKind::Task),
];

/// `choice` needs Copy; EventKind is Clone only, so map through an index.
impl Ctx<'_> {
    fn choice_clone<T: Clone>(
        &mut self,
        s: &str,
        at: &KeyPath,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let idx: Vec<(&str, usize)> = options
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (*k, i))
            .collect();
        self.choice(s, at, what, &idx).map(|i| options[i].1.clone())
    }
}

/// Reports a reference to something undefined, with the closest defined name.
pub(crate) fn undefined(cx: &mut Ctx<'_>, at: &KeyPath, what: &str, name: &str, defined: &[&str]) {
    let hint = match closest(name, defined.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None if defined.is_empty() => format!("; no {what} is defined"),
        None => format!("; defined: {}", defined.join(", ")),
    };
    cx.error(at, format!("unknown {what} `{name}`{hint}"));
}

/// Looks up a phase by name, reporting an undefined reference.
pub(crate) fn resolve_phase(
    cx: &mut Ctx<'_>,
    name: &str,
    at: &KeyPath,
    phases: &[Phase],
) -> Option<Phase> {
    match phases.iter().find(|p| p.name == name) {
        Some(p) => Some(p.clone()),
        None => {
            let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
            undefined(cx, at, "phase", name, &names);
            None
        }
    }
}

/// Missing kind-specific section.
pub(crate) fn missing_section(cx: &mut Ctx<'_>, key: &str, kind: &str) {
    cx.error(
        &KeyPath::root().k("protocol").k("kind"),
        format!("kind = \"{kind}\" requires a `[{key}]` section"),
    );
}

// ---- in vitro ----

/// The plate design at `at` for `n_lines` lines; an impossible plate layout is an error at the
/// key that makes it so.
fn design(
    f: &FileAssayDesign,
    n_lines: usize,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
) -> Option<AssayDesign> {
    if f.doses_nm.is_empty() {
        cx.error(&at.k("doses-nm"), "`doses-nm` is empty");
    }
    for (i, d) in f.doses_nm.iter().enumerate() {
        cx.num(*d, &at.k("doses-nm").i(i), Rule::NonNeg);
    }
    let replicates = cx.count(f.replicates, &at.k("replicates"), 1);
    let duration_days = cx.days_num(f.duration_days, &at.k("duration-days"), Rule::Pos);
    let seeding_cells = cx.num(f.seeding_cells, &at.k("seeding-cells"), Rule::Pos);
    let plate_wells = cx.count(f.plate_wells, &at.k("plate-wells"), 1);
    if !matches!(plate_wells, 0 | 6 | 12 | 24 | 48 | 96 | 384 | 1536) {
        cx.error(
            &at.k("plate-wells"),
            format!("`plate-wells` must be 6, 12, 24, 48, 96, 384 or 1536, got {plate_wells}"),
        );
    }
    let readout = cx.choice(&f.readout, &at.k("readout"), "readout", READOUTS);
    let noise_cv = cx.sourced(&f.noise_cv, &at.k("noise-cv"), Rule::NonNeg);
    let edge_effect = cx.num(f.edge_effect, &at.k("edge-effect"), Rule::Prob);
    let default = PlateLayout::default();
    let edges = match &f.edge_wells {
        Some(e) => cx.choice(e, &at.k("edge-wells"), "edge-wells", EDGE_WELLS),
        None => Some(default.edges),
    };
    let arrangement = match &f.arrangement {
        Some(a) => cx.choice(a, &at.k("arrangement"), "arrangement", ARRANGEMENTS),
        None => Some(default.arrangement),
    };
    let blank_wells = f
        .blank_wells
        .map_or(0, |b| cx.count(b, &at.k("blank-wells"), 0));
    let design = AssayDesign {
        drug: f.drug.clone(),
        doses_nm: f.doses_nm.clone(),
        replicates,
        duration_days,
        seeding_cells,
        plate_wells,
        readout: readout?,
        noise_cv,
        edge_effect,
        layout: PlateLayout {
            edges: edges?,
            blank_wells,
            arrangement: arrangement?,
        },
    };
    if edge_effect > 0.0 && design.layout.edges == EdgeWells::Samples {
        cx.warn_key(
            &at.k("edge-effect"),
            format!(
                "samples sit in edge wells that lose {:.0}% of their signal; set edge-wells = \"pbs\" to leave the outer ring as PBS",
                100.0 * edge_effect
            ),
        );
    }
    if !f.doses_nm.is_empty() && plate_wells > 0 {
        layout_errors(&design, n_lines, cx, at);
    }
    Some(design)
}

/// An impossible plate layout ([`crate::protocol::plate_layout::plan`]) as an error at its key.
fn layout_errors(design: &AssayDesign, n_lines: usize, cx: &mut Ctx<'_>, at: &KeyPath) {
    use crate::protocol::plate_layout::{LayoutError, plan};
    if let Err(e) = plan(design, n_lines) {
        let key = match e {
            LayoutError::NoInnerWells { .. } => "edge-wells",
            LayoutError::BlanksFillPlate { .. } => "blank-wells",
            LayoutError::SeriesTooLong { .. } => "doses-nm",
            LayoutError::LineTooLarge { .. } => "replicates",
        };
        cx.error(&at.k(key), e.to_string());
    }
}

fn derivation(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Derivation> {
    let root = KeyPath::root();
    let (Some(d), Some(c), Some(m)) = (&f.derivation, &f.culture, &f.model) else {
        for (k, present) in [
            ("derivation", f.derivation.is_some()),
            ("culture", f.culture.is_some()),
            ("model", f.model.is_some()),
        ] {
            if !present {
                missing_section(cx, k, "derivation");
            }
        }
        return None;
    };
    let dat = root.k("derivation");
    let start = cx.sourced(
        &d.start_concentration_nm,
        &dat.k("start-concentration-nm"),
        Rule::Pos,
    );
    let duration_days = cx.count(d.duration_days, &dat.k("duration-days"), 1);
    let culture = culture(c, cx);
    let escalation = escalation(f, cx, start.value, duration_days);
    let cloning = f.cloning.as_ref().map(|cl| {
        let at = root.k("cloning");
        Cloning {
            clones: cx.count(cl.clones, &at.k("clones"), 1),
            expansion_days: cx.count(cl.expansion_days, &at.k("expansion-days"), 1),
        }
    });
    let validation = match &f.validation {
        // Parental and derived line.
        Some(v) => Some(design(v, 2, cx, &root.k("validation"))?),
        None => None,
    };
    let checks = f
        .validation
        .as_ref()
        .and_then(|v| validation_checks(v, duration_days, cx, &root.k("validation")));
    if let Some(v) = &validation
        && v.drug != d.drug
    {
        cx.error(
            &root.k("validation").k("drug"),
            format!(
                "validation drug `{}` differs from the selecting drug `{}`",
                v.drug, d.drug
            ),
        );
    }
    let model = derivation_model(m, cx);
    let split = f.split.as_ref().and_then(|sp| {
        let cfg = SplitCx {
            duration_days,
            start_nm: start.value,
            checks: checks.as_ref(),
        };
        split(sp, &cfg, cx)
    });
    let expected_time_to_resistance = d
        .expected_time_to_resistance_days
        .as_ref()
        .map(|r| day_range(r, cx, &dat.k("expected-time-to-resistance-days")));
    Some(Derivation {
        parental_line: d.parental_line.clone(),
        derived_line: d.derived_line.clone(),
        culture,
        drug: d.drug.clone(),
        start_concentration_nm: start,
        escalation,
        duration_days,
        cloning,
        validation,
        checks,
        split,
        expected_time_to_resistance,
        model,
    })
}

/// A cited range of days: 0 ≤ min ≤ max, with a source.
fn day_range(r: &FileDayRange, cx: &mut Ctx<'_>, at: &KeyPath) -> DayRange {
    let min = cx.days_num(r.min, &at.k("min"), Rule::NonNeg);
    let max = cx.days_num(r.max, &at.k("max"), Rule::Pos);
    if min > max {
        cx.error(
            &at.k("max"),
            format!("`max` = {max} is below `min` = {min}"),
        );
    }
    DayRange {
        min,
        max,
        source: cx.source(&r.source, &at.k("source")),
    }
}

/// What the `[split]` table is checked against.
struct SplitCx<'a> {
    duration_days: u32,
    start_nm: f64,
    checks: Option<&'a ValidationChecks>,
}

/// `[split]`: `day` (before the end of the derivation) or `at` (a milestone the checks can
/// reach), and at least one arm; fractions in (0, 1] summing to at most 1.
fn split(f: &FileSplit, cfg: &SplitCx<'_>, cx: &mut Ctx<'_>) -> Option<Split> {
    let at = KeyPath::root().k("split");
    let when = match (f.day, &f.at) {
        (Some(day), None) => {
            let day = cx.count(day, &at.k("day"), 1);
            if day >= cfg.duration_days && cfg.duration_days > 0 {
                cx.error(
                    &at.k("day"),
                    format!("split day {day} is not before the end of the derivation ({} days): the arms would have no day to run", cfg.duration_days),
                );
            }
            Some(SplitAt::Day(day))
        }
        (None, Some(m)) => {
            let a = cx.choice(m, &at.k("at"), "split milestone", SPLIT_MILESTONES);
            if a.is_some() && cfg.checks.is_none_or(|c| c.target_fold_shift.is_none()) {
                cx.error(
                    &at.k("at"),
                    "`at = \"target-fold-shift\"` needs IC50 checks with a target: add `check-every-days` and `target-fold-shift` to `[validation]`",
                );
            }
            a
        }
        _ => {
            cx.error(
                &at,
                "give exactly one of `day = N` or `at = \"target-fold-shift\"`",
            );
            None
        }
    };
    if f.arms.is_empty() {
        cx.error(&at, "`[split]` needs at least one `[[split.arms]]`");
    }
    let names: Vec<_> = f
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.clone(), at.k("arms").i(i).k("name")))
        .collect();
    cx.unique(&names, "arm");
    let equal = 1.0 / f.arms.len().max(1) as f64;
    let mut total = 0.0;
    let mut arms = Vec::new();
    for (i, a) in f.arms.iter().enumerate() {
        let aat = at.k("arms").i(i);
        let fraction = match a.fraction {
            Some(x) => cx.num(x, &aat.k("fraction"), Rule::PosProb),
            None => equal,
        };
        total += fraction;
        if total > 1.0 + 1e-9 && a.fraction.is_some() {
            cx.error(
                &aat.k("fraction"),
                format!("arm fractions add up to {total} so far; the arms share the cells at the split, at most 1 in all"),
            );
        }
        if let Some(kind) = arm_kind(a, cfg, cx, &aat) {
            arms.push(SplitArm {
                name: a.name.clone(),
                fraction,
                kind,
            });
        }
    }
    Some(Split { at: when?, arms })
}

/// An arm's kind and the keys that kind takes (keys of another kind are errors).
fn arm_kind(
    a: &FileSplitArm,
    cfg: &SplitCx<'_>,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
) -> Option<ArmKind> {
    let kind = a.kind.trim().to_ascii_lowercase();
    let own: &[&str] = match kind.as_str() {
        "continue" => &[],
        "holiday" => &["holiday-days", "rechallenge"],
        "escalate" => &["every-days", "concentrations-nm"],
        _ => {
            let hint = closest(&kind, ARM_KINDS.iter().copied()).map_or_else(
                || format!("; expected one of {}", ARM_KINDS.join(", ")),
                |c| format!("; did you mean `{c}`?"),
            );
            cx.error(
                &at.k("kind"),
                format!("unknown arm kind `{}`{hint}", a.kind),
            );
            return None;
        }
    };
    for (key, present) in [
        ("holiday-days", a.holiday_days.is_some()),
        ("rechallenge", a.rechallenge.is_some()),
        ("every-days", a.every_days.is_some()),
        ("concentrations-nm", a.concentrations_nm.is_some()),
    ] {
        if present && !own.contains(&key) {
            cx.error_key(
                &at.k(key),
                format!("`{key}` does not apply to a `{kind}` arm"),
            );
        }
    }
    match kind.as_str() {
        "holiday" => Some(holiday(a, cfg, cx, at)),
        "escalate" => escalate(a, cfg, cx, at),
        _ => Some(ArmKind::Continue),
    }
}

/// A holiday arm: days off drug within the derivation, optional re-challenge.
fn holiday(a: &FileSplitArm, cfg: &SplitCx<'_>, cx: &mut Ctx<'_>, at: &KeyPath) -> ArmKind {
    let days = a.holiday_days.map(|d| {
        let d = cx.count(d, &at.k("holiday-days"), 1);
        if d >= cfg.duration_days && cfg.duration_days > 0 {
            cx.error(
                &at.k("holiday-days"),
                format!("a holiday of {d} days does not end within the derivation ({} days); leave `holiday-days` out for a holiday to the end", cfg.duration_days),
            );
        }
        d
    });
    let rechallenge = a.rechallenge.unwrap_or(false);
    if rechallenge && days.is_none() {
        cx.error_key(
            &at.k("rechallenge"),
            "`rechallenge = true` needs `holiday-days`: the drug comes back when the holiday ends",
        );
    }
    ArmKind::Holiday { days, rechallenge }
}

/// An escalate arm: a step interval and increasing concentrations above the start.
fn escalate(
    a: &FileSplitArm,
    cfg: &SplitCx<'_>,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
) -> Option<ArmKind> {
    let (Some(every), Some(conc)) = (a.every_days, &a.concentrations_nm) else {
        cx.error(
            at,
            "an `escalate` arm needs `every-days` and `concentrations-nm`",
        );
        return None;
    };
    let every_days = cx.count(every, &at.k("every-days"), 1);
    if conc.is_empty() {
        cx.error(&at.k("concentrations-nm"), "`concentrations-nm` is empty");
    }
    let mut last = cfg.start_nm;
    for (i, c) in conc.iter().enumerate() {
        let c = cx.num(*c, &at.k("concentrations-nm").i(i), Rule::Pos);
        if c <= last {
            cx.error(
                &at.k("concentrations-nm").i(i),
                format!("{c} nM is not above the previous concentration ({last} nM)"),
            );
        }
        last = c;
    }
    Some(ArmKind::Escalate {
        every_days,
        concentrations_nm: conc.clone(),
    })
}

/// `[culture]` of a derivation: the medium, the vessel and the passaging rule.
fn culture(c: &FileCulture, cx: &mut Ctx<'_>) -> Culture {
    let cat = KeyPath::root().k("culture");
    if let Some(s) = c.substrate_nm {
        cx.num(s, &cat.k("substrate-nm"), Rule::Pos);
    }
    let culture = Culture {
        medium: c.medium.clone(),
        serum: c.serum.clone(),
        substrate: c.substrate.clone(),
        substrate_nm: c.substrate_nm,
        vessel: c.vessel.clone(),
        medium_ml: cx.num(c.medium_ml, &cat.k("medium-ml"), Rule::Pos),
        seeding_cells: cx.num(c.seeding_cells, &cat.k("seeding-cells"), Rule::Pos),
        confluent_cells: cx.num(c.confluent_cells, &cat.k("confluent-cells"), Rule::Pos),
        passage_at_confluence: cx.num(
            c.passage_at_confluence,
            &cat.k("passage-at-confluence"),
            Rule::PosProb,
        ),
        split_ratio: cx.num(c.split_ratio, &cat.k("split-ratio"), Rule::Pos),
        medium_change_days: cx.count(c.medium_change_days, &cat.k("medium-change-days"), 1),
    };
    if culture.split_ratio.is_finite() && culture.split_ratio < 1.0 {
        cx.error(
            &cat.k("split-ratio"),
            format!(
                "`split-ratio` must be ≥ 1 (1:N split), got {}",
                culture.split_ratio
            ),
        );
    }
    if culture.seeding_cells >= culture.confluent_cells {
        cx.error(
            &cat.k("seeding-cells"),
            "`seeding-cells` must be below `confluent-cells`",
        );
    }
    culture
}

/// `[[escalation]]`: concentrations strictly increasing from `start_nm`, each with one trigger.
fn escalation(
    f: &FileProtocol,
    cx: &mut Ctx<'_>,
    start_nm: f64,
    duration_days: u32,
) -> Vec<EscalationStep> {
    let root = KeyPath::root();
    let mut escalation = Vec::new();
    let mut last = start_nm;
    for (i, e) in f.escalation.iter().enumerate() {
        let at = root.k("escalation").i(i);
        let conc = cx.num(e.concentration_nm, &at.k("concentration-nm"), Rule::Pos);
        if conc <= last {
            cx.error(
                &at.k("concentration-nm"),
                format!(
                    "escalation to {conc} nM is not above the previous concentration ({last} nM)"
                ),
            );
        }
        last = conc;
        let trigger = escalation_trigger(e, cx, &at, duration_days);
        if let Some(trigger) = trigger {
            escalation.push(EscalationStep {
                concentration_nm: conc,
                trigger,
            });
        }
    }
    escalation
}

/// When an escalation step happens: on a day within the derivation, or once growth recovers.
fn escalation_trigger(
    e: &FileEscalation,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
    duration_days: u32,
) -> Option<EscalationTrigger> {
    match (e.day, e.until_doubling_h) {
        (Some(day), None) => {
            let day = cx.count(day, &at.k("day"), 0);
            if day > duration_days {
                cx.error(&at.k("day"), format!("escalation day {day} is after the end of the derivation ({duration_days} days)"));
            }
            Some(EscalationTrigger::Day(day))
        }
        (None, Some(h)) => Some(EscalationTrigger::GrowthRecovered {
            doubling_h: cx.num(h, &at.k("until-doubling-h"), Rule::Pos),
        }),
        _ => {
            cx.error(
                at,
                "give exactly one trigger: `day = N` or `until-doubling-h = H`",
            );
            None
        }
    }
}

/// `[model]` of a derivation: the sourced growth, death and sensitivity parameters.
fn derivation_model(m: &FileDerivationModel, cx: &mut Ctx<'_>) -> DerivationModel {
    let mat = KeyPath::root().k("model");
    let model = DerivationModel {
        doubling_h_with_e2: cx.sourced(
            &m.doubling_h_with_e2,
            &mat.k("doubling-h-with-e2"),
            Rule::Pos,
        ),
        doubling_h_without_e2: cx.sourced(
            &m.doubling_h_without_e2,
            &mat.k("doubling-h-without-e2"),
            Rule::Pos,
        ),
        death_rate_per_day: cx.sourced(
            &m.death_rate_per_day,
            &mat.k("death-rate-per-day"),
            Rule::NonNeg,
        ),
        ic50_sensitive_nm: cx.sourced(&m.ic50_sensitive_nm, &mat.k("ic50-sensitive-nm"), Rule::Pos),
        ic50_resistant_nm: cx.sourced(&m.ic50_resistant_nm, &mat.k("ic50-resistant-nm"), Rule::Pos),
        hill: cx.sourced(&m.hill, &mat.k("hill"), Rule::Pos),
        resistant_fraction: cx.sourced(
            &m.resistant_fraction,
            &mat.k("resistant-fraction"),
            Rule::Prob,
        ),
        switch_rate_per_division: cx.sourced(
            &m.switch_rate_per_division,
            &mat.k("switch-rate-per-division"),
            Rule::Prob,
        ),
        intermediate_ic50_factor: m
            .intermediate_ic50_factor
            .as_ref()
            .map(|x| cx.sourced(x, &mat.k("intermediate-ic50-factor"), Rule::Pos)),
        fitness_off_drug: m
            .fitness_off_drug
            .as_ref()
            .map(|x| cx.sourced(x, &mat.k("fitness-off-drug"), Rule::PosProb)),
        reversion_rate_per_division: m
            .reversion_rate_per_division
            .as_ref()
            .map(|x| cx.sourced(x, &mat.k("reversion-rate-per-division"), Rule::Prob)),
    };
    if model.ic50_resistant_nm.value < model.ic50_sensitive_nm.value {
        cx.error(
            &mat.k("ic50-resistant-nm").k("value"),
            "resistant IC50 is below the sensitive IC50",
        );
    }
    model
}

/// The IC50 check schedule of a derivation's `[validation]` (`None` without check keys): the
/// multiples of `check-every-days` merged with `check-days`, every day within
/// `1..=duration_days` and `check-days` strictly increasing.
fn validation_checks(
    f: &FileAssayDesign,
    duration_days: u32,
    cx: &mut Ctx<'_>,
    at: &KeyPath,
) -> Option<ValidationChecks> {
    if f.check_every_days.is_none() && f.check_days.is_none() {
        if f.target_fold_shift.is_some() {
            cx.warn_key(
                &at.k("target-fold-shift"),
                "`target-fold-shift` is read by the IC50 checks; add `check-every-days` or `check-days`",
            );
        }
        return None;
    }
    let mut days = Vec::new();
    if let Some(every) = f.check_every_days {
        let at = at.k("check-every-days");
        let every = cx.count(every, &at, 1);
        if duration_days > 0 && every > duration_days {
            cx.error(
                &at,
                format!("`check-every-days` = {every} is longer than the derivation ({duration_days} days): no check would run"),
            );
        } else if let Some(n) = duration_days.checked_div(every) {
            days.extend((1..=n).map(|k| k * every));
        }
    }
    if let Some(listed) = &f.check_days {
        days.extend(check_days(listed, duration_days, cx, &at.k("check-days")));
    }
    let target_fold_shift = f.target_fold_shift.map(|t| {
        let t = cx.num(t, &at.k("target-fold-shift"), Rule::Pos);
        if t.is_finite() && t > 0.0 && t <= 1.0 {
            cx.error(
                &at.k("target-fold-shift"),
                format!(
                    "`target-fold-shift` must be > 1 (derived IC50 above the parental), got {t}"
                ),
            );
        }
        t
    });
    days.sort_unstable();
    days.dedup();
    Some(ValidationChecks {
        days,
        target_fold_shift,
    })
}

/// `check-days`: each in `1..=duration_days`, strictly increasing (errors at the offending
/// element); the valid days.
fn check_days(listed: &[i64], duration_days: u32, cx: &mut Ctx<'_>, at: &KeyPath) -> Vec<u32> {
    if listed.is_empty() {
        cx.error(
            at,
            "`check-days` is empty; list days of the derivation, e.g. [28, 56, 84]",
        );
    }
    let mut days = Vec::new();
    let mut previous: Option<i64> = None;
    for (i, &day) in listed.iter().enumerate() {
        let el = at.i(i);
        if day < 1 {
            cx.error(
                &el,
                format!("check day {day} must be ≥ 1 (day 0 is the seeding)"),
            );
        } else if day > i64::from(duration_days) {
            cx.error(
                &el,
                format!(
                    "check day {day} is after the end of the derivation ({duration_days} days)"
                ),
            );
        } else if let Some(p) = previous.filter(|&p| day <= p) {
            let why = if day == p {
                "listed twice"
            } else {
                "not after the previous day"
            };
            cx.error(
                &el,
                format!("check day {day} is {why} ({p}); `check-days` must be strictly increasing"),
            );
        } else {
            days.push(day as u32);
        }
        // Compare with the largest day so far, so one bad value does not hide the next.
        previous = Some(previous.map_or(day, |p| p.max(day)));
    }
    days
}

fn assay(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Assay> {
    let root = KeyPath::root();
    let (Some(a), Some(d)) = (&f.assay, &f.design) else {
        for (k, present) in [("assay", f.assay.is_some()), ("design", f.design.is_some())] {
            if !present {
                missing_section(cx, k, "assay");
            }
        }
        return None;
    };
    if f.lines.is_empty() {
        cx.error(
            &root.k("protocol").k("kind"),
            "kind = \"assay\" requires at least one `[[lines]]`",
        );
    }
    let names: Vec<_> = f
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.clone(), root.k("lines").i(i).k("name")))
        .collect();
    cx.unique(&names, "line");
    let lines = f
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let at = root.k("lines").i(i);
            AssayLine {
                name: l.name.clone(),
                ic50_nm: cx.sourced(&l.ic50_nm, &at.k("ic50-nm"), Rule::Pos),
                hill: cx.sourced(&l.hill, &at.k("hill"), Rule::Pos),
                doubling_h: cx.sourced(&l.doubling_h, &at.k("doubling-h"), Rule::Pos),
                max_inhibition: cx.param(&l.max_inhibition, &at.k("max-inhibition"), Rule::Prob),
                between_experiment_log10_ic50_sd: match &l.between_experiment_log10_ic50_sd {
                    Some(f) => {
                        let key = at.k("between-experiment-log10-ic50-sd");
                        let sd = cx.sourced(f, &key, Rule::NonNeg);
                        // log10 units: 2 is a 100-fold SD, no longer one assay's line.
                        if sd.value > MAX_LOG10_IC50_SD {
                            cx.error(
                                &key.k("value"),
                                format!("`between-experiment-log10-ic50-sd` is in log10 units (0.2 = x/÷ 1.6 between experiments); {} is more than {MAX_LOG10_IC50_SD} (a 100-fold SD)", sd.value),
                            );
                        }
                        sd
                    }
                    None => Sourced::new(
                        DEFAULT_BETWEEN_EXPERIMENT_LOG10_IC50_SD,
                        DEFAULT_BETWEEN_EXPERIMENT_SOURCE,
                    ),
                },
            }
        })
        .collect();
    let design = design(d, f.lines.len(), cx, &root.k("design"))?;
    for (key, present) in [
        ("check-every-days", d.check_every_days.is_some()),
        ("check-days", d.check_days.is_some()),
        ("target-fold-shift", d.target_fold_shift.is_some()),
    ] {
        if present {
            cx.error_key(
                &root.k("design").k(key),
                format!("`{key}` belongs to a derivation's `[validation]` (IC50 checks on the deriving population); an assay protocol runs its plate once"),
            );
        }
    }
    Some(Assay {
        medium: a.medium.clone(),
        lines,
        design,
    })
}

fn procedure(f: &FileProtocol, cx: &mut Ctx<'_>) -> Option<Procedure> {
    let root = KeyPath::root();
    let Some(p) = &f.procedure else {
        missing_section(cx, "procedure", "procedure");
        return None;
    };
    if f.tasks.is_empty() {
        cx.error(
            &root.k("protocol").k("kind"),
            "kind = \"procedure\" requires at least one `[[tasks]]`",
        );
    }
    let samples = cx.count(p.samples, &root.k("procedure").k("samples"), 1);
    let names: Vec<_> = f
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), root.k("tasks").i(i).k("name")))
        .collect();
    cx.unique(&names, "task");
    let defined: Vec<&str> = f.tasks.iter().map(|t| t.name.as_str()).collect();
    let mut tasks = Vec::new();
    for (i, t) in f.tasks.iter().enumerate() {
        let at = root.k("tasks").i(i);
        let duration_days = cx.days_num(t.duration_days, &at.k("duration-days"), Rule::NonNeg);
        let hands_on_h = cx.num(t.hands_on_h, &at.k("hands-on-h"), Rule::NonNeg);
        for (j, a) in t.after.iter().enumerate() {
            if a == &t.name {
                cx.error(
                    &at.k("after").i(j),
                    format!("task `{a}` cannot depend on itself"),
                );
            } else if !defined.contains(&a.as_str()) {
                undefined(cx, &at.k("after").i(j), "task", a, &defined);
            }
        }
        tasks.push(Task {
            name: t.name.clone(),
            duration_days,
            after: t.after.clone(),
            hands_on_h,
            details: t.details.clone(),
        });
    }
    // Cycle detection (Kahn's algorithm) over known dependencies.
    if !cx.has_errors() {
        let idx: HashMap<&str, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        let mut indeg = vec![0usize; tasks.len()];
        for (i, t) in tasks.iter().enumerate() {
            indeg[i] = t
                .after
                .iter()
                .filter(|a| idx.contains_key(a.as_str()))
                .count();
        }
        let mut queue: Vec<usize> = (0..tasks.len()).filter(|&i| indeg[i] == 0).collect();
        let mut done = HashSet::new();
        while let Some(i) = queue.pop() {
            done.insert(i);
            for (j, t) in tasks.iter().enumerate() {
                if t.after.iter().any(|a| a == &tasks[i].name) {
                    indeg[j] -= 1;
                    if indeg[j] == 0 {
                        queue.push(j);
                    }
                }
            }
        }
        if let Some(i) = (0..tasks.len()).find(|i| !done.contains(i)) {
            cx.error(
                &root.k("tasks").i(i).k("after"),
                format!("dependency cycle through task `{}`", tasks[i].name),
            );
        }
    }
    Some(Procedure { tasks, samples })
}

// Shared with the xenograft converter.
pub(crate) use Rule as NumRule;

impl Ctx<'_> {
    pub(crate) fn n(&mut self, v: f64, at: &KeyPath, rule: NumRule) -> f64 {
        self.num(v, at, rule)
    }
    pub(crate) fn cnt(&mut self, v: i64, at: &KeyPath, min: i64) -> u32 {
        self.count(v, at, min)
    }
    pub(crate) fn src(&mut self, f: &FileSourced, at: &KeyPath, rule: NumRule) -> Sourced {
        self.sourced(f, at, rule)
    }
    pub(crate) fn par(&mut self, f: &FileParam, at: &KeyPath, rule: NumRule) -> Param {
        self.param(f, at, rule)
    }
    pub(crate) fn pick<T: Copy>(
        &mut self,
        s: &str,
        at: &KeyPath,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        Ctx::choice(self, s, at, what, options)
    }
    pub(crate) fn uniq(&mut self, names: &[(String, KeyPath)], what: &str) {
        self.unique(names, what)
    }
    pub(crate) fn sched(
        &mut self,
        frequency: &str,
        weekdays: &[String],
        times: &[String],
        start_day: Option<i64>,
        end_day: Option<i64>,
        at: &KeyPath,
    ) -> Option<Schedule> {
        self.schedule(
            RawSchedule {
                day: None,
                frequency: Some(frequency),
                weekdays,
                times,
                start_day,
                end_day,
            },
            at,
        )
    }
    pub(crate) fn fits(&mut self, s: &Schedule, phase: &Phase, at: &KeyPath) {
        self.fits_phase(s, phase, at)
    }
}

//! Exposure-driven effects on exponential growth without per-animal ODE steps.
//!
//! Under exponential growth each population's ln V changes at its per-capita rate
//! m·((1 − I(t))·r_base + r_add) − κ(t) (the engine's right-hand side), so from one visit to
//! the next ln V moves by the integral of that rate: the ODE is a quadrature. The drug's
//! concentration–time curve does not depend on the animal beyond one factor, dose (mg) over
//! volume (L) — body weight cancels for per-kg doses and volumes, and ka, ke, F are not
//! drawn per animal — so the unit curve of each arm's schedule ([`OneCompartment::unit_curve`])
//! is computed once per arm and weekday of study day 0, at Gauss–Legendre nodes between the
//! breaks where the effects switch (doses, on/off of direct effects, visits). The nodes are
//! placed adaptively for the typical animal: a piece is split until its 5-point rule and the
//! rule on its halves agree to [`TOL_PER_DAY`] for the Hill effect at EC50 × ¼, 1 and 4 (and
//! relatively for the concentration itself, the Simeoni-style kill k2·C). Per animal: one
//! Hill evaluation per node ([`emax_hill_sum`]), a sum per segment, one exp per visit.
//! The Hill integral of a whole visit depends on the animal only through e = EC50 / scale,
//! so it is also tabulated as a Chebyshev series in ln e around the typical animal
//! ([`HILL_SPAN`], accuracy [`HILL_TOL_PER_DAY`]); animals inside that range evaluate ~20
//! terms instead of ~200 nodes per visit, the others the nodes.
//! Direct effects, kill rates and the Bliss interaction are constant within a segment and
//! integrate exactly. Tested against the fixed-step RK4 it replaces (`sim::tests`).

use super::plan::{ArmPlan, EffectPlan, EvKind, MAX_TREAT};
use crate::model::effect::emax_hill_sum;
use crate::model::pk::{OneCompartment, PkState};
use crate::numeric::{Chebyshev, gauss_legendre_5};

/// Quadrature error allowed per day of the Hill-effect probes (fraction of the control rate
/// × day): far below the former RK4's ~1e-6 and any reported digit.
pub(crate) const TOL_PER_DAY: f64 = 1e-9;
/// Half-width in ln(EC50 / scale) of the Chebyshev tables around the typical animal: a
/// factor e³ ≈ 20 either way (EC50 CVs of 30–50% stay inside by > 6 SD).
const HILL_SPAN: f64 = 3.0;
/// Absolute error allowed per day of the visit's Hill integral from its Chebyshev series.
const HILL_TOL_PER_DAY: f64 = 1e-12;
/// Longest series tried; a visit whose integral needs more evaluates the nodes.
const HILL_MAX_TERMS: usize = 48;
/// Deepest bisection of a segment (2⁻²⁴ of a day ≈ 5 ms: never reached by smooth curves).
const MAX_DEPTH: u32 = 24;

/// A stretch between two breaks: constant on/off state of direct effects and of exposure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seg {
    /// Length, days.
    pub len: f64,
    /// Direct effects on (bit k = treatment k).
    pub on: u8,
    /// Exposure-driven treatments dosed at least once (concentration > 0 inside).
    pub active: u8,
    /// Node range in [`ExposureTable::w`].
    pub nodes: (u32, u32),
    /// ∫ unit concentration over the segment per treatment (ng/mL·day per mg/L of dose).
    pub c_int: [f64; MAX_TREAT],
}

/// Unit concentration curves of one arm for one weekday of study day 0, at quadrature nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ExposureTable {
    /// Segments from study day 0 to the last visit.
    pub segs: Vec<Seg>,
    /// Visit `vi` closes the segments `visit_end[vi − 1]..visit_end[vi]` (from 0 for vi = 0).
    pub visit_end: Vec<u32>,
    /// Quadrature weights, days.
    pub w: Vec<f64>,
    /// Unit concentration (ng/mL per mg/L of dose) per treatment at the nodes (empty when
    /// the treatment is not exposure-driven).
    pub c: [Vec<f64>; MAX_TREAT],
    /// Per visit and treatment: the visit's Hill integral Σ wⱼ·E(cⱼ; e) over its active
    /// segments as a series in ln e, e = EC50 / scale (`None`: not exposure/Hill, or no series
    /// reached the tolerance — evaluate the nodes).
    pub hill_visit: Vec<[Option<Chebyshev>; MAX_TREAT]>,
}

/// One animal's drug parameters as the quadrature reads them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnimalDrugs {
    /// Direct inhibition and kill per treatment.
    pub inh: [f64; MAX_TREAT],
    pub kill: [f64; MAX_TREAT],
    /// Emax, EC50 (ng/mL) and k2 (per ng/mL per day) of exposure-driven treatments.
    pub emax: [f64; MAX_TREAT],
    pub ec50: [f64; MAX_TREAT],
    pub k2: [f64; MAX_TREAT],
    /// Dose (mg) / volume (L): the factor from the unit curve to this animal's curve.
    pub scale: [f64; MAX_TREAT],
    /// ln(EC50 / scale): where this animal reads the visits' Hill series.
    pub ln_e: [f64; MAX_TREAT],
}

/// Growth rates and estrogen factors of one animal (constant over the treatment).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    pub r_base: f64,
    pub r_add: f64,
    /// Estrogen factor of the sensitive and resistant populations.
    pub ms: f64,
    pub mr: f64,
    /// Sensitivity of the resistant subclone, when there is one.
    pub sens: Option<f64>,
}

fn unit_pk(arm: &ArmPlan, k: usize) -> Option<OneCompartment> {
    let t = &arm.treats[k];
    match (t.effect, t.pk) {
        (EffectPlan::Exposure { .. }, Some(pk)) => Some(OneCompartment {
            ka: pk.ka,
            ke: pk.ke,
            volume_l: 1.0,
            bioavailability: pk.f,
            iv: pk.iv,
        }),
        _ => None,
    }
}

/// Probe integrands at `t` of the treatments in `probes` (unit PK, state at the segment
/// start `a`, typical scale, EC50 and Hill): Hill effects at EC50 × ¼, 1, 4 and the
/// concentration itself.
struct Probe {
    pk: OneCompartment,
    state: PkState,
    scale: f64,
    ec50: f64,
    hill: f64,
}

impl Probe {
    fn values(&self, a: f64, t: f64, out: &mut [f64; 4]) {
        let c = self.state.conc_after(&self.pk, t - a);
        for (o, f) in out.iter_mut().zip([0.25, 1.0, 4.0]) {
            *o = crate::model::effect::emax_hill(self.scale * c, 1.0, self.ec50 * f, self.hill);
        }
        out[3] = c;
    }
}

/// Probe integrals of up to [`MAX_TREAT`] treatments.
type Sums = [[f64; 4]; MAX_TREAT];

/// 5-point Gauss–Legendre integrals of the probes over [lo, hi] (`a`: segment start).
fn gl(probes: &[Probe], a: f64, lo: f64, hi: f64) -> Sums {
    let (m, h) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut s = [[0.0; 4]; MAX_TREAT];
    let mut v = [0.0; 4];
    for (p, sp) in probes.iter().zip(s.iter_mut()) {
        for &(x, wx) in &crate::numeric::GAUSS_LEGENDRE_5 {
            p.values(a, m + h * x, &mut v);
            for i in 0..4 {
                sp[i] += h * wx * v[i];
            }
        }
    }
    s
}

/// Splits [lo, hi] (its probe integrals `whole`) until the rule agrees with the rule on
/// the halves; appends the accepted pieces' nodes.
#[allow(clippy::too_many_arguments)]
fn refine(
    probes: &[Probe],
    a: f64,
    (lo, hi): (f64, f64),
    whole: &Sums,
    depth: u32,
    t: &mut Vec<f64>,
    w: &mut Vec<f64>,
) {
    let mid = 0.5 * (lo + hi);
    let (left, right) = (gl(probes, a, lo, mid), gl(probes, a, mid, hi));
    let ok = (0..probes.len()).all(|k| {
        let (q, l, r) = (&whole[k], &left[k], &right[k]);
        (0..3).all(|i| (q[i] - l[i] - r[i]).abs() <= TOL_PER_DAY * (hi - lo))
            && (q[3] - l[3] - r[3]).abs() <= TOL_PER_DAY * (l[3] + r[3]).abs()
    });
    if ok || depth >= MAX_DEPTH {
        gauss_legendre_5(lo, hi, t, w);
    } else {
        refine(probes, a, (lo, mid), &left, depth + 1, t, w);
        refine(probes, a, (mid, hi), &right, depth + 1, t, w);
    }
}

impl ExposureTable {
    /// The table of `arm` for the weekday index `wd0` of study day 0 with treatment visits
    /// `visits` (study days); `typ_scale[k]` is the typical animal's dose/volume factor.
    pub(crate) fn build(arm: &ArmPlan, wd0: usize, visits: &[u32], typ_scale: &[f64]) -> Self {
        let events = &arm.events[wd0];
        let last = visits.last().map_or(0.0, |&v| f64::from(v));
        let mut breaks: Vec<f64> = std::iter::once(0.0)
            .chain(visits.iter().map(|&v| f64::from(v)))
            .chain(
                events
                    .iter()
                    .map(|e| e.t)
                    .filter(|&t| (0.0..=last).contains(&t)),
            )
            .collect();
        breaks.sort_by(f64::total_cmp);
        breaks.dedup();
        let pks: Vec<Option<OneCompartment>> =
            (0..arm.treats.len()).map(|k| unit_pk(arm, k)).collect();
        let mut tab = ExposureTable::default();
        let mut nodes: Vec<f64> = Vec::new();
        let mut states = [PkState::default(); MAX_TREAT];
        let (mut on, mut active, mut ei, mut ts) = (0u8, 0u8, 0, 0.0);
        for win in breaks.windows(2) {
            let (a, b) = (win[0], win[1]);
            while ei < events.len() && events[ei].t <= a {
                let ev = events[ei];
                // Every state is kept at the time of the last event.
                for (st, pk) in states.iter_mut().zip(&pks) {
                    if let Some(pk) = pk {
                        *st = st.after(pk, ev.t - ts);
                    }
                }
                ts = ev.t;
                match ev.kind {
                    EvKind::Dose(k) => {
                        if let Some(pk) = &pks[k as usize] {
                            states[k as usize].dose(pk, 1.0);
                            active |= 1 << k;
                        }
                    }
                    EvKind::On(k) => on |= 1 << k,
                    EvKind::Off(k) => on &= !(1 << k),
                }
                ei += 1;
            }
            let probes: Vec<Probe> = pks
                .iter()
                .enumerate()
                .filter(|(k, _)| active & (1 << k) != 0)
                .filter_map(|(k, pk)| {
                    let (EffectPlan::Exposure { ec50, hill, .. }, Some(pk)) =
                        (arm.treats[k].effect, pk)
                    else {
                        return None;
                    };
                    Some(Probe {
                        pk: *pk,
                        state: states[k].after(pk, a - ts),
                        scale: typ_scale[k],
                        ec50: ec50.typ.max(1e-12),
                        hill,
                    })
                })
                .collect();
            let n0 = tab.w.len();
            if !probes.is_empty() {
                let whole = gl(&probes, a, a, b);
                refine(&probes, a, (a, b), &whole, 0, &mut nodes, &mut tab.w);
            }
            tab.segs.push(Seg {
                len: b - a,
                on,
                active,
                nodes: (n0 as u32, tab.w.len() as u32),
                c_int: [0.0; MAX_TREAT],
            });
        }
        // Unit curves at the nodes (sorted: segments are in order), from the dose times.
        for (k, pk) in pks.iter().enumerate() {
            if let Some(pk) = pk {
                let doses: Vec<f64> = events
                    .iter()
                    .filter(|e| matches!(e.kind, EvKind::Dose(j) if j as usize == k))
                    .map(|e| e.t)
                    .collect();
                tab.c[k] = pk.unit_curve(&doses, &nodes);
                for s in &mut tab.segs {
                    let r = s.nodes.0 as usize..s.nodes.1 as usize;
                    s.c_int[k] = tab.w[r.clone()]
                        .iter()
                        .zip(&tab.c[k][r])
                        .map(|(w, c)| w * c)
                        .sum();
                }
            }
        }
        let mut end = 0;
        for &v in visits {
            let v = f64::from(v);
            while end < tab.segs.len() && breaks[end + 1] <= v {
                end += 1;
            }
            tab.visit_end.push(end as u32);
        }
        tab.hill_visit = (0..visits.len())
            .map(|vi| std::array::from_fn(|k| tab.hill_series(arm, vi, k, typ_scale)))
            .collect();
        tab
    }

    /// Segments closed by visit `vi`.
    fn visit_segs(&self, vi: usize) -> std::ops::Range<usize> {
        let s0 = if vi == 0 {
            0
        } else {
            self.visit_end[vi - 1] as usize
        };
        s0..self.visit_end[vi] as usize
    }

    /// The Chebyshev series of visit `vi`'s Hill integral of treatment `k` in ln e around
    /// the typical animal, when `k` is exposure-driven through a Hill effect.
    fn hill_series(
        &self,
        arm: &ArmPlan,
        vi: usize,
        k: usize,
        typ_scale: &[f64],
    ) -> Option<Chebyshev> {
        let t = arm.treats.get(k)?;
        let EffectPlan::Exposure {
            ec50,
            hill,
            k2: None,
            ..
        } = t.effect
        else {
            return None;
        };
        let scale = *typ_scale.get(k)?;
        if self.c[k].is_empty() || scale <= 0.0 || ec50.typ <= 0.0 {
            return None;
        }
        let segs = &self.segs[self.visit_segs(vi)];
        let days: f64 = segs.iter().map(|s| s.len).sum();
        let integral = |u: f64| -> f64 {
            segs.iter()
                .filter(|s| s.active & (1 << k) != 0)
                .map(|s| {
                    let n = s.nodes.0 as usize..s.nodes.1 as usize;
                    emax_hill_sum(&self.w[n.clone()], &self.c[k][n], 1.0, 1.0, u.exp(), hill)
                })
                .sum()
        };
        let mid = (ec50.typ / scale).ln();
        Chebyshev::fit(
            integral,
            (mid - HILL_SPAN, mid + HILL_SPAN),
            HILL_MAX_TERMS,
            HILL_TOL_PER_DAY * days.max(1.0),
        )
    }

    /// Increments of ln V of the sensitive and resistant populations from visit `vi − 1`
    /// (study day 0 for the first visit) to visit `vi`.
    pub(crate) fn delta_ln(
        &self,
        vi: usize,
        arm: &ArmPlan,
        d: &AnimalDrugs,
        r: &Rates,
    ) -> (f64, f64) {
        let sens = r.sens.unwrap_or(0.0);
        // The Hill sums only matter when some population grows.
        let growth = r.ms != 0.0 || (r.sens.is_some() && r.mr != 0.0);
        // Hill integrals read from the visit's series (the rate is linear in them).
        let series = &self.hill_visit[vi];
        let from_series = |k: usize| {
            series[k].as_ref().filter(|c| {
                let (lo, hi) = c.domain();
                (lo..=hi).contains(&d.ln_e[k])
            })
        };
        let mut hill_total = 0.0;
        if growth {
            for k in 0..arm.treats.len() {
                if d.emax[k] > 0.0
                    && d.scale[k] > 0.0
                    && let Some(c) = from_series(k)
                {
                    hill_total += d.emax[k] * c.eval(d.ln_e[k]);
                }
            }
        }
        let (mut ds, mut dr) = (0.0, 0.0);
        for seg in &self.segs[self.visit_segs(vi)] {
            let l = seg.len;
            let (mut inh, mut kill, mut acting) = (0.0, 0.0, 0);
            for (k, tp) in arm.treats.iter().enumerate() {
                match tp.effect {
                    EffectPlan::None => {}
                    EffectPlan::Direct { .. } => {
                        if seg.on & (1 << k) != 0 {
                            inh += d.inh[k] * l;
                            kill += d.kill[k] * l;
                            if d.inh[k] > 0.0 || d.kill[k] > 0.0 {
                                acting += 1;
                            }
                        }
                    }
                    EffectPlan::Exposure { hill, k2, .. } => {
                        if seg.active & (1 << k) == 0 {
                            continue;
                        }
                        if k2.is_some() {
                            kill += d.k2[k] * d.scale[k] * seg.c_int[k];
                            if d.k2[k] > 0.0 && d.scale[k] > 0.0 {
                                acting += 1;
                            }
                        } else if d.emax[k] > 0.0 && d.scale[k] > 0.0 {
                            acting += 1;
                            if growth && from_series(k).is_none() {
                                let n = seg.nodes.0 as usize..seg.nodes.1 as usize;
                                inh += emax_hill_sum(
                                    &self.w[n.clone()],
                                    &self.c[k][n],
                                    d.scale[k],
                                    d.emax[k],
                                    d.ec50[k],
                                    hill,
                                );
                            }
                        }
                    }
                }
            }
            // Bliss on rates: inhibitions add; the interaction acts while two agents act.
            let extra = if acting >= 2 {
                arm.interaction * l
            } else {
                0.0
            };
            ds += r.ms * (r.r_base * (l - inh - extra) + r.r_add * l) - kill;
            if r.sens.is_some() {
                dr += r.mr * (r.r_base * (l - sens * inh - extra) + r.r_add * l) - sens * kill;
            }
        }
        ds -= r.ms * r.r_base * hill_total;
        if r.sens.is_some() {
            dr -= r.mr * r.r_base * sens * hill_total;
        }
        (ds, dr)
    }
}

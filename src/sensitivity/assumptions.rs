//! The assumptions of a sensitivity analysis: what each moves, the defaults for a model, and
//! their low and high models.

use super::parameters::{apply_change, parameter_value, Change};
use crate::demand::Model;
use crate::error::Result;

/// What an assumption moves.
#[derive(Debug, Clone, PartialEq)]
pub enum Moves {
    /// One model parameter, by its path (see [`parameters`](super::parameters())), moved by a [`Change`] each way.
    Parameter {
        /// Parameter path, e.g. `"noise.sigma"`.
        path: String,
        /// The low setting.
        low: Change,
        /// The high setting.
        high: Change,
    },
    /// Two complete models: the low and the high setting (for moves that no single
    /// parameter describes, e.g. another seasonality profile).
    Models {
        /// The model of the low run.
        low: Box<Model>,
        /// The model of the high run.
        high: Box<Model>,
    },
}

/// One assumption of a sensitivity analysis: a name, and its low and high settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// Name shown in tables and charts, e.g. "Partner noise".
    pub name: String,
    /// How the low setting is described, e.g. "−25%".
    pub low_label: String,
    /// How the high setting is described, e.g. "+25%".
    pub high_label: String,
    /// What moves.
    pub moves: Moves,
}

impl Assumption {
    /// Move the parameter at `path` (see [`parameters`](super::parameters())) by `low` and `high`; the labels
    /// describe the changes ("−50%", "+5 pp", "off", "= 0.3").
    pub fn parameter(
        name: impl Into<String>,
        path: impl Into<String>,
        low: Change,
        high: Change,
    ) -> Assumption {
        let path = path.into();
        Assumption {
            name: name.into(),
            low_label: low.label(&path),
            high_label: high.label(&path),
            moves: Moves::Parameter { path, low, high },
        }
    }

    /// Use two complete models as the low and the high setting.
    pub fn models(
        name: impl Into<String>,
        low_label: impl Into<String>,
        high_label: impl Into<String>,
        low: Model,
        high: Model,
    ) -> Assumption {
        Assumption {
            name: name.into(),
            low_label: low_label.into(),
            high_label: high_label.into(),
            moves: Moves::Models {
                low: Box::new(low),
                high: Box::new(high),
            },
        }
    }

    /// Replace the labels of the low and high settings.
    pub fn with_labels(mut self, low: impl Into<String>, high: impl Into<String>) -> Assumption {
        self.low_label = low.into();
        self.high_label = high.into();
        self
    }
}

/// The default assumptions for `model`: every demand and behaviour mechanism the model
/// switches on (an assumption that would not move the model is left out):
///
/// | assumption | parameter | low | high |
/// |---|---|---|---|
/// | Market volatility | `market.sigma` | −50% | +50% |
/// | Segment factor | `segment_factor.sigma` | −50% | +50% |
/// | Partner factor | `partner_factor.sigma` | −25% | +25% |
/// | Partner noise | `noise.sigma` | −25% | +25% |
/// | Trend | `growth.rate` | −5 pp | +5 pp |
/// | Churn | `churn.monthly_hazard` | −50% | +50% |
/// | Returns | `returns.share` | −50% | +50% |
/// | Categories per order | `orders.categories_per_order` | −25% (at least 1) | +25% |
/// | Orders by size | `orders.size_elasticity` | −0.25 | +0.25 |
/// | Stretch probability | `behaviour.stretch.max_probability` | off (0) | ×1.5 (at most 1) |
/// | Stretch window | `behaviour.stretch.window_months` | 1 month | ×1.5 (rounded, at most 12) |
/// | Pull-forward | `behaviour.pull_forward.share` | off (0) | ×1.5 (at most 1) |
/// | Uplift elasticity | `behaviour.uplift.elasticity` | off (0) | ×1.5 |
///
/// Trend is always included (it moves demand even from 0). The stretch, window and
/// pull-forward assumptions are included only when stretch is enabled; categories per order
/// and orders by size only when the model sets them (without them every order carries all
/// of a partner's categories, and order counts do not depend on size: nothing to move).
pub fn default_assumptions(model: &Model) -> Vec<Assumption> {
    use Change::*;
    let stretch = model.behaviour.stretch.enabled;
    let candidates = vec![
        (
            true,
            Assumption::parameter("Market volatility", "market.sigma", Scale(0.5), Scale(1.5)),
        ),
        (
            true,
            Assumption::parameter(
                "Segment factor",
                "segment_factor.sigma",
                Scale(0.5),
                Scale(1.5),
            ),
        ),
        (
            true,
            Assumption::parameter(
                "Partner factor",
                "partner_factor.sigma",
                Scale(0.75),
                Scale(1.25),
            ),
        ),
        (
            model.orders.size_elasticity.is_some(),
            Assumption::parameter(
                "Orders by size",
                "orders.size_elasticity",
                Add(-0.25),
                Add(0.25),
            ),
        ),
        (
            true,
            Assumption::parameter("Partner noise", "noise.sigma", Scale(0.75), Scale(1.25)),
        ),
        (
            true,
            Assumption::parameter("Trend", "growth.rate", Add(-0.05), Add(0.05)),
        ),
        (
            true,
            Assumption::parameter("Churn", "churn.monthly_hazard", Scale(0.5), Scale(1.5)),
        ),
        (
            true,
            Assumption::parameter("Returns", "returns.share", Scale(0.5), Scale(1.5)),
        ),
        (
            model.orders.categories_per_order.is_some(),
            Assumption::parameter(
                "Categories per order",
                "orders.categories_per_order",
                Scale(0.75),
                Scale(1.25),
            ),
        ),
        (
            model.orders.size_elasticity.is_some(),
            Assumption::parameter(
                "Orders by size",
                "orders.size_elasticity",
                Add(-0.25),
                Add(0.25),
            ),
        ),
        (
            stretch,
            Assumption::parameter(
                "Stretch probability",
                "behaviour.stretch.max_probability",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
        (
            stretch,
            Assumption::parameter(
                "Stretch window",
                "behaviour.stretch.window_months",
                Set(1.0),
                Scale(1.5),
            )
            .with_labels("1 month", "×1.5"),
        ),
        (
            stretch,
            Assumption::parameter(
                "Pull-forward",
                "behaviour.pull_forward.share",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
        (
            true,
            Assumption::parameter(
                "Uplift elasticity",
                "behaviour.uplift.elasticity",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
    ];
    candidates
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, a)| a)
        .filter(|a| match resolve(model, a) {
            Ok(r) => !(r.low == *model && r.high == *model),
            Err(_) => false,
        })
        .collect()
}

/// An assumption resolved against the base model: the low and high models, and the parameter
/// moved with its base, low and high values.
pub(super) struct Resolved {
    /// The model of the low run.
    pub low: Model,
    /// The model of the high run.
    pub high: Model,
    /// The parameter moved (`None` for two complete models).
    pub parameter: Option<String>,
    /// The parameter's (base, low, high) values.
    pub values: Option<(f64, f64, f64)>,
    /// Under parameter draws: each draw moved as the low setting moves the model (empty
    /// without draws).
    pub low_draws: Vec<Model>,
    /// Each draw moved as the high setting moves the model (empty without draws).
    pub high_draws: Vec<Model>,
}

/// The low and high models of assumption `a` on `model`; errors as [`apply_change`].
pub(super) fn resolve(model: &Model, a: &Assumption) -> Result<Resolved> {
    Ok(match &a.moves {
        Moves::Parameter { path, low, high } => {
            let lo = apply_change(model, path, *low)?;
            let hi = apply_change(model, path, *high)?;
            let values = (
                parameter_value(model, path)?,
                parameter_value(&lo, path)?,
                parameter_value(&hi, path)?,
            );
            Resolved {
                low: lo,
                high: hi,
                parameter: Some(path.clone()),
                values: Some(values),
                low_draws: Vec::new(),
                high_draws: Vec::new(),
            }
        }
        Moves::Models { low, high } => Resolved {
            low: (**low).clone(),
            high: (**high).clone(),
            parameter: None,
            values: None,
            low_draws: Vec::new(),
            high_draws: Vec::new(),
        },
    })
}

/// Under parameter draws, assumption `a`'s low and high settings of every draw: the same
/// [`Change`] applied to each draw's own value (a scale multiplies it, an addition adds to
/// it, so the draws keep their spread around the moved value; a set gives every draw the
/// same value, so that parameter no longer varies across draws in that run). An assumption
/// given as two complete models is refused: the draws replace the model in every scenario,
/// so its two models would not be run. Errors name the draw.
pub(super) fn resolve_draws(r: &mut Resolved, a: &Assumption, draws: &[Model]) -> Result<()> {
    let (path, low, high) = match &a.moves {
        Moves::Parameter { path, low, high } => (path, *low, *high),
        Moves::Models { .. } => {
            return Err(crate::error::Error::Request(
                "an assumption given as two complete models cannot be combined with parameter \
                 draws (each scenario runs under a draw, not the model): move a parameter \
                 instead, or run without parameter draws"
                    .into(),
            ))
        }
    };
    let moved = |change: Change| -> Result<Vec<Model>> {
        draws
            .iter()
            .enumerate()
            .map(|(k, d)| {
                apply_change(d, path, change).map_err(|e| match e {
                    crate::error::Error::Request(m) => {
                        crate::error::Error::Request(format!("parameter draw {k}: {m}"))
                    }
                    other => other,
                })
            })
            .collect()
    };
    r.low_draws = moved(low)?;
    r.high_draws = moved(high)?;
    Ok(())
}

//! The line categories of a run and how the programme sees them, computed once by
//! [`super::setup::Setup::new`]: each partner's shares, each component's scope over the
//! categories, and the categories grouped by the logistics components that count them.

use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rules::{Prepared, PreparedRule};

/// Line categories and each partner's shares of them (`partners × categories`): from the
/// partner table's mix columns, else the model's `category_mix`, else none (one
/// uncategorised line, share 1). Purchases are split by category whenever shares are known
/// (so that demand does not depend on the programme); a programme that measures categories
/// needs them.
pub(super) fn line_categories(
    p: &Compiled,
    pop: &Population,
    model: &Model,
) -> Result<(Vec<String>, Vec<f64>)> {
    let n = pop.len();
    // line categories and shares: purchases are split by category whenever shares are known
    // (so that demand does not depend on the programme); a programme that measures
    // categories needs them
    let (cats, mix): (Vec<String>, Vec<f64>) = if !pop.categories.is_empty() {
        (pop.categories.clone(), pop.mix.clone())
    } else if !model.economics.category_mix.is_empty() {
        let cats: Vec<String> = model.economics.category_mix.keys().cloned().collect();
        let row: Vec<f64> = cats
            .iter()
            .map(|c| model.economics.category_mix[c])
            .collect();
        let mut mix = Vec::with_capacity(n * cats.len());
        for _ in 0..n {
            mix.extend_from_slice(&row);
        }
        (cats, mix)
    } else if p.needs_categories() {
        return Err(Error::model(
            "economics.category_mix",
            "the programme measures product categories, but the partner table has no mix_<category> columns and the model gives no category_mix",
        ));
    } else {
        (Vec::new(), vec![1.0; n])
    };
    Ok((cats, mix))
}

/// Per component and line category (`components × max(1, categories)`): `None` when the
/// category is outside the component's scope, else its bundle index (0 for other rules).
pub(super) fn scope_of_categories(
    p: &Compiled,
    prep: &Prepared<f64>,
    cats: &[String],
) -> Result<Vec<Option<u32>>> {
    let category_count = cats.len().max(1);
    let mut category_scope = vec![None; prep.components.len() * category_count];
    for (c, comp) in p.components.iter().enumerate() {
        let listed: Vec<&String> = match (&comp.scope.categories, &prep.components[c].rule) {
            (_, PreparedRule::Bundle { categories, .. }) => categories.iter().collect(),
            (Some(cs), _) => cs.iter().collect(),
            (None, _) => Vec::new(),
        };
        for cat in &listed {
            if !cats.iter().any(|x| x == *cat) {
                return Err(Error::model(
                    "economics.category_mix",
                    format!(
                        "component '{}' uses category '{cat}', which has no share in the partner table's mix_ columns or the model's category_mix (known: {})",
                        comp.id,
                        cats.join(", ")
                    ),
                ));
            }
        }
        if cats.is_empty() {
            category_scope[c] = comp.scope.includes_category(None).then_some(0);
            continue;
        }
        for (j, cat) in cats.iter().enumerate() {
            let in_scope = comp.scope.includes_category(Some(cat));
            category_scope[c * category_count + j] = match &prep.components[c].rule {
                PreparedRule::Bundle { categories, .. } => categories
                    .iter()
                    .position(|x| x == cat)
                    .filter(|_| in_scope)
                    .map(|b| b as u32),
                _ => in_scope.then_some(0),
            };
        }
    }
    Ok(category_scope)
}

/// [`Setup::order_group`](super::setup::Setup::order_group), the number of groups and
/// [`Setup::group_in`](super::setup::Setup::group_in): the categories
/// grouped by the set of logistics components whose scope includes them, groups numbered
/// in the order of their first category.
pub(super) fn order_groups(
    prep: &Prepared<f64>,
    category_scope: &[Option<u32>],
    category_count: usize,
) -> (Vec<u32>, usize, Vec<bool>) {
    let logistics: Vec<usize> = (0..prep.components.len())
        .filter(|&c| matches!(prep.components[c].rule, PreparedRule::Logistics { .. }))
        .collect();
    let mut keys: Vec<Vec<bool>> = Vec::new();
    let mut group = Vec::with_capacity(category_count);
    for j in 0..category_count {
        let key: Vec<bool> = logistics
            .iter()
            .map(|&c| category_scope[c * category_count + j].is_some())
            .collect();
        let g = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        group.push(g as u32);
    }
    let groups = keys.len();
    let mut group_in = vec![false; prep.components.len() * groups];
    for (x, &c) in logistics.iter().enumerate() {
        for (g, key) in keys.iter().enumerate() {
            group_in[c * groups + g] = key[x];
        }
    }
    (group, groups, group_in)
}

//! Orders that grow with the partner's size (`orders.size_elasticity`, opt-in): a partner's
//! mean number of orders a buying month is its segment's `per_month` times
//! `(L / size_reference)^b`, `L` its monthly demand level of the year — its `demand_revenue`
//! (else baseline revenue) / 12 times the scenario's segment and partner factors, the level its
//! months are drawn around; in the forecast's conditioned run the level given its actuals
//! (docs/simulation.md, "Orders that grow with the partner's size"). One hook,
//! [`Setup::partner_orders`], called where the engine and the conditioned run start a
//! partner's orders; without the option it returns the segment's mean untouched (the same
//! bits as before).

use super::setup::Setup;

impl Setup<'_> {
    /// The mean orders a month of a partner of monthly level `level`, given its segment's
    /// `mean`: `mean · (level / ref)^b` (at most [`crate::limits::MAX_ORDERS_PER_MONTH`]) with
    /// the model's size law, else `mean`.
    #[inline]
    pub(crate) fn partner_orders(&self, level: f64, mean: f64) -> f64 {
        match self.order_size {
            Some((b, reference)) if level > 0.0 => {
                (mean * (level / reference).powf(b)).min(crate::limits::MAX_ORDERS_PER_MONTH)
            }
            _ => mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::Model;
    use crate::document::Format;
    use crate::population::Population;

    #[test]
    fn the_mean_scales_with_the_level_to_the_power_b() {
        let p = crate::engine::test_programmes::pallet_programme();
        // baselines 12,000 and 48,000 a year: monthly levels 1,000 and 4,000
        let pop = Population::from_csv_str(
            "partner_id,segment,baseline_revenue,unit_price\na,s,12000,10\nb,s,48000,10\n",
            "partners.csv",
        )
        .unwrap();
        let setup_of = |text: &str| {
            let model = Model::from_str(text, Format::Toml, None).unwrap();
            Setup::new(&p, &pop, &model).unwrap().order_size
        };
        let law =
            setup_of("[orders]\nper_month = 2\nsize_elasticity = 0.5\nsize_reference = 1000\n");
        assert_eq!(law, Some((0.5, 1000.0)));
        let model = Model::from_str(
            "[orders]\nper_month = 2\nsize_elasticity = 0.5\nsize_reference = 1000\n",
            Format::Toml,
            None,
        )
        .unwrap();
        let s = Setup::new(&p, &pop, &model).unwrap();
        assert_eq!(s.partner_orders(s.partners[0].base_month, 2.0), 2.0);
        // 2 · (4000 / 1000)^0.5 = 4
        assert!((s.partner_orders(s.partners[1].base_month, 2.0) - 4.0).abs() < 1e-12);
        assert_eq!(s.partner_orders(0.0, 2.0), 2.0);
        // absent, or b = 0: the segment's mean, untouched
        assert_eq!(setup_of("[orders]\nper_month = 2\n"), None);
        assert_eq!(
            setup_of("[orders]\nper_month = 2\nsize_elasticity = 0\nsize_reference = 1000\n"),
            None
        );
    }

    #[test]
    fn the_law_needs_its_reference() {
        let bad = |text: &str| {
            Model::from_str(text, Format::Toml, None)
                .unwrap_err()
                .to_string()
        };
        assert!(bad("[orders]\nsize_elasticity = 0.5\n").contains("orders.size_reference"));
        assert!(bad("[orders]\nsize_reference = 100\n").contains("orders.size_reference"));
        assert!(bad("[orders]\nsize_elasticity = 0.5\nsize_reference = 0\n")
            .contains("orders.size_reference"));
        assert!(bad("[orders]\nsize_elasticity = 4\nsize_reference = 10\n")
            .contains("orders.size_elasticity"));
    }
}

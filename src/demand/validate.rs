//! The checks of a demand model ([`Model::validate`], [`Model::check_segments`]): every
//! parameter's range, section by section in a fixed order (the first error found is the one
//! reported), and that every segment named in an override exists in the population.

use super::{in_range, MarketProcess, Model, Seasonality};
use crate::error::{Error, FieldError, Result};

impl Model {
    /// Check every parameter's range. Errors name the field path, e.g. `noise.segments.small`.
    pub fn validate(&self) -> Result<()> {
        self.check_seasonality()?;
        self.growth
            .check("growth", -0.99, 100.0, "an annual growth fraction")?;
        self.check_market()?;
        self.segment_factor
            .check("segment_factor", 0.0, 3.0, "a log-scale σ")?;
        self.partner_factor
            .check("partner_factor", 0.0, 3.0, "a log-scale σ")?;
        self.noise.check("noise", 0.0, 3.0, "a log-scale σ")?;
        self.churn
            .check("churn", 0.0, 1.0, "a monthly probability")?;
        self.incidence
            .check("incidence", 0.001, 1.0, "a monthly probability of buying")?;
        self.returns
            .check("returns", 0.0, 0.99, "a share of revenue")?;
        self.check_orders()?;
        self.check_economics()?;
        self.check_behaviour()
    }

    /// The default seasonality factors, then each segment's.
    fn check_seasonality(&self) -> Result<()> {
        Seasonality::check_list("seasonality.factors", &self.seasonality.factors)?;
        for (s, f) in &self.seasonality.segments {
            Seasonality::check_list(&format!("seasonality.segments.{s}"), f)?;
        }
        Ok(())
    }

    /// The market σ, then the parameters of its process (each applies to one process only).
    fn check_market(&self) -> Result<()> {
        in_range("market.sigma", self.market.sigma, 0.0, 3.0, "a log-scale σ")?;
        match self.market.process {
            MarketProcess::Constant => {
                if self.market.rho != 0.0 {
                    return Err(Error::model(
                        "market.rho",
                        "rho applies only to process = \"ar1\"",
                    ));
                }
                if self.market.monthly_sigma != 0.0 {
                    return Err(Error::model(
                        "market.monthly_sigma",
                        "monthly_sigma applies only to process = \"random_walk\"",
                    ));
                }
            }
            MarketProcess::Ar1 => {
                if !self.market.rho.is_finite() || !(0.0..1.0).contains(&self.market.rho) {
                    return Err(Error::model(
                        "market.rho",
                        format!(
                            "expected a correlation from 0 to below 1, found {}",
                            self.market.rho
                        ),
                    ));
                }
                if self.market.monthly_sigma != 0.0 {
                    return Err(Error::model("market.monthly_sigma", "monthly_sigma applies only to process = \"random_walk\" (ar1 keeps the marginal σ = sigma)"));
                }
            }
            MarketProcess::RandomWalk => {
                in_range(
                    "market.monthly_sigma",
                    self.market.monthly_sigma,
                    0.0,
                    1.0,
                    "a monthly log-step σ",
                )?;
                if self.market.rho != 0.0 {
                    return Err(Error::model(
                        "market.rho",
                        "rho applies only to process = \"ar1\"",
                    ));
                }
            }
        }
        self.market.check_start()
    }

    /// Orders per month (default, then per segment) and the order size σ.
    fn check_orders(&self) -> Result<()> {
        // every order is drawn and settled: the cost of a partner-month grows with it
        in_range(
            "orders.per_month",
            self.orders.per_month,
            0.0,
            crate::limits::MAX_ORDERS_PER_MONTH,
            "a mean number of orders",
        )?;
        for (s, v) in &self.orders.segments {
            in_range(
                &format!("orders.segments.{s}"),
                *v,
                0.0,
                crate::limits::MAX_ORDERS_PER_MONTH,
                "a mean number of orders",
            )?;
        }
        in_range(
            "orders.size_sigma",
            self.orders.size_sigma,
            0.0,
            3.0,
            "a log-scale σ",
        )?;
        let (most, what) = (
            crate::limits::MAX_CATEGORIES_PER_ORDER,
            "a mean number of categories an order carries",
        );
        if let Some(x) = self.orders.categories_per_order {
            in_range("orders.categories_per_order", x, 1.0, most, what)?;
        }
        for (s, v) in &self.orders.categories_per_order_segments {
            let path = format!("orders.categories_per_order_segments.{s}");
            in_range(&path, *v, 1.0, most, what)?;
        }
        self.check_order_size()
    }

    /// The size law of the order counts: an elasticity in [−3, 3] with a positive reference
    /// level, both or neither.
    fn check_order_size(&self) -> Result<()> {
        let o = &self.orders;
        if let Some(b) = o.size_elasticity {
            in_range("orders.size_elasticity", b, -3.0, 3.0, "an elasticity")?;
        }
        match (o.size_elasticity, o.size_reference) {
            (Some(_), None) => Err(Error::model(
                "orders.size_reference",
                "orders.size_elasticity needs size_reference: the monthly demand level (currency) at which a partner orders per_month",
            )),
            (None, Some(_)) => Err(Error::model(
                "orders.size_reference",
                "size_reference is given without orders.size_elasticity",
            )),
            (Some(_), Some(r)) if !(r.is_finite() && r > 0.0 && r <= 1e15) => Err(Error::model(
                "orders.size_reference",
                format!("must be a positive monthly demand level of at most 1e15, got {r}"),
            )),
            _ => Ok(()),
        }
    }

    /// Unit price, margin rate, then the category mix.
    fn check_economics(&self) -> Result<()> {
        if let Some(p) = self.economics.unit_price {
            if !crate::population::unit_price_ok(p) {
                return Err(Error::model(
                    "economics.unit_price",
                    format!("expected a price from 0.000001 to below 10^15, found {p}"),
                ));
            }
        }
        if let Some(m) = self.economics.margin_rate {
            in_range(
                "economics.margin_rate",
                m,
                0.0,
                1.0,
                "a fraction of revenue",
            )?;
        }
        for (c, &v) in &self.economics.category_prices {
            if !crate::population::unit_price_ok(v) {
                return Err(Error::model(
                    format!("economics.category_prices.{c}"),
                    format!("expected a price from 0.000001 to below 10^15, found {v}"),
                ));
            }
        }
        let (least, most, what) = (
            crate::limits::MIN_MIX_CONCENTRATION,
            crate::limits::MAX_MIX_CONCENTRATION,
            "a Dirichlet concentration",
        );
        if let Some(c) = self.economics.mix_concentration {
            in_range("economics.mix_concentration", c, least, most, what)?;
        }
        for (s, &c) in &self.economics.mix_concentration_segments {
            let path = format!("economics.mix_concentration_segments.{s}");
            in_range(&path, c, least, most, what)?;
        }
        self.check_category_mix()
    }

    /// At most [`crate::limits::MAX_CATEGORIES`] shares, each from 0 to 1, summing to 1.
    fn check_category_mix(&self) -> Result<()> {
        if self.economics.category_mix.len() > crate::limits::MAX_CATEGORIES {
            return Err(Error::model(
                "economics.category_mix",
                format!(
                    "expected at most {} categories, found {}",
                    crate::limits::MAX_CATEGORIES,
                    self.economics.category_mix.len()
                ),
            ));
        }
        if !self.economics.category_mix.is_empty() {
            let mut sum = 0.0;
            for (c, v) in &self.economics.category_mix {
                in_range(
                    &format!("economics.category_mix.{c}"),
                    *v,
                    0.0,
                    1.0,
                    "a share",
                )?;
                sum += v;
            }
            if (sum - 1.0).abs() > 1e-6 {
                return Err(Error::model(
                    "economics.category_mix",
                    format!("category shares must sum to 1, found {sum}"),
                ));
            }
        }
        Ok(())
    }

    /// The stretch response, then pull-forward and uplift.
    fn check_behaviour(&self) -> Result<()> {
        let st = &self.behaviour.stretch;
        if st.window_months == 0 || st.window_months > 12 {
            return Err(Error::model(
                "behaviour.stretch.window_months",
                format!("expected 1 to 12 months, found {}", st.window_months),
            ));
        }
        in_range(
            "behaviour.stretch.max_shortfall",
            st.max_shortfall,
            0.0,
            1.0,
            "a fraction of the threshold",
        )?;
        in_range(
            "behaviour.stretch.max_probability",
            st.max_probability,
            0.0,
            1.0,
            "a probability",
        )?;
        in_range(
            "behaviour.stretch.sensitivity",
            st.sensitivity,
            0.0,
            1e6,
            "a sensitivity",
        )?;
        in_range(
            "behaviour.pull_forward.share",
            self.behaviour.pull_forward.share,
            0.0,
            1.0,
            "a share",
        )?;
        in_range(
            "behaviour.uplift.elasticity",
            self.behaviour.uplift.elasticity,
            0.0,
            100.0,
            "an elasticity",
        )
    }

    /// Check that every segment named in the model exists in `segments` (the population's),
    /// so that a misspelt override is an error rather than silently unused.
    pub fn check_segments(&self, segments: &[String]) -> Result<()> {
        let known = |s: &String| segments.iter().any(|x| x == s);
        let mut named: Vec<(String, &String)> = Vec::new();
        named.extend(
            self.seasonality
                .segments
                .keys()
                .map(|s| (format!("seasonality.segments.{s}"), s)),
        );
        named.extend(
            self.growth
                .segment_names()
                .map(|s| (format!("growth.segments.{s}"), s)),
        );
        named.extend(
            self.segment_factor
                .segment_names()
                .map(|s| (format!("segment_factor.segments.{s}"), s)),
        );
        named.extend(
            self.partner_factor
                .segment_names()
                .map(|s| (format!("partner_factor.segments.{s}"), s)),
        );
        named.extend(
            self.noise
                .segment_names()
                .map(|s| (format!("noise.segments.{s}"), s)),
        );
        named.extend(
            self.churn
                .segment_names()
                .map(|s| (format!("churn.segments.{s}"), s)),
        );
        named.extend(
            self.incidence
                .segment_names()
                .map(|s| (format!("incidence.segments.{s}"), s)),
        );
        named.extend(
            self.returns
                .segment_names()
                .map(|s| (format!("returns.segments.{s}"), s)),
        );
        named.extend(
            self.orders
                .segments
                .keys()
                .map(|s| (format!("orders.segments.{s}"), s)),
        );
        named.extend(
            self.orders
                .categories_per_order_segments
                .keys()
                .map(|s| (format!("orders.categories_per_order_segments.{s}"), s)),
        );
        named.extend(
            self.economics
                .mix_concentration_segments
                .keys()
                .map(|s| (format!("economics.mix_concentration_segments.{s}"), s)),
        );
        for (path, s) in named {
            if !known(s) {
                return Err(Error::Model(FieldError::new(
                    path,
                    format!(
                        "segment '{s}' is not a segment of the population (known: {})",
                        segments.join(", ")
                    ),
                )));
            }
        }
        Ok(())
    }
}

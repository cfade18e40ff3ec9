//! The chart frame every chart draws in: the [`Theme`] (pixel scale, fonts, line and fill
//! styles), the header (title, subtitle, wrapping legend), the plot area below it with its
//! margins and label areas ([`PlotFrame`]), the styled axes and grid ([`Axes`]), and the
//! helpers for placing text (anchored labels, boxes already taken, two-line wrapping).

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBAColor};

use super::format::AxisFormat;
use super::{AXIS, FONT_FAMILY, GRID, INK, MUTED};
use crate::error::{Error, Result};

/// Pixel scale and text styles shared by the charts.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Multiplier from nominal to device pixels.
    pub scale: f64,
}

impl Theme {
    /// Nominal pixels to device pixels.
    pub(crate) fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    /// Nominal pixels to device pixels, at least 1.
    pub(crate) fn pxu(&self, v: f64) -> u32 {
        ((v * self.scale).round() as u32).max(1)
    }

    pub(crate) fn text(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        (FONT_FAMILY, size * self.scale).into_font().color(&color)
    }

    pub(crate) fn bold(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        (FONT_FAMILY, size * self.scale, FontStyle::Bold)
            .into_font()
            .color(&color)
    }

    pub(crate) fn line(&self, color: impl Into<RGBAColor>, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.into(),
            filled: false,
            stroke_width: self.pxu(width),
        }
    }

    pub(crate) fn fill(&self, color: impl Into<RGBAColor>) -> ShapeStyle {
        ShapeStyle {
            color: color.into(),
            filled: true,
            stroke_width: 0,
        }
    }
}

/// Maps plotters drawing errors to [`Error`].
pub(crate) trait OrDraw<T> {
    fn or_draw(self) -> Result<T>;
}

impl<T, E: std::fmt::Debug> OrDraw<T> for std::result::Result<T, E> {
    fn or_draw(self) -> Result<T> {
        self.map_err(|e| Error::Request(format!("the chart could not be drawn: {e:?}")))
    }
}

/// How a legend entry is marked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    /// A filled square.
    Swatch(RGBAColor),
    /// A line, optionally dashed.
    Line(RGBAColor, f64, bool),
}

/// Draws the title, the subtitle and a (wrapping) legend row at the top of
/// `root`; returns the area below them for the plot.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    title: &str,
    subtitle: Option<&str>,
    legend: &[(String, Mark)],
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = root.dim_in_pixel();
    let left = t.px(24.0);
    let mut y = t.px(14.0);
    // a title or subtitle wider than the chart wraps onto a second line (shortened with an
    // ellipsis past that) instead of running off the image
    let max_w = (w as i32 - left - t.px(16.0)).max(1) as u32;
    let title_style = t.bold(22.0, INK);
    for line in wrap2(root, title, &title_style, max_w)? {
        root.draw(&Text::new(line, (left, y), title_style.clone()))
            .or_draw()?;
        y += t.px(30.0);
    }
    if let Some(sub) = subtitle.filter(|s| !s.is_empty()) {
        let sub_style = t.text(15.0, MUTED);
        for line in wrap2(root, sub, &sub_style, max_w)? {
            root.draw(&Text::new(line, (left, y), sub_style.clone()))
                .or_draw()?;
            y += t.px(24.0);
        }
    }
    if !legend.is_empty() {
        y += t.px(2.0);
        let style = t.text(14.0, INK);
        let mark_w = t.px(22.0);
        let gap = t.px(8.0);
        let spacing = t.px(22.0);
        let row_h = t.px(22.0);
        let mut x = left;
        for (label, mark) in legend {
            let (tw, _) = root.estimate_text_size(label, &style).or_draw()?;
            let item_w = mark_w + gap + tw as i32;
            if x > left && x + item_w > w as i32 - t.px(16.0) {
                x = left;
                y += row_h;
            }
            let cy = y + t.px(8.0);
            draw_mark(root, t, *mark, (x, cy), mark_w)?;
            root.draw(&Text::new(
                label.clone(),
                (x + mark_w + gap, y),
                style.clone(),
            ))
            .or_draw()?;
            x += item_w + spacing;
        }
        y += row_h;
    }
    y += t.px(4.0);
    Ok(root.split_vertically(y).1)
}

fn draw_mark<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    mark: Mark,
    (x, cy): (i32, i32),
    w: i32,
) -> Result<()> {
    match mark {
        Mark::Swatch(c) => {
            let h = t.px(6.0);
            root.draw(&Rectangle::new(
                [(x + t.px(3.0), cy - h), (x + w - t.px(3.0), cy + h)],
                t.fill(c),
            ))
            .or_draw()?;
        }
        Mark::Line(c, width, dashed) => {
            let style = t.line(c, width);
            if dashed {
                root.draw(&DashedPathElement::new(
                    vec![(x, cy), (x + w, cy)],
                    t.px(5.0),
                    t.px(3.0),
                    style,
                ))
                .or_draw()?;
            } else {
                root.draw(&PathElement::new(vec![(x, cy), (x + w, cy)], style))
                    .or_draw()?;
            }
        }
    }
    Ok(())
}

/// Draws `text` anchored at `pos` (device pixels) on `root`.
pub(crate) fn label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    style: &TextStyle<'_>,
    h: HPos,
    v: VPos,
) -> Result<()> {
    root.draw(&Text::new(text.to_string(), pos, style.pos(Pos::new(h, v))))
        .or_draw()
}

/// Pixel boxes already taken by labels, to place new labels without overlap.
#[derive(Debug, Default)]
pub(crate) struct Occupied {
    boxes: Vec<(i32, i32, i32, i32)>,
}

impl Occupied {
    pub(crate) fn free(&self, b: (i32, i32, i32, i32)) -> bool {
        self.boxes
            .iter()
            .all(|o| b.2 <= o.0 || b.0 >= o.2 || b.3 <= o.1 || b.1 >= o.3)
    }
    pub(crate) fn take(&mut self, b: (i32, i32, i32, i32)) {
        self.boxes.push(b);
    }
}

/// The plot area of a chart with continuous axes.
pub(crate) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Where the plot sits in the body below the header: margins in nominal pixels, the areas
/// for the axes' labels in device pixels (a chart may size them from its labels).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlotFrame {
    /// Left margin (nominal pixels).
    pub(crate) left: f64,
    /// Right margin (nominal pixels).
    pub(crate) right: f64,
    /// Top margin (nominal pixels).
    pub(crate) top: f64,
    /// Bottom margin (nominal pixels).
    pub(crate) bottom: f64,
    /// Height of the x axis' label area (device pixels).
    pub(crate) x_label_area: i32,
    /// Width of the y axis' label area (device pixels).
    pub(crate) y_label_area: i32,
}

impl PlotFrame {
    /// The frame most charts use: 12 px left, 28 px right, 10 px top, 4 px bottom, and a
    /// y label area of 76 px (with `x_label_area` device pixels for the x axis).
    pub(crate) fn standard(t: &Theme, x_label_area: i32) -> Self {
        PlotFrame {
            left: 12.0,
            right: 28.0,
            top: 10.0,
            bottom: 4.0,
            x_label_area,
            y_label_area: t.px(76.0),
        }
    }

    /// The plot area on `body` with data ranges `x` and `y`.
    pub(crate) fn build<'a, DB: DrawingBackend>(
        &self,
        body: &'a DrawingArea<DB, Shift>,
        t: &Theme,
        x: Range<f64>,
        y: Range<f64>,
    ) -> Result<Plot<'a, DB>> {
        ChartBuilder::on(body)
            .margin_left(t.px(self.left))
            .margin_right(t.px(self.right))
            .margin_top(t.px(self.top))
            .margin_bottom(t.px(self.bottom))
            .x_label_area_size(self.x_label_area)
            .y_label_area_size(self.y_label_area)
            .build_cartesian_2d(x, y)
            .or_draw()
    }
}

/// One axis of a plot: how many labels, their format, its title and whether its grid lines
/// are drawn.
pub(crate) struct Axis<'f> {
    /// Number of labels (0: none).
    pub(crate) labels: usize,
    /// How labels are written (plotters' default when `None`).
    pub(crate) format: Option<&'f AxisFormat>,
    /// The axis title.
    pub(crate) desc: Option<String>,
    /// Whether grid lines cross the plot at this axis' labels.
    pub(crate) grid: bool,
}

impl<'f> Axis<'f> {
    /// An axis without labels, title or grid lines.
    pub(crate) fn hidden() -> Self {
        Axis {
            labels: 0,
            format: None,
            desc: None,
            grid: false,
        }
    }

    /// An axis with `labels` labels written by `format`, with grid lines.
    pub(crate) fn labelled(labels: usize, format: &'f AxisFormat) -> Self {
        Axis {
            labels,
            format: Some(format),
            desc: None,
            grid: true,
        }
    }

    /// The same axis with the title `desc`.
    pub(crate) fn titled(mut self, desc: impl Into<String>) -> Self {
        self.desc = Some(desc.into());
        self
    }

    /// The same axis without grid lines.
    pub(crate) fn without_grid(mut self) -> Self {
        self.grid = false;
        self
    }
}

/// The x and y axes of a plot.
pub(crate) struct Axes<'f> {
    /// Horizontal axis.
    pub(crate) x: Axis<'f>,
    /// Vertical axis.
    pub(crate) y: Axis<'f>,
}

impl Axes<'_> {
    /// Draws the axes, their labels and titles and the grid in the charts' style.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        plot: &mut Plot<'_, DB>,
        t: &Theme,
    ) -> Result<()> {
        let x_format = self.x.format.map(|f| move |v: &f64| f.label(*v));
        let y_format = self.y.format.map(|f| move |v: &f64| f.label(*v));
        let mut mesh = plot.configure_mesh();
        mesh.axis_style(t.line(AXIS, 1.0))
            .bold_line_style(t.line(GRID, 1.0))
            .light_line_style(TRANSPARENT)
            .label_style(t.text(13.0, INK))
            .axis_desc_style(t.text(14.0, INK))
            .set_all_tick_mark_size(t.px(4.0));
        if !self.x.grid {
            mesh.disable_x_mesh();
        }
        if !self.y.grid {
            mesh.disable_y_mesh();
        }
        mesh.x_labels(self.x.labels).y_labels(self.y.labels);
        if let Some(f) = &x_format {
            mesh.x_label_formatter(f);
        }
        if let Some(f) = &y_format {
            mesh.y_label_formatter(f);
        }
        if let Some(d) = &self.x.desc {
            mesh.x_desc(d.clone());
        }
        if let Some(d) = &self.y.desc {
            mesh.y_desc(d.clone());
        }
        mesh.draw().or_draw()
    }
}

/// Splits `text` into at most two lines no wider than `max_w` pixels,
/// shortening the last with an ellipsis if needed.
pub(crate) fn wrap2<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'static>,
    max_w: u32,
) -> Result<Vec<String>> {
    let width = |s: &str| root.estimate_text_size(s, style).map(|d| d.0).or_draw();
    if width(text)? <= max_w {
        return Ok(vec![text.to_string()]);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut first = String::new();
    let mut rest_at = words.len();
    for (i, wd) in words.iter().enumerate() {
        let cand = if first.is_empty() {
            wd.to_string()
        } else {
            format!("{first} {wd}")
        };
        if width(&cand)? > max_w && !first.is_empty() {
            rest_at = i;
            break;
        }
        first = cand;
    }
    let mut lines = vec![first];
    if rest_at < words.len() {
        lines.push(words[rest_at..].join(" "));
    }
    for line in lines.iter_mut() {
        if width(line)? > max_w {
            let mut chars: Vec<char> = line.chars().collect();
            while !chars.is_empty()
                && width(&format!("{}…", chars.iter().collect::<String>()))? > max_w
            {
                chars.pop();
            }
            *line = format!("{}…", chars.iter().collect::<String>());
        }
    }
    Ok(lines)
}

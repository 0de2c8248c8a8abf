//! `--plot FILE.svg`: the cold-run latency distributions as an SVG strip
//! plot, one horizontal strip per case (or name): a dot per cold run, the
//! median as a thick black tick, the lab's lower bound as a red line.

use std::path::Path;
use std::time::Duration;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::BenchError;
use super::report::CaseReport;
use super::survey::NameReport;

/// The samples of one case or name, as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    /// The strip's label on the y axis.
    pub label: String,
    /// Cold wall times.
    pub samples: Vec<Duration>,
    /// Their median.
    pub median: Duration,
    /// The lower bound, when known (lab only).
    pub bound: Option<Duration>,
}

impl From<&CaseReport> for Strip {
    fn from(case: &CaseReport) -> Self {
        Self {
            label: case.label.clone(),
            samples: case.samples.clone(),
            median: case.cold.median,
            bound: Some(case.bound),
        }
    }
}

impl From<&NameReport> for Strip {
    fn from(name: &NameReport) -> Self {
        let class = name.class.map_or("no referral", |c| c.as_str());
        let failed = if name.answered { "" } else { ", failed" };
        Self {
            label: format!("{} {} ({class}{failed})", name.name, name.qtype),
            samples: name.samples.clone(),
            median: name.cold.median,
            bound: name.bound_ms.map(|b| Duration::from_secs_f64(b / 1000.0)),
        }
    }
}

const WIDTH: u32 = 900;
const ROW_HEIGHT: u32 = 48;
/// Caption and x axis.
const FRAME_HEIGHT: u32 = 110;
/// Rows of empty space below the last strip, where the legend goes.
const LEGEND_ROWS: f64 = 1.6;
const FONT: &str = "sans-serif";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The plot of `strips` (first strip at the top) as SVG text.
pub fn svg(title: &str, strips: &[Strip]) -> Result<String, String> {
    let mut out = String::new();
    {
        let rows = strips.len().max(1) as f64 + LEGEND_ROWS;
        let height = FRAME_HEIGHT + (f64::from(ROW_HEIGHT) * rows) as u32;
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root, title, strips).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Draws the plot of `strips` into the SVG file at `path`.
pub fn write(path: &Path, title: &str, strips: &[Strip]) -> Result<(), BenchError> {
    let text = svg(title, strips).map_err(|problem| BenchError::Plot {
        path: path.display().to_string(),
        problem,
    })?;
    std::fs::write(path, text).map_err(|source| BenchError::PlotIo {
        path: path.display().to_string(),
        source,
    })
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn draw(root: &Area<'_>, title: &str, strips: &[Strip]) -> DrawResult {
    let rows = strips.len().max(1);
    let top = (rows - 1) as f64;
    // Row i is drawn at y = top - i, so the first strip is at the top.
    let row_y = |i: usize| top - i as f64;
    let x_max = x_limit(strips);
    let longest = strips.iter().map(|s| s.label.len()).max().unwrap_or(8);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(24 + 7 * longest as u32)
        .build_cartesian_2d(0.0..x_max, -0.6 - LEGEND_ROWS..top + 0.6)?;
    chart
        .configure_mesh()
        .x_desc("cold resolution time (ms)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(0)
        .disable_y_mesh()
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(245, 245, 245))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    // The case labels, right-aligned left of the y axis, one per strip.
    let label_style = TextStyle::from((FONT, 14).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, strip) in strips.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, row_y(i)));
        root.draw(&Text::new(strip.label.as_str(), (x - 8, y), &label_style))?;
    }

    let dot = BLUE.mix(0.45).filled();
    let points = strips.iter().enumerate().flat_map(|(i, s)| {
        s.samples
            .iter()
            .enumerate()
            .map(move |(k, &d)| Circle::new((ms(d), row_y(i) + jitter(k)), 3, dot))
    });
    chart
        .draw_series(points)?
        .label("cold run")
        .legend(move |(x, y)| Circle::new((x, y), 3, dot));
    let medians = strips
        .iter()
        .enumerate()
        .map(|(i, s)| tick(ms(s.median), row_y(i), 0.32, BLACK.stroke_width(3)));
    chart
        .draw_series(medians)?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], BLACK.stroke_width(3)));
    if strips.iter().any(|s| s.bound.is_some()) {
        let bounds = strips.iter().enumerate().filter_map(|(i, s)| {
            s.bound
                .map(|b| tick(ms(b), row_y(i), 0.42, RED.stroke_width(2)))
        });
        chart
            .draw_series(bounds)?
            .label("lower bound (lab latency on the critical path)")
            .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A vertical segment at `x` across row `y`, `half` a row up and down.
fn tick(x: f64, y: f64, half: f64, style: ShapeStyle) -> PathElement<(f64, f64)> {
    PathElement::new(vec![(x, y - half), (x, y + half)], style)
}

/// A small fixed vertical offset per sample, so equal times stay visible.
fn jitter(k: usize) -> f64 {
    ((k * 7 % 11) as f64 / 10.0 - 0.5) * 0.36
}

/// The right end of the x axis: past the slowest sample and every bound,
/// rounded up to 10 ms.
fn x_limit(strips: &[Strip]) -> f64 {
    let slowest = strips
        .iter()
        .flat_map(|s| s.samples.iter().copied().chain(s.bound))
        .max()
        .unwrap_or_default();
    ((ms(slowest) * 1.08 / 10.0).ceil() * 10.0).max(10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_one_label_per_strip_and_escapes_text() {
        let strip = |label: &str, base: u64| Strip {
            label: label.to_string(),
            samples: (0..5).map(|k| Duration::from_millis(base + k)).collect(),
            median: Duration::from_millis(base + 2),
            bound: Some(Duration::from_millis(base - 5)),
        };
        let text = svg("t", &[strip("in-domain glue", 45), strip("a<b & c", 80)]).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..60.min(text.len())]);
        assert!(text.trim_end().ends_with("</svg>"));
        assert!(text.contains(">\nin-domain glue\n</text>"));
        assert!(text.contains(">\na&lt;b &amp; c\n</text>"));
        assert!(text.matches("<circle").count() >= 10);
        assert!(svg("empty", &[]).unwrap().starts_with("<svg"));
    }
}

//! [`FeatureTransform`]: what one input column becomes — standardized numbers, one-hot
//! categories (the rarest grouped), or the parts of a date — fitted on the training rows.

use serde::{Deserialize, Serialize};

use crate::cell::NumberFormat;
use crate::column::{Column, ColumnData, ColumnKind};
use crate::dates::{DateOrder, calendar_parts};
use crate::matcher::{Cell, Matcher};
use crate::task::natural_order;
use crate::{Categorical, DataError, Standardize, Table};

/// What one input column becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FeatureTransform {
    /// One network input, `(x - offset) / scale`; a missing value is first replaced by `fill`.
    /// With an `indicator`, a second input is 1 where the value was missing and 0 elsewhere.
    Numeric {
        /// The source column.
        column: String,
        /// Subtracted (the training mean, or 0 without scaling), in f64 as scikit-learn's
        /// `StandardScaler.mean_`: a column of timestamps (1.7e9) keeps its seconds.
        offset: f64,
        /// Divided by (the training standard deviation, 1 for a constant column or without scaling).
        scale: f64,
        /// Replaces a missing value: the training mean.
        fill: f64,
        /// How the numbers are written (what is stripped to read them).
        #[serde(default, skip_serializing_if = "NumberFormat::is_plain")]
        format: NumberFormat,
        /// Present when training rows had missing values: the share of them that did (the
        /// indicator input's training mean). The indicator follows the value input, as
        /// scikit-learn's `SimpleImputer(add_indicator=True)` adds one for each column with
        /// missing values at fit time, so that "missing" itself can carry information.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        indicator: Option<f64>,
        /// With [`Standardize::Robust`]: the scaled value `z` becomes `z / sqrt(1 + (z / c)²)`,
        /// within (-c, c) (RealMLP's smooth clipping).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        smooth_clip: Option<f64>,
    },
    /// One network input per category, 1 for the row's category and 0 for the others; a
    /// category not seen in training gives all zeros. With `infrequent` levels, one more input
    /// is 1 for any of them. With `missing_level`, a missing value has an input of its own
    /// (last), as `OneHotEncoder` treats NaN as a category; otherwise it counts as `fill`.
    Categorical {
        /// The source column.
        column: String,
        /// The categories seen in training (the most frequent, when some are grouped), in
        /// natural order.
        categories: Vec<String>,
        /// Replaces a missing value without `missing_level`: the most frequent training
        /// category.
        fill: String,
        /// The share of training rows in each input (missing cells counted as `fill`): the
        /// training mean of each one-hot input. Empty in model files written before nerve kept
        /// it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        frequencies: Vec<f64>,
        /// Training categories grouped into one `infrequent` input (scikit-learn's
        /// `OneHotEncoder(max_categories=...)`), in natural order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        infrequent: Vec<String>,
        /// Cells match a category only as written (`007` is not `7`): the column was forced to
        /// be categorical. Otherwise by value (`3` is `3.0`), as the column was inferred.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        exact: bool,
        /// Training rows had missing values: "missing" is a level with its own input (last).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        missing_level: bool,
    },
    /// Five inputs from a date: year, month, day of month, day of week (0 = Monday) and days
    /// since `origin`, each `(x - offset) / scale`; a missing date takes each part's `fill`.
    /// With an `indicator`, a sixth input is 1 where the date was missing.
    Date {
        /// The source column.
        column: String,
        /// How the dates are written.
        order: DateOrder,
        /// The earliest training date, in days since 1970-01-01.
        origin: f64,
        /// One entry per input, in [`DatePart::ALL`] order.
        parts: Vec<DatePart>,
        /// Present when training rows had missing dates: their share (see `Numeric`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        indicator: Option<f64>,
        /// Each scaled part smoothly clipped to (-c, c) (see `Numeric`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        smooth_clip: Option<f64>,
    },
}

/// One input made from a date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatePart {
    /// Subtracted (the training mean, or 0 without scaling).
    pub offset: f64,
    /// Divided by (the training standard deviation, or 1).
    pub scale: f64,
    /// Replaces a missing date: the training mean.
    pub fill: f64,
}

impl DatePart {
    /// The names of a date's inputs, in order.
    pub const ALL: [&'static str; 5] = ["year", "month", "day", "weekday", "days"];
}

/// The input name of a group of infrequent categories.
pub const INFREQUENT: &str = "(infrequent)";

/// The input name of a categorical column's missing level.
pub const MISSING_LEVEL: &str = "(missing)";

/// The suffix of a numeric or date column's missing-value indicator input (`income.missing`).
pub const MISSING_INDICATOR: &str = "missing";

impl FeatureTransform {
    /// The source column's name.
    pub fn column(&self) -> &str {
        match self {
            FeatureTransform::Numeric { column, .. }
            | FeatureTransform::Categorical { column, .. }
            | FeatureTransform::Date { column, .. } => column,
        }
    }

    /// Checks what every transform nerve fits satisfies, so that a model file cannot carry one
    /// that answers nonsense or exports to a graph no runtime loads: a named column; finite
    /// offsets and fills; scales finite and above 0 (a constant column's is 1); shares within
    /// [0, 1]; a positive clip bound; distinct categories, one share per input; five date parts.
    ///
    /// # Errors
    ///
    /// What is wrong, naming the column and the field.
    pub fn check(&self) -> Result<(), String> {
        let column = self.column();
        if column.is_empty() {
            return Err("a feature column has an empty name".to_owned());
        }
        let field = |name: &str, why: &str| format!("feature `{column}`: `{name}` {why}");
        let share = |name: &str, value: Option<f64>| match value {
            Some(v) if !(0.0..=1.0).contains(&v) => {
                Err(field(name, &format!("is {v}; a share lies in [0, 1]")))
            }
            _ => Ok(()),
        };
        let scaled = |offset: f64, scale: f64, fill: f64| {
            if !offset.is_finite() {
                return Err(field("offset", &format!("is {offset}; it must be finite")));
            }
            if !(scale.is_finite() && scale > 0.0) {
                return Err(field(
                    "scale",
                    &format!("is {scale}; it must be finite and above 0 (1 for a constant column)"),
                ));
            }
            if !fill.is_finite() {
                return Err(field("fill", &format!("is {fill}; it must be finite")));
            }
            Ok(())
        };
        let clip = |c: Option<f64>| match c {
            Some(c) if !(c.is_finite() && c > 0.0) => Err(field(
                "smooth_clip",
                &format!("is {c}; it must be finite and above 0"),
            )),
            _ => Ok(()),
        };
        match self {
            FeatureTransform::Numeric {
                offset,
                scale,
                fill,
                indicator,
                smooth_clip,
                ..
            } => {
                scaled(*offset, *scale, *fill)?;
                share("indicator", *indicator)?;
                clip(*smooth_clip)
            }
            FeatureTransform::Categorical {
                categories,
                frequencies,
                infrequent,
                ..
            } => {
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = categories
                    .iter()
                    .chain(infrequent)
                    .find(|c| !seen.insert(*c))
                {
                    return Err(field("categories", &format!("list `{twice}` twice")));
                }
                if !frequencies.is_empty() && frequencies.len() != self.width() {
                    return Err(field(
                        "frequencies",
                        &format!(
                            "has {} shares for {} inputs",
                            frequencies.len(),
                            self.width()
                        ),
                    ));
                }
                frequencies
                    .iter()
                    .try_for_each(|&f| share("frequencies", Some(f)))
            }
            FeatureTransform::Date {
                origin,
                parts,
                indicator,
                smooth_clip,
                ..
            } => {
                if !origin.is_finite() {
                    return Err(field("origin", &format!("is {origin}; it must be finite")));
                }
                if parts.len() != DatePart::ALL.len() {
                    return Err(field(
                        "parts",
                        &format!(
                            "has {} parts; a date has {}",
                            parts.len(),
                            DatePart::ALL.len()
                        ),
                    ));
                }
                for part in parts {
                    scaled(part.offset, part.scale, part.fill)?;
                }
                share("indicator", *indicator)?;
                clip(*smooth_clip)
            }
        }
    }

    /// How many network inputs it makes.
    pub fn width(&self) -> usize {
        match self {
            FeatureTransform::Numeric { indicator, .. } => 1 + usize::from(indicator.is_some()),
            FeatureTransform::Categorical {
                categories,
                infrequent,
                missing_level,
                ..
            } => {
                categories.len() + usize::from(!infrequent.is_empty()) + usize::from(*missing_level)
            }
            FeatureTransform::Date {
                parts, indicator, ..
            } => parts.len() + usize::from(indicator.is_some()),
        }
    }

    /// Whether a missing value is encoded as such (an indicator input or a missing level), as
    /// in training, rather than filled in.
    pub fn encodes_missing(&self) -> bool {
        match self {
            FeatureTransform::Numeric { indicator, .. }
            | FeatureTransform::Date { indicator, .. } => indicator.is_some(),
            FeatureTransform::Categorical { missing_level, .. } => *missing_level,
        }
    }

    /// How the source column must be read for this transform.
    pub fn kind(&self) -> ColumnKind {
        match self {
            FeatureTransform::Numeric { format, .. } => ColumnKind::Numeric(Some(*format)),
            FeatureTransform::Categorical { exact: true, .. } => ColumnKind::Text,
            FeatureTransform::Categorical { .. } => ColumnKind::Categorical,
            FeatureTransform::Date { order, .. } => ColumnKind::Date(*order),
        }
    }

    /// The names of its inputs: the column (and `column.missing`), `column=category` (and
    /// `column=(missing)`), or `column.part` (and `column.missing`).
    pub fn input_names(&self) -> Vec<String> {
        let indicator =
            |column: &str, present: bool| present.then(|| format!("{column}.{MISSING_INDICATOR}"));
        match self {
            FeatureTransform::Numeric {
                column,
                indicator: i,
                ..
            } => std::iter::once(column.clone())
                .chain(indicator(column, i.is_some()))
                .collect(),
            FeatureTransform::Categorical {
                column,
                categories,
                infrequent,
                missing_level,
                ..
            } => {
                let mut names: Vec<String> =
                    categories.iter().map(|c| format!("{column}={c}")).collect();
                if !infrequent.is_empty() {
                    names.push(format!("{column}={INFREQUENT}"));
                }
                if *missing_level {
                    names.push(format!("{column}={MISSING_LEVEL}"));
                }
                names
            }
            FeatureTransform::Date {
                column,
                indicator: i,
                ..
            } => DatePart::ALL
                .iter()
                .map(|part| format!("{column}.{part}"))
                .chain(indicator(column, i.is_some()))
                .collect(),
        }
    }

    /// The training mean of each of its inputs, after the transform.
    pub(crate) fn input_means(&self) -> Vec<f32> {
        match self {
            FeatureTransform::Numeric {
                offset,
                scale,
                fill,
                indicator,
                smooth_clip,
                ..
            } => std::iter::once(clipped((fill - offset) / scale, *smooth_clip) as f32)
                .chain(indicator.map(|share| share as f32))
                .collect(),
            FeatureTransform::Categorical {
                categories,
                fill,
                frequencies,
                ..
            } => {
                if frequencies.len() == self.width() {
                    frequencies.iter().map(|&f| f as f32).collect()
                } else {
                    let mut means: Vec<f32> = categories
                        .iter()
                        .map(|c| f32::from(u8::from(c == fill)))
                        .collect();
                    means.resize(self.width(), 0.0);
                    means
                }
            }
            FeatureTransform::Date {
                parts,
                indicator,
                smooth_clip,
                ..
            } => parts
                .iter()
                .map(|p| clipped((p.fill - p.offset) / p.scale, *smooth_clip) as f32)
                .chain(indicator.map(|share| share as f32))
                .collect(),
        }
    }

    /// Fits the transform of `column` on `train_rows`.
    pub(crate) fn fit(
        column: &Column,
        train_rows: &[usize],
        standardize: Standardize,
        max_categories: usize,
    ) -> FeatureTransform {
        let name = column.name().to_owned();
        // The offset and scale of some values, by the scaling asked for.
        let scaled = |values: &mut dyn Iterator<Item = f64>| {
            let values: Vec<f64> = values.collect();
            match standardize {
                Standardize::ZScore | Standardize::ZScoreClip => {
                    mean_and_scale(values.iter().copied())
                }
                Standardize::Robust => median_and_iqr(values),
                Standardize::None => (0.0, 1.0),
            }
        };
        let smooth_clip = matches!(standardize, Standardize::Robust | Standardize::ZScoreClip)
            .then_some(Standardize::SMOOTH_CLIP);
        // The share of training rows with a missing value, when there are any.
        let indicator = |missing: usize| {
            (missing > 0 && !train_rows.is_empty())
                .then(|| missing as f64 / train_rows.len() as f64)
        };
        match column.data() {
            ColumnData::Numeric(numbers) => {
                let values = numbers.values();
                let (mean, _) = mean_and_scale(train_rows.iter().map(|&r| values[r]));
                let (offset, scale) = scaled(&mut train_rows.iter().map(|&r| values[r]));
                let missing = train_rows.iter().filter(|&&r| values[r].is_nan()).count();
                FeatureTransform::Numeric {
                    column: name,
                    offset,
                    scale,
                    fill: robust_fill(standardize, mean, offset),
                    format: numbers.format(),
                    indicator: indicator(missing),
                    smooth_clip,
                }
            }
            ColumnData::Date(dates) => {
                let days = dates.days();
                let origin = train_rows
                    .iter()
                    .map(|&r| days[r])
                    .filter(|d| !d.is_nan())
                    .fold(f64::INFINITY, f64::min);
                let origin = if origin.is_finite() { origin } else { 0.0 };
                let parts = (0..DatePart::ALL.len())
                    .map(|part| {
                        let values = train_rows.iter().map(|&r| date_part(days[r], origin, part));
                        let (mean, _) = mean_and_scale(values.clone());
                        let (offset, scale) = scaled(&mut values.into_iter());
                        DatePart {
                            offset,
                            scale,
                            fill: robust_fill(standardize, mean, offset),
                        }
                    })
                    .collect();
                let missing = train_rows.iter().filter(|&&r| days[r].is_nan()).count();
                FeatureTransform::Date {
                    column: name,
                    order: dates.order(),
                    origin,
                    parts,
                    indicator: indicator(missing),
                    smooth_clip,
                }
            }
            ColumnData::Categorical(c) => fit_categories(name, c, train_rows, max_categories),
        }
    }

    /// Writes the inputs of `rows` of `table` into `out` (row-major, `width` per row) from
    /// column `first` on; counts filled and unseen cells.
    pub(crate) fn apply(
        &self,
        table: &Table,
        rows: &[usize],
        out: &mut [f32],
        width: usize,
        first: usize,
        counts: &mut (usize, usize),
    ) -> Result<(), DataError> {
        let column = table.column(self.column())?;
        let (filled, unseen) = counts;
        match self {
            FeatureTransform::Numeric {
                offset,
                scale,
                fill,
                indicator,
                smooth_clip,
                ..
            } => {
                let values = numeric_values(table, column, "a number")?;
                for (i, &row) in rows.iter().enumerate() {
                    let mut value = values[row];
                    if value.is_nan() {
                        value = *fill;
                        if indicator.is_some() {
                            out[i * width + first + 1] = 1.0;
                        } else {
                            *filled += 1;
                        }
                    }
                    // In f64, with f64 statistics: a timestamp's seconds survive, and values near
                    // f32's limit (3e38 minus -3e38) cannot overflow.
                    out[i * width + first] = clipped((value - offset) / scale, *smooth_clip) as f32;
                }
            }
            FeatureTransform::Categorical {
                categories,
                fill,
                infrequent,
                missing_level,
                ..
            } => {
                let matcher = Matcher::new(table, column, categories.iter().chain(infrequent));
                let fill = categories.iter().position(|c| c == fill);
                let infrequent_input = categories.len();
                let missing_input = self.width() - 1;
                for (i, &row) in rows.iter().enumerate() {
                    let k = match matcher.get(row) {
                        Cell::Known(k) => Some(k.min(infrequent_input)),
                        Cell::Missing if *missing_level => Some(missing_input),
                        Cell::Missing => {
                            *filled += 1;
                            fill
                        }
                        Cell::Unknown(_) => {
                            *unseen += 1;
                            None
                        }
                    };
                    if let Some(k) = k {
                        out[i * width + first + k] = 1.0;
                    }
                }
            }
            FeatureTransform::Date {
                origin,
                parts,
                indicator,
                smooth_clip,
                ..
            } => {
                let ColumnData::Date(dates) = column.data() else {
                    return Err(not_a_date(table, column));
                };
                let days = dates.days();
                for (i, &row) in rows.iter().enumerate() {
                    if days[row].is_nan() {
                        if indicator.is_some() {
                            out[i * width + first + parts.len()] = 1.0;
                        } else {
                            *filled += 1;
                        }
                    }
                    for (k, p) in parts.iter().enumerate() {
                        let value = date_part(days[row], *origin, k);
                        let value = if value.is_nan() { p.fill } else { value };
                        out[i * width + first + k] =
                            clipped((value - p.offset) / p.scale, *smooth_clip) as f32;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Part `part` (in [`DatePart::ALL`] order) of a day count; `NaN` when missing.
fn date_part(days: f64, origin: f64, part: usize) -> f64 {
    if days.is_nan() {
        return f64::NAN;
    }
    if part == 4 {
        return days - origin;
    }
    calendar_parts(days).map_or(f64::NAN, |parts| parts[part])
}

fn fit_categories(
    name: String,
    c: &Categorical,
    train_rows: &[usize],
    max_categories: usize,
) -> FeatureTransform {
    let mut counts = vec![0usize; c.levels().len()];
    for &row in train_rows {
        if let Some(code) = Some(c.codes()[row]).filter(|&k| k != Categorical::MISSING) {
            counts[code as usize] += 1;
        }
    }
    let mut seen: Vec<(&String, usize)> = c
        .levels()
        .iter()
        .zip(counts)
        .filter(|&(_, n)| n > 0)
        .collect();
    // The most frequent category fills missing cells; ties go to the first in natural order.
    seen.sort_by(|a, b| natural_order(a.0, b.0));
    let fill = seen
        .iter()
        .rev()
        .max_by_key(|&&(_, n)| n)
        .map(|(level, _)| (*level).clone())
        .unwrap_or_default();
    let mut infrequent = Vec::new();
    if seen.len() > max_categories.max(2) {
        // Keep the max_categories - 1 most frequent and group the rest, ties broken as
        // scikit-learn's OneHotEncoder does (a stable ascending sort of the counts over the
        // sorted categories: of equal counts, the later categories are kept).
        let mut by_count = seen.clone();
        by_count.sort_by_key(|&(_, n)| n);
        let grouped = by_count.len() - (max_categories.max(2) - 1);
        let kept: std::collections::HashSet<&String> =
            by_count[grouped..].iter().map(|&(l, _)| l).collect();
        infrequent = by_count[..grouped]
            .iter()
            .map(|&(l, _)| l.clone())
            .collect();
        infrequent.sort_by(|a, b| natural_order(a, b));
        seen.retain(|(l, _)| kept.contains(l));
    }
    let missing = train_rows
        .len()
        .saturating_sub(seen.iter().map(|&(_, n)| n).sum::<usize>())
        .saturating_sub(infrequent_count(c, train_rows, &infrequent));
    let share = |n: usize| n as f64 / train_rows.len() as f64;
    // Missing cells in training make a level of their own (OneHotEncoder's and
    // HistGradientBoosting's treatment of NaN); the fill stays for a model that met none.
    let missing_level = missing > 0;
    let mut frequencies: Vec<f64> = seen
        .iter()
        .map(|&(level, n)| {
            share(if *level == fill && !missing_level {
                n + missing
            } else {
                n
            })
        })
        .collect();
    if !infrequent.is_empty() {
        frequencies.push(share(infrequent_count(c, train_rows, &infrequent)));
    }
    if missing_level {
        frequencies.push(share(missing));
    }
    let categories = seen.into_iter().map(|(level, _)| level.clone()).collect();
    FeatureTransform::Categorical {
        column: name,
        categories,
        fill,
        frequencies,
        infrequent,
        exact: c.is_exact(),
        missing_level,
    }
}

/// How many of `rows` are in one of the `infrequent` levels.
///
/// One lookup per level, then one per row (a search of the list per row was quadratic: a
/// million rows of 30,000 postal codes took 8 minutes).
fn infrequent_count(c: &Categorical, rows: &[usize], infrequent: &[String]) -> usize {
    if infrequent.is_empty() {
        return 0;
    }
    let grouped: std::collections::HashSet<&str> = infrequent.iter().map(String::as_str).collect();
    let by_level: Vec<bool> = c
        .levels()
        .iter()
        .map(|level| grouped.contains(level.as_str()))
        .collect();
    rows.iter()
        .filter(|&&row| match c.codes()[row] {
            Categorical::MISSING => false,
            code => by_level[code as usize],
        })
        .count()
}

/// `z / sqrt(1 + (z / c)²)` with `clip = Some(c)` (RealMLP's `smooth_clip_func`), `z` itself
/// without: near `z` for small values, never beyond ±c.
///
/// `z` is first held within ±1e150, where `(z / c)²` cannot overflow (the clipped value there
/// is `c` to every digit f64 has).
pub(crate) fn clipped(z: f64, clip: Option<f64>) -> f64 {
    match clip {
        Some(c) => {
            let z = z.clamp(-CLIP_RANGE, CLIP_RANGE);
            z / (1.0 + (z / c) * (z / c)).sqrt()
        }
        None => z,
    }
}

/// Beyond this a smoothly clipped value is its bound: `z` is clamped here first.
pub const CLIP_RANGE: f64 = 1e150;

/// The fill of a missing value: the training mean, or under [`Standardize::Robust`] the
/// median (`offset`), which an outlier cannot drag (a mean of 1e27 would be clipped to +3).
fn robust_fill(standardize: Standardize, mean: f64, offset: f64) -> f64 {
    if standardize == Standardize::Robust {
        offset
    } else {
        mean
    }
}

/// The median and interquartile range of the non-missing values (quantiles interpolated
/// linearly, as NumPy's default), as RealMLP-TD's robust scaling fits them: where the range
/// is 0, half of `max - min`; where that is 0 too (a constant column), 1. `(0, 1)` when all
/// are missing.
pub(crate) fn median_and_iqr(mut values: Vec<f64>) -> (f64, f64) {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return (0.0, 1.0);
    }
    values.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let position = q * (values.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        values[low] + (values[high] - values[low]) * (position - low as f64)
    };
    let median = quantile(0.5);
    let mut spread = quantile(0.75) - quantile(0.25);
    if spread == 0.0 {
        spread = 0.5 * (values[values.len() - 1] - values[0]);
    }
    if !(spread.is_finite() && spread.is_normal()) {
        spread = 1.0;
    }
    (median, spread)
}

/// The mean and population standard deviation of the non-missing values, in f64 (as
/// scikit-learn's `StandardScaler` keeps them), the scale being 1 for a constant column;
/// `(0, 1)` when all are missing.
pub(crate) fn mean_and_scale<T: Into<f64>>(values: impl Iterator<Item = T> + Clone) -> (f64, f64) {
    let present = values.map(Into::into).filter(|v: &f64| !v.is_nan());
    let (n, sum) = present
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let variance = present.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let std = variance.sqrt();
    // A column that is constant up to rounding gets scale 1, as in scikit-learn; so does one
    // whose spread is not a normal float.
    let constant = !std.is_finite()
        || std <= 10.0 * f64::EPSILON * mean.abs().max(f64::MIN_POSITIVE)
        || !std.is_normal();
    (mean, if constant { 1.0 } else { std })
}

/// The values of a column that must be numeric; a categorical column is an error naming its
/// first text cell.
pub(crate) fn numeric_values<'a>(
    table: &Table,
    column: &'a Column,
    expected: &str,
) -> Result<&'a [f64], DataError> {
    match column.data() {
        ColumnData::Numeric(numbers) => Ok(numbers.values()),
        ColumnData::Categorical(c) => {
            let (line, value) = c.first_text();
            Err(DataError::NotNumeric {
                source_name: table.source_name().to_owned(),
                line,
                column: column.name().to_owned(),
                expected: expected.to_owned(),
                value: value.to_owned(),
            })
        }
        ColumnData::Date(_) => Err(DataError::NotNumeric {
            source_name: table.source_name().to_owned(),
            line: table.line(0),
            column: column.name().to_owned(),
            expected: expected.to_owned(),
            value: column.display(0),
        }),
    }
}

fn not_a_date(table: &Table, column: &Column) -> DataError {
    DataError::NotNumeric {
        source_name: table.source_name().to_owned(),
        line: table.line(0),
        column: column.name().to_owned(),
        expected: "a date, as in training".to_owned(),
        value: column.display(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped(letters: &str) -> (Vec<String>, Vec<String>) {
        let text: String = letters.chars().map(|c| format!("{c},0\n")).collect();
        let table = Table::from_csv_str("t.csv", &format!("k,y\n{text}")).expect("reads");
        let rows: Vec<usize> = (0..table.num_rows()).collect();
        match FeatureTransform::fit(&table.columns()[0], &rows, Standardize::ZScore, 3) {
            FeatureTransform::Categorical {
                categories,
                infrequent,
                ..
            } => (categories, infrequent),
            other => panic!("not categorical: {other:?}"),
        }
    }

    #[test]
    fn smooth_clipping_holds_any_value_within_its_bound() {
        // pytabkit's smooth_clip_func(x, 3): 1 -> 0.9487, 3 -> 2.1213; beyond 1e154 the
        // square would overflow f64, so the value is held at 1e150 first.
        let c = Some(3.0);
        assert!((clipped(1.0, c) - 0.948_683_298_050_513_8).abs() < 1e-15);
        assert!((clipped(3.0, c) - 2.121_320_343_559_642_4).abs() < 1e-15);
        for z in [1e155, 1e300, f64::INFINITY] {
            assert_eq!(clipped(z, c), 3.0, "{z}");
            assert_eq!(clipped(-z, c), -3.0, "{z}");
        }
        assert_eq!(clipped(1e300, None), 1e300);
    }

    #[test]
    fn robust_scaling_fills_a_blank_with_the_median() {
        // Reported: under --standardize robust a blank took the mean of a column holding 1e30,
        // and so the outlier's answer. Another instance: a date column's parts.
        let table = Table::from_csv_str(
            "t.csv",
            "x,d,y\n1,2024-01-01,0\n2,2024-01-02,1\n3,2024-01-03,0\n1e30,2030-01-01,1\nNA,,0\n",
        )
        .expect("reads");
        let rows: Vec<usize> = (0..5).collect();
        match FeatureTransform::fit(&table.columns()[0], &rows, Standardize::Robust, 50) {
            FeatureTransform::Numeric { offset, fill, .. } => {
                assert_eq!((offset, fill), (2.5, 2.5));
            }
            other => panic!("not numeric: {other:?}"),
        }
        match FeatureTransform::fit(&table.columns()[1], &rows, Standardize::Robust, 50) {
            FeatureTransform::Date { parts, .. } => {
                assert!(parts.iter().all(|p| p.fill == p.offset), "{parts:?}");
            }
            other => panic!("not a date: {other:?}"),
        }
    }

    #[test]
    fn infrequent_categories_are_the_ones_scikit_learn_groups() {
        // OneHotEncoder(max_categories=3).fit(X).infrequent_categories_ (scikit-learn 1.9):
        // "edcba" * 10 -> [a, b, c] (ties keep the later categories); "aaaaabcccdddee" ->
        // [b, c, e] (c and d tie at 3: d is kept).
        let (kept, rest) = grouped(&"edcba".repeat(10));
        assert_eq!(
            (kept, rest),
            (
                vec!["d".into(), "e".into()],
                vec!["a".into(), "b".into(), "c".into()]
            )
        );
        let (kept, rest) = grouped("aaaaabcccdddee");
        assert_eq!(
            (kept, rest),
            (
                vec!["a".into(), "d".into()],
                vec!["b".into(), "c".into(), "e".into()]
            )
        );
    }
}

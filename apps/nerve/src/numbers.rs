//! How numbers read in every line nerve prints for people (JSON and CSV outputs keep full
//! precision): one policy.
//!
//! - Measured values (losses, errors, predictions, weights, gradient norms, learning rates):
//!   four significant digits (all of an integer part: `226973`), plain (`0.07239`, `1.188`),
//!   in scientific notation only
//!   below 0.001 or from a million on (`5.000e-5`, `1.250e6`).
//! - Scores bounded by 1 (accuracy, precision, recall, F1, R²): four decimals (`0.9500`), as
//!   scikit-learn's reports align them.
//! - Durations: the unit that keeps them short (`350 µs`, `1.2 ms`, `2.41 s`, `3 min 5 s`).
//! - Counts in prose: every digit, thousands grouped with commas (`1,423`).

/// A count in prose, thousands grouped with commas: `1,423`.
pub(crate) fn count(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `8MiB`, `512KB`, `1000000`: a size in bytes.
pub(crate) fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "kib" => 1 << 10,
        "mb" | "m" => 1_000_000,
        "mib" => 1 << 20,
        "gb" | "g" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}`; use B, KB, KiB, MB, MiB, GB or GiB"
            ));
        }
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("expected a size such as 8MiB or 1000000, got `{text}`"))
}

/// A size in bytes in the unit that keeps it short, decimal as `--memory-limit` reads it:
/// `350 MB`, `1.8 GB`, `706 GB`.
pub(crate) fn bytes(n: u64) -> String {
    let n = n as f64;
    let (value, unit) = if n >= 1e12 {
        (n / 1e12, "TB")
    } else if n >= 1e9 {
        (n / 1e9, "GB")
    } else if n >= 1e6 {
        (n / 1e6, "MB")
    } else if n >= 1e3 {
        (n / 1e3, "KB")
    } else {
        return format!("{n} B");
    };
    format!("{} {unit}", significant(value, 3))
}

/// A measured value with four significant digits (see the module docs).
pub(crate) fn value(v: f64) -> String {
    significant(v, 4)
}

/// `v` with `digits` significant digits, plain between 0.001 and a million.
pub(crate) fn significant(v: f64, digits: usize) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let digits = digits.max(1);
    let scientific = format!("{:.*e}", digits - 1, v);
    // Rounded first, so that a value rounding up to a new power of ten (9.99996) is written as
    // that power's (10.00).
    let rounded: f64 = scientific.parse().unwrap_or(v);
    let magnitude = rounded.abs();
    if !(1e-3..1e6).contains(&magnitude) {
        return scientific;
    }
    let exponent = magnitude.log10().floor() as i64;
    if exponent >= digits as i64 - 1 {
        // Every digit of the integer part is kept (226973, not 227000).
        return format!("{v:.0}");
    }
    let decimals = (digits as i64 - 1 - exponent) as usize;
    format!("{rounded:.decimals$}")
}

/// A score bounded by 1, with four decimals.
pub(crate) fn score(v: f64) -> String {
    format!("{v:.4}")
}

/// A duration in the unit that keeps it short.
pub(crate) fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds} s");
    }
    if seconds < 1e-3 {
        format!("{} µs", significant(seconds * 1e6, 3))
    } else if seconds < 1.0 {
        format!("{} ms", significant(seconds * 1e3, 3))
    } else if seconds < 60.0 {
        format!("{} s", significant(seconds, 3))
    } else if seconds < 3600.0 {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        let minutes = (seconds / 60.0).round() as u64;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        let shown: Vec<String> = [0, 7, 999, 1000, 1423, 123456, 1234567]
            .into_iter()
            .map(count)
            .collect();
        assert_eq!(
            shown,
            ["0", "7", "999", "1,000", "1,423", "123,456", "1,234,567"]
        );
    }

    #[test]
    fn values_have_four_significant_digits_and_plain_notation_in_range() {
        assert_eq!(value(0.07239064), "0.07239");
        assert_eq!(value(1.187542), "1.188");
        assert_eq!(value(226972.6), "226973");
        assert_eq!(value(5e-5), "5.000e-5");
        assert_eq!(value(0.001), "0.001000");
        assert_eq!(value(-2.5), "-2.500");
        assert_eq!(value(64.99999), "65.00");
        assert_eq!(value(9.99996), "10.00");
        assert_eq!(value(1.5e6), "1.500e6");
        assert_eq!(value(0.0), "0");
        assert_eq!(value(f64::NAN), "NaN");
    }

    #[test]
    fn durations_take_the_short_unit() {
        assert_eq!(duration(0.000_35), "350 µs");
        assert_eq!(duration(0.226_972_6), "227 ms");
        assert_eq!(duration(0.001_2), "1.20 ms");
        assert_eq!(duration(2.414), "2.41 s");
        assert_eq!(duration(185.0), "3 min 5 s");
        assert_eq!(duration(7260.0), "2 h 1 min");
    }
}

//! What one CSV cell holds: missing, a number (plain or formatted), a truth value, or text.
//!
//! The rules are pandas' where pandas has one (`read_csv`'s default missing-value strings and
//! truth values), and nerve's own where pandas would leave a column as text that a user means
//! as numbers: thousands separators, currency symbols and percent signs (`"$1,187.32"`, `38%`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// pandas' default missing-value strings (`pandas._libs.parsers.STR_NA_VALUES`, pandas 3.1),
/// matched exactly.
pub const PANDAS_NA_VALUES: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// Spellings nerve also reads as missing in any capitalisation (pandas only knows some
/// capitalisations of each): `na`, `n/a`, `nan` (with a sign too), `null`.
const ANY_CASE_NA_VALUES: [&str; 6] = ["na", "n/a", "nan", "-nan", "+nan", "null"];

/// The strings that mean "no value": pandas' defaults, `na`, `n/a`, `nan` (signed too) and `null` in any case, and
/// any extra strings the user names (`--na-values`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NaValues {
    extra: HashSet<String>,
    /// The extra strings that are numbers: a cell equal to one as a number is missing too
    /// (`-999` matches `-999.0`, as in pandas).
    extra_numbers: Vec<f64>,
}

impl NaValues {
    /// pandas' defaults plus `extra` (each trimmed, matched exactly).
    pub fn with_extra<S: AsRef<str>>(extra: impl IntoIterator<Item = S>) -> Self {
        let extra: HashSet<String> = extra
            .into_iter()
            .map(|s| s.as_ref().trim().to_owned())
            .collect();
        let extra_numbers = extra
            .iter()
            .filter_map(|s| s.parse::<f64>().ok())
            .filter(|v| !v.is_nan())
            .collect();
        Self {
            extra,
            extra_numbers,
        }
    }

    /// Every cell text that [`NaValues::contains`] reads as missing without parsing a
    /// number: pandas' defaults, each spelling nerve accepts in any capitalisation in all of
    /// its capitalisations, and the extra strings; sorted. For a consumer that can only compare
    /// strings exactly (an ONNX graph's category lookup). An extra string that is a number also
    /// matches other spellings of that number ([`NaValues::numbers`]).
    pub fn spellings(&self) -> Vec<String> {
        let mut all: std::collections::BTreeSet<String> =
            PANDAS_NA_VALUES.iter().map(|s| (*s).to_owned()).collect();
        for token in ANY_CASE_NA_VALUES {
            all.extend(capitalisations(token));
        }
        all.extend(self.extra.iter().cloned());
        all.into_iter().collect()
    }

    /// The extra missing-value strings (beyond the defaults), sorted.
    pub fn extra(&self) -> Vec<String> {
        let mut extra: Vec<String> = self.extra.iter().cloned().collect();
        extra.sort();
        extra
    }

    /// The extra missing-value strings that are numbers, as numbers: a numeric cell equal to
    /// one is missing (`-999` matches `-999.0`).
    pub fn numbers(&self) -> &[f64] {
        &self.extra_numbers
    }

    /// Whether a (trimmed) cell means "no value".
    pub fn contains(&self, cell: &str) -> bool {
        (could_be_default_na(cell.as_bytes())
            && (PANDAS_NA_VALUES.contains(&cell)
                || ANY_CASE_NA_VALUES
                    .iter()
                    .any(|token| cell.eq_ignore_ascii_case(token))))
            || (!self.extra.is_empty() && self.extra.contains(cell))
            || (!self.extra_numbers.is_empty()
                && cell
                    .parse::<f64>()
                    .is_ok_and(|v| self.extra_numbers.contains(&v)))
    }
}

/// Every capitalisation of `token` (`na`: `na`, `nA`, `Na`, `NA`).
pub(crate) fn capitalisations(token: &str) -> Vec<String> {
    token.chars().fold(vec![String::new()], |prefixes, c| {
        let (lower, upper) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
        prefixes
            .into_iter()
            .flat_map(|p| {
                let mut lowered = p.clone();
                lowered.push(lower);
                let mut variants = vec![lowered];
                if upper != lower {
                    let mut uppered = p;
                    uppered.push(upper);
                    variants.push(uppered);
                }
                variants
            })
            .collect()
    })
}

/// A quick test that rules out most cells (every number, most words) before the table lookups:
/// each default is at most 8 bytes, and starts with `#`, `<`, `N`, `n`, or with `-` or `1`
/// followed by a `#` or an `N`/`n` somewhere.
fn could_be_default_na(bytes: &[u8]) -> bool {
    match bytes.first() {
        None => true,
        _ if bytes.len() > 8 => false,
        Some(b'#' | b'<' | b'N' | b'n') => true,
        Some(b'-' | b'+' | b'1') => bytes.iter().any(|b| matches!(b, b'#' | b'N' | b'n')),
        Some(_) => false,
    }
}

/// How the numbers of a column are written, beyond a plain decimal number: what nerve strips
/// before reading them. Recorded per numeric column (and in a model file), so new rows are read
/// the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberFormat {
    /// A thousands separator between groups of three digits (`1,362`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thousands: Option<char>,
    /// A currency symbol before or after the number (`$1,187.32`, `12 €`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<char>,
    /// Every value ends in `%` and is read as a fraction (`38%` is 0.38).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub percent: bool,
    /// The decimal mark is a comma (`2,5`): the convention of the file the column was read
    /// from (delimited by `;` or tab, or `.` thousands), whether or not a value used it. A
    /// model reads new rows by it, whatever their file's delimiter.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decimal_comma: bool,
}

impl NumberFormat {
    /// Whether the numbers are plain (nothing is stripped, the decimal mark is a point).
    pub fn is_plain(&self) -> bool {
        *self == NumberFormat::default()
    }

    /// Whether something is stripped (a thousands separator, a currency symbol, a percent sign).
    pub fn strips(&self) -> bool {
        self.thousands.is_some() || self.currency.is_some() || self.percent
    }

    /// How the numbers were written beyond plain decimal-point numbers, in words: what is
    /// stripped ([`NumberFormat::describe`]) or else `a decimal comma`; `None` when plain.
    pub fn written_with(&self) -> Option<String> {
        if self.strips() {
            Some(self.describe())
        } else if self.decimal_comma {
            Some("a decimal comma".to_owned())
        } else {
            None
        }
    }

    /// What is stripped, in words (`the thousands separator `,` and the currency symbol `$``).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.thousands {
            parts.push(format!("the thousands separator `{t}`"));
        }
        if let Some(c) = self.currency {
            parts.push(format!("the currency symbol `{c}`"));
        }
        if self.percent {
            parts.push("the percent sign (38% reads as 0.38)".to_owned());
        }
        parts.join(" and ")
    }
}

/// Currency symbols nerve strips from numbers.
const CURRENCIES: [char; 7] = ['$', '€', '£', '¥', '₹', '₩', '₽'];

/// How the reader parses numbers: which decimal mark is allowed, and a thousands separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NumberSyntax {
    /// A decimal comma is accepted (files delimited by `;` or tab).
    pub(crate) decimal_comma: bool,
    /// The thousands separator: forced by the user, or `None` to detect `,` in files whose
    /// decimal mark is a point.
    pub(crate) thousands: Option<char>,
}

/// A number read from a cell, and what had to be stripped to read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParsedNumber {
    pub(crate) value: f64,
    pub(crate) format: NumberFormat,
    /// The decimal mark the cell used, when it has a fractional part.
    pub(crate) decimal: Option<char>,
    /// The cell used a decimal comma followed by exactly three digits (`1,234`), which reads
    /// as a thousands separator in other conventions.
    pub(crate) three_after_comma: bool,
}

impl NumberSyntax {
    /// Whether a comma can be the decimal mark: where the delimiter is not a comma (or the
    /// thousands separator is a point), unless the thousands separator is the comma itself.
    pub(crate) fn comma_is_decimal(&self) -> bool {
        (self.decimal_comma || self.thousands == Some('.')) && self.thousands != Some(',')
    }

    /// Parses a number: plain (`-1.5e3`, and `2,5` where a decimal comma is accepted) or
    /// formatted (a thousands separator, a currency symbol, a percent sign). `None` for text.
    pub(crate) fn parse(&self, text: &str) -> Option<ParsedNumber> {
        if let Some(value) = self.parse_plain(text) {
            let comma = self.thousands != Some(',') && text.contains(',');
            let decimal = if comma {
                Some(',')
            } else {
                text.contains('.').then_some('.')
            };
            let three_after_comma = comma
                && text
                    .split_once(',')
                    .is_some_and(|(_, f)| f.len() == 3 && f.bytes().all(|b| b.is_ascii_digit()));
            return Some(ParsedNumber {
                value,
                format: NumberFormat {
                    decimal_comma: comma,
                    ..NumberFormat::default()
                },
                decimal,
                three_after_comma,
            });
        }
        self.parse_formatted(text)
    }

    /// A plain decimal number; `inf` and `infinity` parse too (the caller refuses them).
    pub(crate) fn parse_plain(&self, text: &str) -> Option<f64> {
        let first = *text.as_bytes().first()?;
        // Only text that starts like a number is worth parsing (Rust also accepts `inf`).
        if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I')) {
            return None;
        }
        let value = if self.thousands != Some('.')
            && let Ok(value) = text.parse::<f64>()
        {
            Some(value)
        } else if self.comma_is_decimal()
            && text.bytes().filter(|&b| b == b',').count() == 1
            && !text.contains('.')
        {
            text.replacen(',', ".", 1).parse().ok()
        } else if self.thousands == Some('.') && !text.contains(',') && !text.contains('.') {
            text.parse().ok()
        } else {
            None
        };
        // `+nan` and the like are text (the missing spellings were matched before).
        value.filter(|v: &f64| !v.is_nan())
    }

    /// A number written with a thousands separator, a currency symbol or a percent sign.
    fn parse_formatted(&self, text: &str) -> Option<ParsedNumber> {
        let mut format = NumberFormat::default();
        let mut rest = text;
        // One sign, before or after a leading currency symbol (`-$5`, `$-5`; not `-$-5`).
        let mut negative = false;
        let mut signed = false;
        let mut take_sign = |rest: &mut &str| {
            if signed {
                return;
            }
            if let Some(r) = rest.strip_prefix('-') {
                negative = true;
                signed = true;
                *rest = r;
            } else if let Some(r) = rest.strip_prefix('+') {
                signed = true;
                *rest = r;
            }
        };
        take_sign(&mut rest);
        if let Some(c) = rest.chars().next().filter(|c| CURRENCIES.contains(c)) {
            format.currency = Some(c);
            rest = rest[c.len_utf8()..].trim_start();
            take_sign(&mut rest);
        }
        if let Some(r) = rest.strip_suffix('%') {
            format.percent = true;
            rest = r.trim_end();
        }
        if format.currency.is_none()
            && let Some(c) = rest.chars().last().filter(|c| CURRENCIES.contains(c))
        {
            format.currency = Some(c);
            rest = rest[..rest.len() - c.len_utf8()].trim_end();
        }
        // The decimal mark: a comma where commas are decimal and the cell has one, else a point.
        let decimal =
            if self.comma_is_decimal() && (self.thousands == Some('.') || rest.contains(',')) {
                ','
            } else {
                '.'
            };
        let (integer, fraction) = match rest.split_once(decimal) {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        if let Some(f) = fraction
            && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let thousands = match self.thousands {
            Some(t) => Some(t),
            // Detected: `,` where the decimal mark is a point; `.` where it is a comma and the
            // cell has one (`1.234,56`; a lone `1.234` stays a decimal point, as in pandas).
            None if !self.comma_is_decimal() => Some(','),
            None if fraction.is_some() && decimal == ',' => Some('.'),
            None => None,
        };
        let mut digits = String::with_capacity(integer.len() + 8);
        // A space separator stands for the no-break spaces spreadsheets write (U+00A0, U+202F).
        let is_separator =
            |c: char, t: char| c == t || (t == ' ' && matches!(c, '\u{a0}' | '\u{202f}'));
        match thousands.filter(|&t| integer.chars().any(|c| is_separator(c, t))) {
            Some(t) => {
                let groups: Vec<&str> = integer.split(|c| is_separator(c, t)).collect();
                // A first group of `0` (`0,125`) is no thousands grouping.
                let first_ok = (1..=3).contains(&groups[0].len()) && !groups[0].starts_with('0');
                let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
                if !first_ok
                    || !rest_ok
                    || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
                {
                    return None;
                }
                format.thousands = Some(t);
                groups.iter().for_each(|g| digits.push_str(g));
            }
            None => {
                if integer.is_empty() || !integer.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.push_str(integer);
            }
        }
        if !format.strips() {
            return None;
        }
        format.decimal_comma = decimal == ',' && fraction.is_some();
        if let Some(f) = fraction {
            digits.push('.');
            digits.push_str(f);
        }
        let mut value: f64 = digits.parse().ok()?;
        if format.percent {
            value /= 100.0;
        }
        if negative {
            value = -value;
        }
        Some(ParsedNumber {
            value,
            format,
            decimal: fraction.map(|_| decimal),
            three_after_comma: decimal == ',' && fraction.is_some_and(|f| f.len() == 3),
        })
    }
}

/// pandas' truth values (`True`, `TRUE`, `true`, ...), here in any capitalisation.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Whether a whole number is written with leading zeros (`02134`, `007`, `-01`): two digits or
/// more starting with `0`, nothing else. `0`, `-0`, and a fraction or exponent (`00.5`,
/// `0422.54`, `007e2`: zero-padded quantities) are not.
pub(crate) fn has_leading_zeros(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() >= 2 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// How a number or truth value is written, to tell spellings of one level that differ only by
/// trailing zeros or capitals (`3` and `3.0`, `True` and `TRUE`) from spellings in another
/// notation (`1E5` and `100000`, `007` and `7`, `$5` and `5`), which may well be different codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notation {
    /// Decimal digits with a point, or none (`3`, `-0.50`, `+2`, `.5`).
    Plain,
    /// With an exponent (`1E5`, `2e-3`).
    Exponent,
    /// With leading zeros (`007`).
    LeadingZeros,
    /// With a currency symbol (this one), a percent sign or a thousands separator.
    Formatted {
        /// The currency symbol.
        currency: Option<char>,
        /// A percent sign.
        percent: bool,
    },
    /// With a decimal comma (`2,5`).
    DecimalComma,
    /// A truth value, or anything else.
    Other,
}

impl Notation {
    /// The notation of a (trimmed) cell.
    pub(crate) fn of(text: &str, syntax: &NumberSyntax) -> Notation {
        let Some(parsed) = syntax.parse(text) else {
            return Notation::Other;
        };
        if parsed.format.strips() {
            Notation::Formatted {
                currency: parsed.format.currency,
                percent: parsed.format.percent,
            }
        } else if has_leading_zeros(text) {
            Notation::LeadingZeros
        } else if text.contains(['e', 'E']) {
            Notation::Exponent
        } else if parsed.decimal == Some(',') {
            Notation::DecimalComma
        } else {
            Notation::Plain
        }
    }
}

/// What makes two cells of a categorical column the same level: equal numbers (`3`, `3.0`,
/// `-0`, `0`), the same truth value in any capitalisation, or the same text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LevelKey {
    /// A number's bits, with `-0` as `0`.
    Number(u64),
    /// An integer too long for a float to hold exactly, as its digits (no sign `+`, no leading zeros).
    Integer(String),
    /// A truth value.
    Bool(bool),
    /// Anything else, as written (trimmed).
    Text(String),
}

impl LevelKey {
    /// The key of a number.
    pub(crate) fn number(value: f64) -> LevelKey {
        LevelKey::Number(normalized_bits(value))
    }

    /// The key of a cell's text: numbers by value, formatted or not, as the numeric rule reads
    /// them (`3`, `3.0`, `$3` and `300%` are 3). This must be so: a column read as numbers
    /// until its first text cell keeps one spelling per value, so its earlier cells can only
    /// be keyed by value, and later cells must be keyed alike.
    pub(crate) fn of(text: &str, syntax: &NumberSyntax) -> LevelKey {
        if let Some(digits) = long_integer(text) {
            return LevelKey::Integer(digits);
        }
        if let Some(parsed) = syntax.parse(text).filter(|p| p.value.is_finite()) {
            return LevelKey::number(parsed.value);
        }
        match parse_bool(text) {
            Some(b) => LevelKey::Bool(b),
            None => LevelKey::Text(text.to_owned()),
        }
    }
}

/// A number's bits with `-0` as `0`: the identity of a value wherever values are compared
/// (levels, class labels, distinct counts, first spellings).
pub(crate) fn normalized_bits(value: f64) -> u64 {
    if value == 0.0 { 0.0f64 } else { value }.to_bits()
}

/// An integer literal of more than 15 digits (past what an f64 holds exactly), normalized.
pub(crate) fn long_integer(text: &str) -> Option<String> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.len() <= 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    if digits.len() <= 15 {
        return None;
    }
    Some(if negative {
        format!("-{digits}")
    } else {
        digits.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMA: NumberSyntax = NumberSyntax {
        decimal_comma: false,
        thousands: None,
    };
    const SEMICOLON: NumberSyntax = NumberSyntax {
        decimal_comma: true,
        thousands: None,
    };

    fn value(syntax: &NumberSyntax, text: &str) -> Option<f64> {
        syntax.parse(text).map(|p| p.value)
    }

    #[test]
    fn missing_values_are_pandas_defaults_and_extras() {
        let na = NaValues::default();
        for text in PANDAS_NA_VALUES {
            assert!(na.contains(text), "{text}");
        }
        for text in ["Na", "NULL", "Null", "NAN", "n/A"] {
            assert!(na.contains(text), "{text}");
        }
        assert!(na.contains("+NaN") && na.contains("-NAN"));
        for text in ["none", "0", "-", "?", "missing", "-1", "+5", "1.5"] {
            assert!(!na.contains(text), "{text}");
        }
        let na = NaValues::with_extra(["?", " - "]);
        assert!(na.contains("?") && na.contains("-") && !na.contains("--"));
        let na = NaValues::with_extra(["-999"]);
        assert!(na.contains("-999.0") && na.contains("-999") && !na.contains("999"));
    }

    #[test]
    fn plain_and_formatted_numbers() {
        assert_eq!(value(&COMMA, "-1.5e3"), Some(-1500.0));
        assert_eq!(value(&COMMA, "1,362"), Some(1362.0));
        assert_eq!(value(&COMMA, "$1,187.32"), Some(1187.32));
        assert_eq!(value(&COMMA, "-$5"), Some(-5.0));
        assert_eq!(value(&COMMA, "$-5"), Some(-5.0));
        assert_eq!(value(&COMMA, "12 €"), Some(12.0));
        assert_eq!(value(&COMMA, "38%"), Some(0.38));
        assert_eq!(value(&COMMA, "-2.5 %"), Some(-0.025));
        assert_eq!(value(&COMMA, "1,234,567.5"), Some(1_234_567.5));
        for text in [
            "1,2", "12,34", "1,2345", ",123", "5+", "$", "%", "1.2.3", "$1.", "x1",
        ] {
            assert_eq!(value(&COMMA, text), None, "{text}");
        }
        let parsed = COMMA.parse("$1,187.32").expect("a number");
        assert_eq!(
            parsed.format,
            NumberFormat {
                thousands: Some(','),
                currency: Some('$'),
                percent: false,
                decimal_comma: false,
            }
        );
        // Decimal commas where the delimiter is not a comma; no comma thousands there.
        assert_eq!(value(&SEMICOLON, "2,5"), Some(2.5));
        assert_eq!(value(&SEMICOLON, "1,362"), Some(1.362));
        assert_eq!(value(&SEMICOLON, "€2,5"), Some(2.5));
        assert_eq!(value(&SEMICOLON, "38,5 %"), Some(0.385));
        assert_eq!(
            value(&COMMA, "0,125"),
            None,
            "a first group of 0 is no thousands grouping"
        );
        assert_eq!(value(&COMMA, "+nan"), None);
        // A thousands comma the user names is never a decimal comma.
        let named = NumberSyntax {
            decimal_comma: true,
            thousands: Some(','),
        };
        assert_eq!(value(&named, "1,234"), Some(1234.0));
        assert_eq!(value(&named, "12,500"), Some(12_500.0));
        let dots = NumberSyntax {
            decimal_comma: true,
            thousands: Some('.'),
        };
        assert_eq!(value(&dots, "1.234,5"), Some(1234.5));
        assert_eq!(value(&dots, "1.234"), Some(1234.0));
        assert_eq!(value(&dots, "7"), Some(7.0));
        let spaces = NumberSyntax {
            decimal_comma: false,
            thousands: Some(' '),
        };
        assert_eq!(value(&spaces, "1 234 567"), Some(1_234_567.0));
        assert_eq!(
            value(&spaces, "220\u{a0}131,0"),
            None,
            "a decimal comma needs a `;` file"
        );
        let french = NumberSyntax {
            decimal_comma: true,
            thousands: Some(' '),
        };
        assert_eq!(value(&french, "220\u{a0}131,5"), Some(220_131.5));
        assert_eq!(value(&french, "1\u{202f}000"), Some(1000.0));
        assert_eq!(value(&COMMA, "-$-5"), None, "one sign");
    }

    #[test]
    fn levels_are_keyed_by_value() {
        let key = |text| LevelKey::of(text, &COMMA);
        assert_eq!(key("3"), key("3.00"));
        assert_eq!(key("-0"), key("0"));
        assert_eq!(key("-0.0"), key("0.0"));
        assert_eq!(key("True"), key("TRUE"));
        assert_eq!(key("false"), key("False"));
        assert_ne!(key("True"), key("1"));
        assert_ne!(key("Male"), key("male"));
        assert_ne!(key("100000000000000001"), key("100000000000000002"));
        assert_eq!(key("0100000000000000001"), key("+100000000000000001"));
        assert_eq!(LevelKey::of("2,5", &SEMICOLON), key("2.5"));
        assert_eq!(key("$5"), key("5"), "formatted numbers are keyed by value");
        assert_eq!(key("50%"), key("0.5"));
        assert_eq!(key("1,000"), key("1000"));
        assert_ne!(key("2,5"), key("2.5"));
    }

    #[test]
    fn leading_zeros_and_notations() {
        for text in ["02134", "007", "-01", "00", "+0012"] {
            assert!(has_leading_zeros(text), "{text}");
        }
        // Zero-padded quantities are not codes (the helper's report: `0422.54`, `00e1000`).
        for text in [
            "0", "0.5", "-0", "0e5", "10", "100", "0,5", "x0012", "00.5", "0422.54", "007e2",
            "00e1000",
        ] {
            assert!(!has_leading_zeros(text), "{text}");
        }
        let notation = |text| Notation::of(text, &COMMA);
        assert_eq!(notation("3"), notation("3.00"));
        assert_eq!(notation("+3"), Notation::Plain);
        assert_eq!(notation("1E5"), Notation::Exponent);
        assert_eq!(notation("007"), Notation::LeadingZeros);
        assert_eq!(notation("$5"), notation("$5.00"));
        assert_ne!(
            notation("$5"),
            notation("€5"),
            "the helper's report: two currencies"
        );
        assert_ne!(notation("1,000"), notation("1000"));
        assert_eq!(Notation::of("2,5", &SEMICOLON), Notation::DecimalComma);
        assert_eq!(notation("True"), Notation::Other);
    }
}

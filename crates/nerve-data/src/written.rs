//! [`Written`]: the cells of a column whose text is not the one the column would show for them
//! otherwise — `$49.57` where the value would show as `49.57`, `007` among the level `7`,
//! `05/03/2024` for the date `2024-03-05` — so that every table nerve prints, and `predict
//! --keep`, shows a cell as the file writes it.
//!
//! Only the exceptions are stored, in one string: a column whose cells are written the way it
//! shows them (most integer and shortest-decimal columns, most categories) costs nothing, and
//! one where every cell differs costs about its text.

/// The text of some rows of a column (their row index ascending), as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Written {
    /// The rows that have a text, ascending (u32: half the memory of usize, and a column of
    /// more than 4 billion rows would not fit in memory anyway).
    rows: Vec<u32>,
    /// Where each row's text ends in `text` (a column's exceptions may pass 4 GiB of text).
    ends: Vec<usize>,
    text: String,
}

impl Written {
    /// Records `text` for `row`, which must come after every row recorded so far.
    pub(crate) fn push(&mut self, row: usize, text: &str) {
        debug_assert!(self.rows.last().is_none_or(|&last| (last as usize) < row));
        self.text.push_str(text);
        self.rows.push(row as u32);
        self.ends.push(self.text.len());
    }

    /// The text recorded for `row`.
    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        let i = self.rows.binary_search(&u32::try_from(row).ok()?).ok()?;
        Some(self.text_at(i))
    }

    fn text_at(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Every recorded `(row, text)`, rows ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &str)> {
        (0..self.rows.len()).map(|i| (self.rows[i] as usize, self.text_at(i)))
    }

    /// The texts of the rows where `keep` holds, renumbered as those rows are.
    pub(crate) fn retain(&mut self, keep: &[bool]) {
        if self.rows.is_empty() {
            return;
        }
        // The new index of each kept row: the number of kept rows before it.
        let mut kept_before = Vec::with_capacity(keep.len());
        let mut count = 0;
        for &k in keep {
            kept_before.push(count);
            count += usize::from(k);
        }
        let mut out = Written::default();
        for (row, text) in self.iter() {
            if keep[row] {
                out.push(kept_before[row], text);
            }
        }
        *self = out;
    }

    /// The union of `self` and `more` (rows of `more` that `self` lacks), rows ascending.
    pub(crate) fn merged_with(&self, more: &Written) -> Written {
        let mut out = Written::default();
        let (mut a, mut b) = (self.iter().peekable(), more.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&(ra, _)), Some(&(rb, _))) if rb < ra => b.next(),
                (Some(&(ra, _)), Some(&(rb, _))) if rb == ra => {
                    b.next();
                    a.next()
                }
                (Some(_), _) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some((row, text)) = next {
                out.push(row, text);
            }
        }
        out
    }
}

/// Whether `text` is exactly how Rust (and so nerve) shows the number it reads as: an
/// optional `-`, the integer part without leading zeros, and a fraction without trailing
/// zeros, no exponent, at most 15 significant digits (which an f64 holds exactly, so no
/// shorter decimal reads as the same number). A cheap test on the text alone, so it can run on
/// every cell; `false` only costs keeping the cell's text.
pub(crate) fn is_shown_as_written(text: &str) -> bool {
    // One pass over the bytes: this runs on every numeric cell of a large file.
    let b = text.as_bytes();
    let start = usize::from(b.first() == Some(&b'-'));
    let mut i = start;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let integer = i - start;
    if integer == 0 || (integer > 1 && b[start] == b'0') {
        return false;
    }
    let zero = b[start] == b'0';
    if i == b.len() {
        return integer <= 15;
    }
    if b[i] != b'.' {
        return false;
    }
    let fraction = i + 1;
    let mut leading = 0;
    let mut j = fraction;
    while j < b.len() && b[j].is_ascii_digit() {
        if j == fraction + leading && b[j] == b'0' {
            leading += 1;
        }
        j += 1;
    }
    if j != b.len() || j == fraction || b[j - 1] == b'0' {
        return false;
    }
    let significant = if zero {
        j - fraction - leading
    } else {
        integer + j - fraction
    };
    significant <= 15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_are_found_renumbered_and_merged() {
        let mut w = Written::default();
        w.push(1, "$5");
        w.push(4, "007");
        w.push(9, "");
        assert_eq!(w.get(1), Some("$5"));
        assert_eq!(w.get(4), Some("007"));
        assert_eq!(w.get(9), Some(""));
        assert_eq!(w.get(0), None);
        let mut kept = w.clone();
        let mut keep = vec![true; 10];
        keep[0] = false;
        keep[4] = false;
        kept.retain(&keep);
        assert_eq!(kept.iter().collect::<Vec<_>>(), [(0, "$5"), (7, "")]);
        let mut other = Written::default();
        other.push(0, "a");
        other.push(4, "b");
        other.push(12, "c");
        let all: Vec<(usize, String)> = w
            .merged_with(&other)
            .iter()
            .map(|(r, t)| (r, t.to_owned()))
            .collect();
        assert_eq!(
            all,
            [
                (0, "a".into()),
                (1, "$5".into()),
                (4, "007".into()),
                (9, "".into()),
                (12, "c".into())
            ]
        );
    }

    #[test]
    fn shortest_forms_are_recognised_from_the_text() {
        for text in [
            "0",
            "-0",
            "7",
            "-12",
            "0.5",
            "3.25",
            "0.001",
            "123456789012345",
        ] {
            assert!(is_shown_as_written(text), "{text}");
            let value: f64 = text.parse().unwrap();
            assert_eq!(
                value.to_string(),
                text,
                "the test agrees with Rust's Display"
            );
        }
        for text in [
            "007",
            "3.0",
            "3.",
            ".5",
            "+3",
            "1e5",
            "1E5",
            "$5",
            "1,000",
            "",
            "-",
            "0.10",
            "1234567890123456",
        ] {
            assert!(!is_shown_as_written(text), "{text}");
        }
    }
}

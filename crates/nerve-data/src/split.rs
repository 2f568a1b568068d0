//! [`Split`]: seeded, optionally stratified train / validation / test row sets.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::DataError;

/// The sizes and seed of a split. Fractions are of all rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitOptions {
    /// The share of rows held out for the final test, in `[0, 1)`.
    pub test: f64,
    /// The share of rows held out for validation, in `[0, 1)`.
    pub validation: f64,
    /// Seeds the shuffle: the same seed and data give the same split.
    pub seed: u64,
}

impl SplitOptions {
    /// The rows the test and validation parts ask for out of `num_rows`: `ceil(fraction ×
    /// num_rows)`, as scikit-learn's `train_test_split` counts. (Stratifying may give fewer.)
    pub fn requested(&self, num_rows: usize) -> (usize, usize) {
        let count = |fraction: f64| (fraction * num_rows as f64).ceil() as usize;
        (count(self.test), count(self.validation))
    }
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            test: 0.2,
            validation: 0.0,
            seed: 42,
        }
    }
}

/// Row indices of the training, validation and test parts, each ascending. Together they hold
/// every row exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows for validation (early stopping); may be empty.
    pub validation: Vec<usize>,
    /// Rows for the final test; may be empty.
    pub test: Vec<usize>,
}

impl Split {
    /// The split [`prepare`](crate::prepare) makes, reproducible from the same rows and
    /// options (as `nerve eval --split` does): [`Split::new`], except that a table of fewer than
    /// [`MIN_ROWS_TO_SPLIT`](crate::MIN_ROWS_TO_SPLIT) rows is not split — every row trains, and
    /// the second value says that a split was asked for but skipped.
    ///
    /// # Errors
    /// As [`Split::new`].
    pub fn of_rows(
        num_rows: usize,
        strata: Option<&[u32]>,
        options: &SplitOptions,
    ) -> Result<(Split, bool), DataError> {
        let wants_split = options.test > 0.0 || options.validation > 0.0;
        if wants_split && num_rows < crate::MIN_ROWS_TO_SPLIT {
            let all = Split {
                train: (0..num_rows).collect(),
                ..Split::default()
            };
            return Ok((all, true));
        }
        Ok((Split::new(num_rows, strata, options)?, false))
    }

    /// Splits `num_rows` rows. The test part gets `ceil(test × num_rows)` rows and the
    /// validation part `ceil(validation × num_rows)`, as scikit-learn's `train_test_split` counts.
    ///
    /// With `strata` (one class id per row), each class is split in proportion, its share of
    /// each part within one row of the exact quota, and at least one row of every class stays
    /// in training.
    pub fn new(
        num_rows: usize,
        strata: Option<&[u32]>,
        options: &SplitOptions,
    ) -> Result<Split, DataError> {
        let SplitOptions {
            test,
            validation,
            seed,
        } = *options;
        for (name, fraction) in [("test", test), ("validation", validation)] {
            if !(0.0..1.0).contains(&fraction) {
                return Err(DataError::Config(format!(
                    "the {name} split must be a fraction in [0, 1), got {fraction}"
                )));
            }
        }
        if test + validation >= 1.0 {
            return Err(DataError::Config(format!(
                "the test ({test}) and validation ({validation}) splits leave no rows for training"
            )));
        }
        if let Some(strata) = strata
            && strata.len() != num_rows
        {
            return Err(DataError::Config(format!(
                "{} strata for {num_rows} rows",
                strata.len()
            )));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut groups: Vec<Vec<usize>> = match strata {
            Some(strata) => {
                let mut by_class: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
                for (row, &class) in strata.iter().enumerate() {
                    by_class.entry(class).or_default().push(row);
                }
                by_class.into_values().collect()
            }
            None => vec![(0..num_rows).collect()],
        };
        for group in &mut groups {
            group.shuffle(&mut rng);
        }
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        // Every group keeps at least one row for training.
        let mut room: Vec<usize> = sizes.iter().map(|&n| n.saturating_sub(1)).collect();
        let (test_rows, validation_rows) = options.requested(num_rows);
        let test_counts = allocate(test_rows, &sizes, &mut room);
        let validation_counts = allocate(validation_rows, &sizes, &mut room);

        let mut split = Split::default();
        for ((group, t), v) in groups.iter().zip(test_counts).zip(validation_counts) {
            split.test.extend(&group[..t]);
            split.validation.extend(&group[t..t + v]);
            split.train.extend(&group[t + v..]);
        }
        split.train.sort_unstable();
        split.validation.sort_unstable();
        split.test.sort_unstable();
        Ok(split)
    }
}

/// The held-out rows of each of `k` folds over `rows`, for k-fold cross-validation: every row
/// is held out by exactly one fold, and each fold trains on the others. Rows are shuffled
/// (seeded) and dealt to the folds in turn, as scikit-learn's `KFold(shuffle=True)`; with
/// `strata` (one class id per entry of `rows`) each class is shuffled and dealt on from where
/// the last left off, as `StratifiedKFold(shuffle=True)` balances classes, so each fold's count
/// of a class is within one of the others' and the folds' sizes are within one.
///
/// The folds depend only on `seed` and the rows (their indices and classes), not on the
/// order `rows` come in. Each fold is ascending.
///
/// # Errors
///
/// `k` below 2, more folds than rows, or `strata` of another length than `rows`.
pub fn k_folds(
    rows: &[usize],
    strata: Option<&[u32]>,
    k: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>, DataError> {
    if k < 2 {
        return Err(DataError::Config(format!(
            "cross-validation needs at least 2 folds, got {k}"
        )));
    }
    if rows.len() < k {
        return Err(DataError::Config(format!(
            "{k} folds need at least {k} rows, one held out by each; there are {}",
            rows.len()
        )));
    }
    if let Some(strata) = strata
        && strata.len() != rows.len()
    {
        return Err(DataError::Config(format!(
            "{} strata for {} rows",
            strata.len(),
            rows.len()
        )));
    }
    let mut by_class: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &row) in rows.iter().enumerate() {
        let class = strata.map_or(0, |strata| strata[i]);
        by_class.entry(class).or_default().push(row);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for mut group in by_class.into_values() {
        group.sort_unstable();
        group.shuffle(&mut rng);
        for row in group {
            folds[next % k].push(row);
            next += 1;
        }
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    Ok(folds)
}

/// Shares `total` rows among groups in proportion to `sizes` by largest remainder, taking no
/// more from a group than its `room` (which shrinks by what is taken) and never more than its
/// quota rounded up: when small groups run out of room, the part comes out smaller rather
/// than unbalanced.
fn allocate(total: usize, sizes: &[usize], room: &mut [usize]) -> Vec<usize> {
    let num_rows: usize = sizes.iter().sum();
    if total == 0 || num_rows == 0 {
        return vec![0; sizes.len()];
    }
    let quotas: Vec<f64> = sizes
        .iter()
        .map(|&size| total as f64 * size as f64 / num_rows as f64)
        .collect();
    let mut counts: Vec<usize> = quotas
        .iter()
        .zip(room.iter())
        .map(|(&quota, &room)| (quota.floor() as usize).min(room))
        .collect();
    // The rest goes one row at a time to the groups furthest below their quota; ties go to the
    // larger group, then the earlier one, so the result depends on nothing but the inputs.
    let mut left = total.saturating_sub(counts.iter().sum());
    while left > 0 {
        let best = (0..sizes.len())
            .filter(|&g| counts[g] < room[g] && (counts[g] as f64) < quotas[g].ceil())
            .max_by(|&a, &b| {
                (quotas[a] - counts[a] as f64)
                    .total_cmp(&(quotas[b] - counts[b] as f64))
                    .then(sizes[a].cmp(&sizes[b]))
                    .then(b.cmp(&a))
            });
        let Some(best) = best else { break };
        counts[best] += 1;
        left -= 1;
    }
    for (room, &count) in room.iter_mut().zip(&counts) {
        *room -= count;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn options(test: f64, validation: f64, seed: u64) -> SplitOptions {
        SplitOptions {
            test,
            validation,
            seed,
        }
    }

    #[test]
    fn k_folds_partition_the_rows_and_balance_classes() {
        // 3 classes of 50, 17 and 8 rows over rows 100..175 (not starting at 0).
        let rows: Vec<usize> = (100..175).collect();
        let strata: Vec<u32> = (0..75)
            .map(|i| match i {
                0..50 => 0,
                50..67 => 1,
                _ => 2,
            })
            .collect();
        let folds = k_folds(&rows, Some(&strata), 5, 7).expect("valid");
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, rows);
        for fold in &folds {
            assert_eq!(fold.len(), 15);
            assert!(fold.windows(2).all(|w| w[0] < w[1]));
            let count = |class: u32| {
                fold.iter()
                    .filter(|&&row| strata[row - 100] == class)
                    .count()
            };
            assert_eq!(count(0), 10);
            assert!((3..=4).contains(&count(1)), "{}", count(1));
            assert!((1..=2).contains(&count(2)), "{}", count(2));
        }
        // The same seed and rows in another order: the same folds; another seed: others.
        let reversed: Vec<usize> = rows.iter().rev().copied().collect();
        let strata_reversed: Vec<u32> = strata.iter().rev().copied().collect();
        assert_eq!(
            k_folds(&reversed, Some(&strata_reversed), 5, 7).expect("valid"),
            folds
        );
        assert_ne!(k_folds(&rows, Some(&strata), 5, 8).expect("valid"), folds);
    }

    #[test]
    fn k_folds_refuse_too_few_rows_or_folds() {
        assert!(k_folds(&[0, 1, 2], None, 4, 1).is_err());
        assert!(k_folds(&[0, 1, 2], None, 1, 1).is_err());
        assert!(k_folds(&[0, 1, 2], Some(&[0, 1]), 2, 1).is_err());
        // A class smaller than the folds leaves some folds without it, none empty.
        let folds = k_folds(&[0, 1, 2, 3, 4, 5], Some(&[0, 0, 0, 0, 0, 1]), 3, 1).expect("valid");
        assert!(folds.iter().all(|f| f.len() == 2), "{folds:?}");
    }

    #[test]
    fn counts_follow_scikit_learn() {
        let split = Split::new(150, None, &options(0.2, 0.0, 42)).expect("valid");
        assert_eq!((split.train.len(), split.test.len()), (120, 30));
        let split = Split::new(442, None, &options(0.2, 0.1, 1)).expect("valid");
        assert_eq!(split.test.len(), 89);
        assert_eq!(split.validation.len(), 45);
        assert_eq!(split.train.len(), 442 - 89 - 45);
    }

    #[test]
    fn stratified_iris_gets_ten_of_each_class() {
        let strata: Vec<u32> = (0..150).map(|i| i / 50).collect();
        let split = Split::new(150, Some(&strata), &options(0.2, 0.0, 7)).expect("valid");
        for class in 0..3 {
            let in_test = split.test.iter().filter(|&&r| strata[r] == class).count();
            assert_eq!(in_test, 10);
        }
    }

    #[test]
    fn bad_fractions_are_errors() {
        assert!(Split::new(10, None, &options(1.0, 0.0, 0)).is_err());
        assert!(Split::new(10, None, &options(-0.1, 0.0, 0)).is_err());
        assert!(Split::new(10, None, &options(0.5, 0.5, 0)).is_err());
        assert!(Split::new(10, Some(&[0; 3]), &options(0.2, 0.0, 0)).is_err());
    }

    proptest! {
        #[test]
        fn splits_are_disjoint_complete_stratified_and_seeded(
            strata in prop::collection::vec(0u32..5, 1..300),
            test in 0.0f64..0.5,
            validation in 0.0f64..0.4,
            seed in any::<u64>(),
        ) {
            let n = strata.len();
            let opts = options(test, validation, seed);
            let split = Split::new(n, Some(&strata), &opts).expect("valid fractions");
            let mut all: Vec<usize> = split.train.iter()
                .chain(&split.validation)
                .chain(&split.test)
                .copied()
                .collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            prop_assert_eq!(&Split::new(n, Some(&strata), &opts).expect("valid"), &split);

            let n_test = (test * n as f64).ceil();
            for class in 0..5 {
                let size = strata.iter().filter(|&&c| c == class).count();
                if size == 0 {
                    continue;
                }
                let count = |rows: &[usize]| rows.iter().filter(|&&r| strata[r] == class).count();
                let (in_train, in_test) = (count(&split.train), count(&split.test));
                prop_assert!(in_train >= 1, "class {} has no training row", class);
                let quota = n_test * size as f64 / n as f64;
                // Within one row of the quota, unless the class ran out of rows to give.
                let capped = in_train == 1;
                prop_assert!(
                    (in_test as f64 - quota).abs() < 1.0 || (capped && (in_test as f64) < quota),
                    "class {} of {}: {} test rows for a quota of {}", class, size, in_test, quota
                );
            }
        }

        #[test]
        fn unstratified_splits_take_the_exact_counts(
            n in 2usize..500,
            test in 0.0f64..0.5,
            seed in any::<u64>(),
        ) {
            let split = Split::new(n, None, &options(test, 0.0, seed)).expect("valid");
            let expected = ((test * n as f64).ceil() as usize).min(n - 1);
            prop_assert_eq!(split.test.len(), expected);
            prop_assert_eq!(split.train.len() + split.test.len(), n);
        }
    }
}

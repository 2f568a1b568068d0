//! nerve-train's classification metrics against scikit-learn's on the same predictions
//! (`tests/fixtures/metrics.json`, written by `tests/fixtures/metrics_fixtures.py`): macro
//! averages over the classes present in the true or predicted values, as scikit-learn's
//! `f1_score(average="macro")` without `labels` (issue 13).

#![allow(clippy::unwrap_used)]

use nerve_train::ClassificationMetrics;
use serde_json::Value;

#[test]
fn classification_metrics_match_scikit_learn() {
    let cases: Value = serde_json::from_str(include_str!("../fixtures/metrics.json")).unwrap();
    let ids = |v: &Value| -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    for (i, case) in cases.as_array().unwrap().iter().enumerate() {
        let k = case["num_classes"].as_u64().unwrap() as usize;
        let m = ClassificationMetrics::new(&ids(&case["actual"]), &ids(&case["predicted"]), k);
        for (name, got) in [
            ("accuracy", m.accuracy),
            ("precision_macro", m.precision_macro),
            ("recall_macro", m.recall_macro),
            ("f1_macro", m.f1_macro),
        ] {
            let want = case[name].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-12,
                "case {i}: {name} {got}, scikit-learn {want}"
            );
        }
    }
}

//! `metrics.json`: a run's outcome and the metrics of each part. `train` writes it (into the run
//! folder, into the model file's metadata, and as `--json`'s last line); `inspect` and `plot`
//! read it back as this type.

use std::path::Path;

use nerve_data::{Preprocessor, Task};
use nerve_train::{PartMetrics, Report, StopReason, TrainOutcome};
use serde::{Deserialize, Serialize};

use crate::{Result, RunConfig, RunError};

/// What `metrics.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// The nerve that trained the model.
    pub nerve_version: String,
    /// The data file, as given.
    pub data: String,
    /// Classification or regression.
    pub task: Task,
    /// The target column.
    pub target: String,
    /// The backend's name.
    pub backend: String,
    /// Why training stopped.
    pub stop_reason: StopReason,
    /// Epochs run (a resumed run's included).
    pub epochs_run: usize,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Seconds of training.
    pub seconds: f64,
    /// The last epoch's training loss (`null` in the file when it was not finite).
    #[serde(deserialize_with = "nerve_train::non_finite::or_null")]
    pub final_loss: f64,
    /// The class names, for classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// The training rows' metrics.
    pub train: PartSummary,
    /// The validation rows' metrics, when there were any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<PartSummary>,
    /// The test rows' metrics, when there were any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PartSummary>,
}

/// One part's metrics, with the class names its confusion matrix is indexed by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartSummary {
    /// Rows, loss and scores.
    #[serde(flatten)]
    pub metrics: PartMetrics,
    /// The class names, for classification (the same as [`RunSummary::labels`], repeated so
    /// that a part reads alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Per-class scores, balanced accuracy, ROC-AUC, average precision, log loss, Brier score
    /// and the majority baseline (classification), or MAPE and the mean predictor's MAE
    /// (regression). Absent in files of nerve before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl PartSummary {
    /// A part's metrics with the class names, without a report.
    pub fn new(metrics: PartMetrics, labels: Option<&[String]>) -> PartSummary {
        PartSummary {
            metrics,
            labels: labels.map(<[String]>::to_vec),
            report: None,
        }
    }

    /// The same with `report`.
    pub fn with_report(mut self, report: Report) -> PartSummary {
        self.report = Some(report);
        self
    }
}

impl RunSummary {
    /// The parts that have metrics, named as in the file: train, validation, test.
    pub fn parts(&self) -> impl DoubleEndedIterator<Item = (&'static str, &PartSummary)> {
        [
            ("train", Some(&self.train)),
            ("validation", self.validation.as_ref()),
            ("test", self.test.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, part)| part.map(|p| (name, p)))
    }

    /// The summary of a run of `config` (settled) on rows prepared by `preprocessor` that
    /// ended with `outcome`, with each part's metrics.
    pub fn new(
        config: &RunConfig,
        preprocessor: &Preprocessor,
        outcome: &TrainOutcome,
        train: PartSummary,
        validation: Option<PartSummary>,
        test: Option<PartSummary>,
    ) -> RunSummary {
        RunSummary {
            nerve_version: env!("CARGO_PKG_VERSION").to_owned(),
            data: config.data.path.clone(),
            task: preprocessor.task(),
            target: preprocessor.target_name().to_owned(),
            backend: config.backend.name().to_owned(),
            stop_reason: outcome.stop_reason,
            epochs_run: outcome.history.len(),
            best_epoch: outcome.best_epoch,
            seconds: outcome
                .history
                .last()
                .map_or(0.0, |r| r.elapsed.as_secs_f64()),
            final_loss: outcome.final_loss,
            labels: preprocessor.labels().map(<[String]>::to_vec),
            train,
            validation,
            test,
        }
    }

    /// The file's bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|err| RunError::Serialize {
            what: "the run summary",
            message: err.to_string(),
        })?;
        text.push(b'\n');
        Ok(text)
    }

    /// Reads `path`; `Ok(None)` when there is no such file.
    ///
    /// # Errors
    /// The file cannot be read or is not a run summary; the error names it.
    pub fn read(path: &Path) -> Result<Option<RunSummary>> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| RunError::NotNerveFile {
                        path: path.display().to_string(),
                        what: "a run summary written by nerve",
                        source,
                    })
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(RunError::Read {
                what: "run summary",
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use nerve_train::{ClassificationMetrics, Scores};

    use super::*;

    fn summary(final_loss: f64) -> RunSummary {
        let labels = ["no".to_owned(), "yes".to_owned()];
        let metrics = PartMetrics {
            rows: 4,
            loss: 0.5,
            scores: Scores::Classification(ClassificationMetrics::new(
                &[0, 1, 1, 0],
                &[0, 1, 0, 0],
                2,
            )),
        };
        RunSummary {
            nerve_version: "0".to_owned(),
            data: "d.csv".to_owned(),
            task: Task::Classification,
            target: "y".to_owned(),
            backend: "flex".to_owned(),
            stop_reason: StopReason::Diverged,
            epochs_run: 3,
            best_epoch: 2,
            seconds: 0.25,
            final_loss,
            labels: Some(labels.to_vec()),
            train: PartSummary::new(metrics.clone(), Some(&labels)),
            validation: None,
            test: Some(PartSummary::new(metrics, Some(&labels))),
        }
    }

    #[test]
    fn a_summary_reads_back_with_its_parts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        std::fs::write(&path, summary(0.125).to_bytes().unwrap()).unwrap();
        let back = RunSummary::read(&path).unwrap().expect("the file exists");
        assert_eq!(back.final_loss, 0.125);
        assert_eq!(back.stop_reason, StopReason::Diverged);
        let parts: Vec<&str> = back.parts().map(|(name, _)| name).collect();
        assert_eq!(parts, ["train", "test"]);
        assert_eq!(back.test.unwrap().labels.unwrap(), ["no", "yes"]);
        assert!(
            RunSummary::read(&dir.path().join("none.json"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_diverged_loss_is_null_in_the_file_and_nan_when_read() {
        let bytes = summary(f64::NAN).to_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\"final_loss\": null"), "{text}");
        let back: RunSummary = serde_json::from_slice(&bytes).unwrap();
        assert!(back.final_loss.is_nan());
    }

    #[test]
    fn another_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        std::fs::write(&path, r#"{"epochs_run": "three"}"#).unwrap();
        let err = RunSummary::read(&path).unwrap_err();
        assert!(
            format!("{err:#}").contains("metrics.json is not a run summary"),
            "{err:#}"
        );
    }
}

//! Parsing the name of one of a fixed set of choices (activations, initializers; nerve-train's
//! optimizers and schedules use it too).

/// Finds the choice among `all` whose `name` matches `text`, ignoring case, surrounding
/// whitespace and `_` versus `-`; otherwise an error naming `what` and listing every name.
pub fn parse_choice<T: Copy>(
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
    all.iter()
        .copied()
        .find(|&c| name(c) == wanted)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|&c| name(c)).collect();
            format!(
                "unknown {what} `{text}`; expected one of {}",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use crate::{Activation, Initializer};

    #[test]
    fn names_parse_forgivingly_and_errors_list_the_choices() {
        for activation in Activation::ALL {
            assert_eq!(activation.name().parse::<Activation>(), Ok(activation));
        }
        assert_eq!(
            " Leaky_ReLU ".parse::<Activation>(),
            Ok(Activation::LeakyRelu)
        );
        assert_eq!(
            "KAIMING_UNIFORM".parse::<Initializer>(),
            Ok(Initializer::KaimingUniform)
        );
        assert_eq!(
            "swish".parse::<Activation>().unwrap_err(),
            "unknown activation `swish`; expected one of relu, sigmoid, tanh, gelu, leaky-relu"
        );
        assert!(
            "he".parse::<Initializer>()
                .unwrap_err()
                .starts_with("unknown initializer `he`; expected one of pytorch, kaiming-uniform")
        );
    }
}

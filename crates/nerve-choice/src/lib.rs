//! Named choices: an activation, a loss, an optimizer, a task, a missing-value policy. Every nerve
//! crate parses such a name the one way this crate defines, so `--activation Leaky_ReLU`,
//! `loss = "MSE"` and `--missing IMPUTE` are read alike and a wrong name gets the same message
//! everywhere: `unknown activation `swish`; expected one of relu, sigmoid, tanh, gelu, leaky-relu`.
//!
//! A name matches when it equals the choice's [`Choice::name`] or one of its
//! [`Choice::aliases`] after trimming, lower-casing and reading `_` as `-`.
//!
//! Written here rather than taken from a library: `strum`'s `EnumString` matches
//! case-insensitively but neither reads `_` as `-` nor lists the choices in its error, and
//! clap's `ValueEnum` would put a CLI library under every crate.

use std::fmt;

/// The README's example, compiled (and run) as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// An enum of named settings.
pub trait Choice: Copy + Eq + 'static {
    /// What one choice is called in messages: `"activation"`, `"missing-value policy"`.
    const KIND: &'static str;

    /// Every choice, in the order messages list them.
    fn all() -> &'static [Self];

    /// The canonical name: lower-case, words joined by `-`.
    fn name(self) -> &'static str;

    /// Other names read as this choice (canonical form: lower-case, `-`).
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
}

/// Implements [`Choice`], `Display` (the name) and `FromStr` (by [`parse`], the error as text)
/// for an enum with an inherent `const ALL: [Self; N]` and `fn name(self) -> &'static str`:
///
/// ```
/// # #[derive(Debug, Clone, Copy, PartialEq, Eq)] enum Shape { Square, Circle }
/// # impl Shape {
/// #     const ALL: [Shape; 2] = [Shape::Square, Shape::Circle];
/// #     fn name(self) -> &'static str { match self { Shape::Square => "square", Shape::Circle => "circle" } }
/// # }
/// nerve_choice::named_choice!(Shape, "shape");
/// assert_eq!("CIRCLE".parse::<Shape>(), Ok(Shape::Circle));
/// assert_eq!(Shape::Square.to_string(), "square");
/// ```
///
/// A third argument, a `fn(Self) -> &'static [&'static str]`, gives [`Choice::aliases`].
#[macro_export]
macro_rules! named_choice {
    ($ty:ty, $kind:literal) => {
        $crate::named_choice!($ty, $kind, |_| &[]);
    };
    ($ty:ty, $kind:literal, $aliases:expr) => {
        impl $crate::Choice for $ty {
            const KIND: &'static str = $kind;

            fn all() -> &'static [Self] {
                &<$ty>::ALL
            }

            fn name(self) -> &'static str {
                <$ty>::name(self)
            }

            fn aliases(self) -> &'static [&'static str] {
                let aliases: fn($ty) -> &'static [&'static str] = $aliases;
                aliases(self)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(<$ty>::name(*self))
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $crate::parse(text).map_err(|e| e.to_string())
            }
        }
    };
}

/// The choice `text` names, if any (see the crate docs for what matches).
pub fn find<C: Choice>(text: &str) -> Option<C> {
    let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
    C::all()
        .iter()
        .copied()
        .find(|&c| c.name().replace('_', "-") == wanted || c.aliases().contains(&wanted.as_str()))
}

/// The choice `text` names.
///
/// # Errors
/// [`UnknownChoice`], which lists the choices, when `text` names none.
pub fn parse<C: Choice>(text: &str) -> Result<C, UnknownChoice> {
    find(text).ok_or_else(|| UnknownChoice {
        kind: C::KIND,
        given: text.to_owned(),
        expected: C::all().iter().map(|&c| c.name()).collect(),
    })
}

/// A name that is none of the choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownChoice {
    /// What was asked for (`"activation"`).
    pub kind: &'static str,
    /// The name given, as given.
    pub given: String,
    /// Every choice's name.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`; expected {}",
            self.kind,
            self.given,
            list(&self.expected)
        )
    }
}

impl std::error::Error for UnknownChoice {}

/// Names as a sentence lists them: `a or b`, `a, b or c`; from four on, `one of a, b, c, d`
/// (a list to scan rather than a phrase to read).
pub fn list(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] if names.len() <= 3 => format!("{} or {last}", init.join(", ")),
        _ => format!("one of {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Shape {
        Square,
        RoundedBox,
        Circle,
        Star,
    }

    impl Choice for Shape {
        const KIND: &'static str = "shape";

        fn all() -> &'static [Self] {
            &[Shape::Square, Shape::RoundedBox, Shape::Circle, Shape::Star]
        }

        fn name(self) -> &'static str {
            match self {
                Shape::Square => "square",
                Shape::RoundedBox => "rounded-box",
                Shape::Circle => "circle",
                Shape::Star => "star",
            }
        }

        fn aliases(self) -> &'static [&'static str] {
            match self {
                Shape::Circle => &["round"],
                _ => &[],
            }
        }
    }

    #[test]
    fn names_match_forgivingly() {
        for &shape in Shape::all() {
            assert_eq!(find::<Shape>(shape.name()), Some(shape));
        }
        assert_eq!(find::<Shape>(" Rounded_BOX\n"), Some(Shape::RoundedBox));
        assert_eq!(find::<Shape>("ROUND"), Some(Shape::Circle));
        assert_eq!(find::<Shape>("rounded box"), None);
        assert_eq!(find::<Shape>(""), None);
    }

    #[test]
    fn errors_list_the_choices() {
        let err = parse::<Shape>("hexagon").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown shape `hexagon`; expected one of square, rounded-box, circle, star"
        );
        assert_eq!(err.given, "hexagon");
    }

    #[test]
    fn short_lists_read_as_a_phrase() {
        assert_eq!(list(&["a", "b"]), "a or b");
        assert_eq!(list(&["a", "b", "c"]), "a, b or c");
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["a", "b", "c", "d"]), "one of a, b, c, d");
    }
}

//! Screen size: a size class, never exact pixels. Exact dimensions (and device pixel ratio)
//! are among the strongest fingerprinting signals; a class answers the analytics question
//! ("how many visit on phones?") without them. Breakpoints follow Plausible's device classes.

use serde::Serialize;

/// A coarse screen class by CSS width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenClass {
    /// Narrower than 576 px.
    Mobile,
    /// 576 to 991 px.
    Tablet,
    /// 992 to 1439 px.
    Laptop,
    /// 1440 px and wider.
    Desktop,
}

impl ScreenClass {
    /// The class of a screen `width` CSS pixels wide; `None` for a width no screen has.
    pub fn of_width(width: u64) -> Option<Self> {
        match width {
            0 | 100_001.. => None,
            1..576 => Some(Self::Mobile),
            576..992 => Some(Self::Tablet),
            992..1440 => Some(Self::Laptop),
            _ => Some(Self::Desktop),
        }
    }

    /// Parse the class name (the collector's re-check).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Mobile, Self::Tablet, Self::Laptop, Self::Desktop]
            .into_iter()
            .find(|c| c.name() == s)
    }

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::Tablet => "tablet",
            Self::Laptop => "laptop",
            Self::Desktop => "desktop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_maps_to_a_class() {
        for (w, want) in [
            (0, None),
            (375, Some(ScreenClass::Mobile)),
            (576, Some(ScreenClass::Tablet)),
            (1024, Some(ScreenClass::Laptop)),
            (1440, Some(ScreenClass::Desktop)),
            (3840, Some(ScreenClass::Desktop)),
            (1_000_000, None),
        ] {
            assert_eq!(ScreenClass::of_width(w), want, "{w}");
        }
        for c in [
            ScreenClass::Mobile,
            ScreenClass::Tablet,
            ScreenClass::Laptop,
            ScreenClass::Desktop,
        ] {
            assert_eq!(ScreenClass::parse(c.name()), Some(c));
        }
    }
}

//! Location: country by default; a region only where regions are large; never a city, a
//! postcode or exact coordinates.
//!
//! City + browser + time is often enough to single a person out, so the coarsest useful unit
//! is the default. Regions are kept only when the schema asks and only in countries whose
//! every first-level region holds hundreds of thousands of people (a list below, with the
//! small regions of those countries excluded). Coordinates an app supplies are snapped to a
//! grid cell of 2° of latitude (about 222 km) whose width in longitude grows towards the poles
//! so that no cell is small, and kept only where the cell is populated: at least 500,000
//! people in the places GeoNames lists there (`transform/populated.rs`, made by
//! `scripts/gen-populated-cells`). Anywhere else (the sea, deserts, thinly settled land, and
//! everything poleward of 60°) only the country is kept.
//!
//! Not done here: looking up a country from an IP address (the collector may do that in
//! memory).

use serde::Serialize;

use super::populated;
use crate::drop::{Drop, DropReason, Redaction};
use crate::prelude::*;
use crate::schema::LocationPrecision;

/// ISO 3166-1 alpha-2 codes, concatenated in order (from `pycountry`, 249 codes).
const ISO_COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// Countries whose first-level regions are large, each with the ISO 3166-2 subdivisions that
/// are not (under ~200,000 people, or outlying territories): those fall back to the country.
const LARGE_REGION_COUNTRIES: &[(&str, &[&str])] = &[
    ("AU", &[]),
    ("BR", &[]),
    ("CA", &["NT", "NU", "PE", "YT"]),
    ("CN", &[]),
    ("DE", &[]),
    ("ES", &["CE", "ML"]),
    ("FR", &[]),
    ("GB", &[]),
    ("IN", &["AN", "LD"]),
    ("IT", &["23"]),
    ("JP", &[]),
    ("MX", &[]),
    ("RU", &["CHU", "MAG", "NEN", "YEV"]),
    ("US", &["AS", "GU", "MP", "PR", "UM", "VI"]),
];

/// Latitude height of a grid cell, in degrees (about 222 km).
pub const GRID_LAT_DEGREES: i32 = 2;
/// Beyond this latitude cells are sparse: keep the country only.
pub const GRID_MAX_ABS_LAT: i32 = 60;
/// People a cell must hold (in the places GeoNames lists there) to be kept.
pub const GRID_MIN_PEOPLE: u32 = populated::MIN_PEOPLE;
/// Longitude widths a cell may have: divisors of 360, so cells tile the globe exactly.
const LON_STEPS: [i32; 8] = [2, 3, 4, 5, 6, 8, 9, 10];

/// An ISO 3166-1 alpha-2 country code, validated against the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Parse a two-letter code, any case.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 2 {
            return None;
        }
        let code = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
        ISO_COUNTRIES
            .as_bytes()
            .chunks_exact(2)
            .any(|c| c == code)
            .then_some(Self(code))
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        // Not `expect`: the error's `Debug` would ship in the browser build for a branch that
        // cannot run.
        match core::str::from_utf8(&self.0) {
            Ok(code) => code,
            Err(_) => unreachable!("validated ascii"),
        }
    }
}

impl Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The south-west corner of a grid cell, in whole degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GridCell {
    /// Southern edge.
    pub lat: i32,
    /// Western edge.
    pub lon: i32,
}

impl GridCell {
    /// The cell holding a coordinate, or `None` where cells would be sparse or the input is
    /// not a coordinate.
    pub fn containing(lat: f64, lon: f64) -> Option<Self> {
        Self::of(lat, lon).filter(GridCell::is_populated)
    }

    /// The grid's cell holding a coordinate, populated or not.
    fn of(lat: f64, lon: f64) -> Option<Self> {
        if !lat.is_finite()
            || !lon.is_finite()
            || !(-90.0..=90.0).contains(&lat)
            || !(-180.0..=180.0).contains(&lon)
        {
            return None;
        }
        let lat_floor = (lat / f64::from(GRID_LAT_DEGREES)).floor() as i32 * GRID_LAT_DEGREES;
        if lat_floor < -GRID_MAX_ABS_LAT || lat_floor + GRID_LAT_DEGREES > GRID_MAX_ABS_LAT {
            return None;
        }
        let step = lon_step(lat_floor);
        let lon = if lon >= 180.0 { -180.0 } else { lon };
        let lon_floor = ((lon + 180.0) / f64::from(step)).floor() as i32 * step - 180;
        Some(Self {
            lat: lat_floor,
            lon: lon_floor,
        })
    }

    /// Is this exactly a cell the grid produces and keeps (the collector's re-check)?
    pub fn is_canonical(&self) -> bool {
        Self::containing(f64::from(self.lat), f64::from(self.lon)) == Some(*self)
    }

    /// Does this cell (one the grid produces) hold enough people to be kept?
    fn is_populated(&self) -> bool {
        let row = (self.lat + GRID_MAX_ABS_LAT) / GRID_LAT_DEGREES;
        let Ok(row) = usize::try_from(row) else {
            return false;
        };
        let before: usize = populated::ROW_STEPS
            .iter()
            .take(row)
            .map(|s| 360 / usize::from(*s))
            .sum();
        let step = populated::ROW_STEPS.get(row).map_or(10, |s| i32::from(*s));
        let Ok(column) = usize::try_from((self.lon + 180) / step) else {
            return false;
        };
        let at = before + column;
        populated::KEPT
            .get(at / 8)
            .is_some_and(|byte| byte & (1 << (at % 8)) != 0)
    }
}

/// The narrowest longitude width that keeps a cell in the band starting at `lat_floor` at
/// least as wide as a 2°x2° cell at the equator (cell width shrinks with cos(latitude)).
fn lon_step(lat_floor: i32) -> i32 {
    let poleward_edge = lat_floor.abs().max((lat_floor + GRID_LAT_DEGREES).abs());
    let needed = f64::from(GRID_LAT_DEGREES) / f64::from(poleward_edge).to_radians().cos();
    LON_STEPS
        .into_iter()
        .find(|s| f64::from(*s) >= needed - 1e-9)
        .unwrap_or(10)
}

/// Location as the app or the collector knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawLocation {
    /// Country code.
    pub country: Option<String>,
    /// Region: an ISO 3166-2 subdivision code, with or without the country prefix (`CA`, `US-CA`).
    pub region: Option<String>,
    /// City: never kept.
    pub city: Option<String>,
    /// Postcode: never kept.
    pub postcode: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
}

/// Location as it may leave the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanLocation {
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// ISO 3166-2 code with its country prefix (`US-CA`), only in large-region countries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Coarse grid cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<GridCell>,
}

/// Reduce a location to the schema's precision, recording every dropped part.
pub fn clean_location(
    raw: &RawLocation,
    precision: LocationPrecision,
    drops: &mut Vec<Drop>,
    redactions: &mut Vec<Redaction>,
) -> Option<CleanLocation> {
    let RawLocation {
        country,
        region,
        city,
        postcode,
        lat,
        lon,
    } = raw;
    const F: &str = "context.location";
    if city.is_some() {
        drops.push(Drop::new(format!("{F}.city"), DropReason::NotCaptured));
    }
    if postcode.is_some() {
        drops.push(Drop::new(format!("{F}.postcode"), DropReason::NotCaptured));
    }
    if precision == LocationPrecision::None {
        if country.is_some() || region.is_some() || lat.is_some() || lon.is_some() {
            drops.push(Drop::new(F, DropReason::NotCaptured));
        }
        return None;
    }
    let country = country.as_deref().and_then(|c| {
        let parsed = Country::parse(c);
        if parsed.is_none() {
            drops.push(Drop::new(
                format!("{F}.country"),
                DropReason::Invalid {
                    expected: "iso 3166-1 country code",
                },
            ));
        }
        parsed
    });
    let region = region.as_deref().and_then(|r| {
        let field = format!("{F}.region");
        if precision != LocationPrecision::Region {
            drops.push(Drop::new(field, DropReason::NotCaptured));
            return None;
        }
        let Some(c) = country else {
            drops.push(Drop::new(
                field,
                DropReason::Invalid {
                    expected: "region of a known country",
                },
            ));
            return None;
        };
        let code = r
            .strip_prefix(c.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(r)
            .to_ascii_uppercase();
        if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            drops.push(Drop::new(
                field,
                DropReason::Invalid {
                    expected: "iso 3166-2 subdivision code",
                },
            ));
            return None;
        }
        match LARGE_REGION_COUNTRIES
            .iter()
            .find(|(cc, _)| *cc == c.as_str())
        {
            Some((_, small)) if !small.contains(&code.as_str()) => {
                Some(format!("{}-{code}", c.as_str()))
            }
            _ => {
                drops.push(Drop::new(field, DropReason::SmallArea));
                None
            }
        }
    });
    let cell = match (lat, lon) {
        (None, None) => None,
        (Some(lat), Some(lon)) if precision == LocationPrecision::Grid => {
            let cell = GridCell::containing(*lat, *lon);
            match cell {
                Some(_) => {
                    redactions.push(Redaction::new(format!("{F}.coordinates"), "coarsened:grid"))
                }
                None => drops.push(Drop::new(format!("{F}.coordinates"), DropReason::SmallArea)),
            }
            cell
        }
        _ => {
            drops.push(Drop::new(
                format!("{F}.coordinates"),
                DropReason::NotCaptured,
            ));
            None
        }
    };
    (country.is_some() || region.is_some() || cell.is_some()).then_some(CleanLocation {
        country,
        region,
        cell,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(raw: RawLocation, p: LocationPrecision) -> (Option<CleanLocation>, Vec<String>) {
        let (mut d, mut r) = (Vec::new(), Vec::new());
        let out = clean_location(&raw, p, &mut d, &mut r);
        (out, d.iter().map(ToString::to_string).collect())
    }

    fn incident() -> RawLocation {
        RawLocation {
            country: Some("us".into()),
            region: Some("CA".into()),
            city: Some("San Francisco".into()),
            postcode: Some("94103".into()),
            lat: Some(37.77),
            lon: Some(-122.41),
        }
    }

    #[test]
    fn country_is_the_default_and_city_never_survives() {
        let (out, drops) = run(incident(), LocationPrecision::Country);
        let json = serde_json::to_string(&out).expect("json");
        assert_eq!(json, r#"{"country":"US"}"#);
        assert_eq!(
            drops,
            [
                "context.location.city: not captured",
                "context.location.postcode: not captured",
                "context.location.region: not captured",
                "context.location.coordinates: not captured"
            ]
        );
    }

    #[test]
    fn region_kept_only_where_regions_are_large() {
        let (out, _) = run(incident(), LocationPrecision::Region);
        assert_eq!(out.and_then(|l| l.region).as_deref(), Some("US-CA"));
        let small = RawLocation {
            country: Some("CA".into()),
            region: Some("CA-NU".into()),
            ..Default::default()
        };
        let (out, drops) = run(small, LocationPrecision::Region);
        assert_eq!(
            out.map(|l| (l.country, l.region)),
            Some((Country::parse("CA"), None))
        );
        assert_eq!(drops, ["context.location.region: area too small to keep"]);
        let tiny_country = RawLocation {
            country: Some("LI".into()),
            region: Some("01".into()),
            ..Default::default()
        };
        assert_eq!(
            run(tiny_country, LocationPrecision::Region)
                .0
                .and_then(|l| l.region),
            None
        );
    }

    #[test]
    fn coordinates_snap_to_a_coarse_cell() {
        let (out, _) = run(incident(), LocationPrecision::Grid);
        let cell = out.and_then(|l| l.cell).expect("cell");
        assert_eq!(cell, GridCell { lat: 36, lon: -123 });
        assert!(cell.is_canonical());
        // Two points ~100 km apart share the cell: a cell holds a metropolitan area, not a street.
        assert_eq!(GridCell::containing(37.33, -121.89), Some(cell));
    }

    #[test]
    fn far_north_and_sparse_cells_fall_back_to_country() {
        // Past 60°, and a populated-table cell with too few people (Alice Springs).
        for (country, lat, lon) in [("NO", 69.65, 18.96), ("AU", -23.7, 133.87)] {
            let raw = RawLocation {
                country: Some(country.into()),
                lat: Some(lat),
                lon: Some(lon),
                ..Default::default()
            };
            let (out, drops) = run(raw, LocationPrecision::Grid);
            assert_eq!(
                serde_json::to_string(&out).expect("json"),
                format!(r#"{{"country":"{country}"}}"#)
            );
            assert_eq!(
                drops,
                ["context.location.coordinates: area too small to keep"]
            );
        }
    }

    #[test]
    fn cells_never_shrink_below_the_equator_cell() {
        for lat_floor in (-GRID_MAX_ABS_LAT..GRID_MAX_ABS_LAT).step_by(2) {
            let edge = f64::from(lat_floor.abs().max((lat_floor + 2).abs()))
                .to_radians()
                .cos();
            assert!(
                f64::from(lon_step(lat_floor)) * edge >= 2.0 - 1e-9,
                "band {lat_floor}"
            );
        }
    }

    #[test]
    fn country_codes_are_validated() {
        assert_eq!(
            Country::parse("de")
                .map(|c| c.as_str().to_owned())
                .as_deref(),
            Some("DE")
        );
        for bad in ["", "D", "DEU", "XX", "ZZ", "12", "é"] {
            assert_eq!(Country::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn invalid_coordinates_are_not_a_cell() {
        for (lat, lon) in [
            (f64::NAN, 0.0),
            (91.0, 0.0),
            (0.0, 181.0),
            (f64::INFINITY, 1.0),
        ] {
            assert_eq!(GridCell::containing(lat, lon), None);
        }
        // 180° is -180°: the same cell (in the Pacific, so not a kept one).
        assert_eq!(
            GridCell::of(0.0, 180.0),
            Some(GridCell { lat: 0, lon: -180 })
        );
        assert_eq!(GridCell::containing(0.0, 180.0), None);
    }

    #[test]
    fn the_population_table_has_the_grids_cells() {
        // The docs and the audit's wording say 500,000.
        assert_eq!(GRID_MIN_PEOPLE, 500_000);
        let rows: Vec<i32> = (-GRID_MAX_ABS_LAT..GRID_MAX_ABS_LAT).step_by(2).collect();
        let steps: Vec<i32> = rows.iter().map(|r| lon_step(*r)).collect();
        let generated: Vec<i32> = populated::ROW_STEPS.iter().map(|s| i32::from(*s)).collect();
        assert_eq!(
            steps, generated,
            "scripts/gen-populated-cells cut the rows differently"
        );
        let cells: i32 = steps.iter().map(|s| 360 / s).sum();
        assert_eq!(usize::try_from(cells).ok(), Some(populated::KEPT.len() * 8));
        // Each bit is one cell: walking the grid cell by cell reads every bit exactly once.
        let mut kept = 0;
        for (lat, step) in rows.iter().zip(&steps) {
            for lon in (-180..180).step_by(usize::try_from(*step).expect("step")) {
                let cell = GridCell { lat: *lat, lon };
                assert_eq!(
                    GridCell::of(f64::from(*lat) + 0.5, f64::from(lon) + 0.5),
                    Some(cell)
                );
                kept += usize::from(cell.is_populated());
            }
        }
        let bits: u32 = populated::KEPT.iter().map(|b| b.count_ones()).sum();
        assert_eq!(u32::try_from(kept).ok(), Some(bits));
    }

    #[test]
    fn cells_are_kept_where_people_live_and_not_where_few_do() {
        for (place, lat, lon) in [
            ("Paris", 48.86, 2.35),
            ("New York", 40.71, -74.01),
            ("Lagos", 6.52, 3.38),
            ("São Paulo", -23.55, -46.63),
            ("Tokyo", 35.68, 139.69),
            ("Sydney", -33.87, 151.21),
            ("Delhi", 28.61, 77.21),
        ] {
            assert!(GridCell::containing(lat, lon).is_some(), "{place}");
        }
        for (place, lat, lon) in [
            ("central Sahara", 23.0, 12.0),
            ("mid Pacific", 0.5, -150.0),
            ("Alice Springs", -23.7, 133.87),
            ("Gobi", 43.0, 105.0),
            ("Amazonas interior", -5.0, -65.0),
            ("Nevada desert", 39.0, -117.0),
            ("Tromsø (past 60°)", 69.65, 18.96),
        ] {
            assert!(
                GridCell::of(lat, lon).is_some() || lat > 60.0,
                "{place} is on the grid"
            );
            assert_eq!(GridCell::containing(lat, lon), None, "{place}");
        }
    }
}

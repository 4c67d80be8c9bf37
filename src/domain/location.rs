//! Locations from `wx.getLocation`, which answers in GCJ-02 or WGS-84, and the
//! distance between two of them computed in one frame.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldErrors;

/// The coordinate system a location is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoordSystem {
    /// China's obfuscated datum (国测局坐标), what WeChat maps use.
    #[default]
    Gcj02,
    /// GPS.
    Wgs84,
}

impl CoordSystem {
    pub fn as_str(self) -> &'static str {
        match self {
            CoordSystem::Gcj02 => "gcj02",
            CoordSystem::Wgs84 => "wgs84",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "gcj02" | "gcj-02" => Some(CoordSystem::Gcj02),
            "wgs84" | "wgs-84" => Some(CoordSystem::Wgs84),
            _ => None,
        }
    }
}

/// A point on the earth with the frame it is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub lng: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub coord_system: CoordSystem,
}

impl Location {
    /// Checks the ranges; `field` names the location in error details.
    pub fn parse(field: &str, raw: Location) -> Result<Location, FieldErrors> {
        let mut errors = FieldErrors::new();
        if !(raw.lat.is_finite() && (-90.0..=90.0).contains(&raw.lat)) {
            errors.add(
                format!("{field}.lat"),
                "out_of_range",
                "纬度应在 -90 到 90 之间",
                "lat must be between -90 and 90",
            );
        }
        if !(raw.lng.is_finite() && (-180.0..=180.0).contains(&raw.lng)) {
            errors.add(
                format!("{field}.lng"),
                "out_of_range",
                "经度应在 -180 到 180 之间",
                "lng must be between -180 and 180",
            );
        }
        if let Some(accuracy) = raw.accuracy_m
            && !(accuracy.is_finite() && accuracy >= 0.0)
        {
            errors.add(
                format!("{field}.accuracy_m"),
                "out_of_range",
                "定位精度不能为负数",
                "accuracy_m must not be negative",
            );
        }
        errors.finish(|| raw)
    }

    /// This point in WGS-84.
    pub fn to_wgs84(self) -> (f64, f64) {
        match self.coord_system {
            CoordSystem::Wgs84 => (self.lat, self.lng),
            CoordSystem::Gcj02 => gcj02_to_wgs84(self.lat, self.lng),
        }
    }

    /// Great-circle distance in metres, whatever frames the two points are in.
    pub fn distance_m(self, other: Location) -> f64 {
        let (lat1, lng1) = self.to_wgs84();
        let (lat2, lng2) = other.to_wgs84();
        haversine_m(lat1, lng1, lat2, lng2)
    }
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;
// Krasovsky 1940, the ellipsoid GCJ-02 is defined on.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

fn haversine_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// GCJ-02 applies only inside mainland China; elsewhere it equals WGS-84.
fn outside_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

/// The published WGS-84 → GCJ-02 transform.
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if outside_china(lat, lng) {
        return (lat, lng);
    }
    let (x, y) = (lng - 105.0, lat - 35.0);
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * std::f64::consts::PI).sin()
        + 20.0 * (2.0 * x * std::f64::consts::PI).sin())
        * 2.0
        / 3.0;
    d_lat += (20.0 * (y * std::f64::consts::PI).sin()
        + 40.0 * (y / 3.0 * std::f64::consts::PI).sin())
        * 2.0
        / 3.0;
    d_lat += (160.0 * (y / 12.0 * std::f64::consts::PI).sin()
        + 320.0 * (y * std::f64::consts::PI / 30.0).sin())
        * 2.0
        / 3.0;
    let mut d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lng += (20.0 * (6.0 * x * std::f64::consts::PI).sin()
        + 20.0 * (2.0 * x * std::f64::consts::PI).sin())
        * 2.0
        / 3.0;
    d_lng += (20.0 * (x * std::f64::consts::PI).sin()
        + 40.0 * (x / 3.0 * std::f64::consts::PI).sin())
        * 2.0
        / 3.0;
    d_lng += (150.0 * (x / 12.0 * std::f64::consts::PI).sin()
        + 300.0 * (x / 30.0 * std::f64::consts::PI).sin())
        * 2.0
        / 3.0;
    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    d_lat = (d_lat * 180.0)
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * std::f64::consts::PI);
    d_lng = (d_lng * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * std::f64::consts::PI);
    (lat + d_lat, lng + d_lng)
}

/// The inverse of [`wgs84_to_gcj02`], by fixed-point iteration (converges to
/// well under a centimetre in a few steps).
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    let (mut wlat, mut wlng) = (lat, lng);
    for _ in 0..10 {
        let (glat, glng) = wgs84_to_gcj02(wlat, wlng);
        let (dlat, dlng) = (glat - lat, glng - lng);
        wlat -= dlat;
        wlng -= dlng;
        if dlat.abs() < 1e-10 && dlng.abs() < 1e-10 {
            break;
        }
    }
    (wlat, wlng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lng: f64, coord_system: CoordSystem) -> Location {
        Location {
            lat,
            lng,
            accuracy_m: None,
            coord_system,
        }
    }

    #[test]
    fn gcj02_offset_in_beijing_matches_published_reference() {
        // Tiananmen: WGS-84 (39.90734, 116.39089) is GCJ-02 (39.90874, 116.39713)
        // in the published reference tables; the offset is some 560 m.
        let (lat, lng) = wgs84_to_gcj02(39.90734, 116.39089);
        assert!((lat - 39.90874).abs() < 2e-4, "lat {lat}");
        assert!((lng - 116.39713).abs() < 2e-4, "lng {lng}");
    }

    #[test]
    fn same_place_in_both_frames_is_zero_metres_apart() {
        let (glat, glng) = wgs84_to_gcj02(30.27415, 120.15515);
        let gps = at(30.27415, 120.15515, CoordSystem::Wgs84);
        let wechat = at(glat, glng, CoordSystem::Gcj02);
        assert!(gps.distance_m(wechat) < 0.05);
        // Read naively (as if both were one frame) they would be hundreds of metres apart.
        assert!(haversine_m(gps.lat, gps.lng, wechat.lat, wechat.lng) > 100.0);
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = at(30.0, 120.0, CoordSystem::Wgs84).distance_m(at(31.0, 120.0, CoordSystem::Wgs84));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn outside_china_gcj02_is_wgs84() {
        assert_eq!(wgs84_to_gcj02(51.5, -0.12), (51.5, -0.12));
    }

    #[test]
    fn rejects_out_of_range_coordinates_naming_each_field() {
        let errors = Location::parse("location", at(91.0, 181.0, CoordSystem::Gcj02))
            .unwrap_err()
            .into_vec();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["location.lat", "location.lng"]);
    }
}

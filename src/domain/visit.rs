//! Household visits (走访): their kinds, the client-time window, and the
//! quality flags a secretary sees (flags inform, they never block).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 结对帮扶
    Assistance,
    /// 走访慰问 (e.g. 七一 visits to old and poor members)
    Condolence,
    /// 矛盾排查
    DisputeScreening,
    /// 安全隐患排查
    SafetyCheck,
    /// 政策宣传
    PolicyOutreach,
    Other,
}

impl VisitKind {
    pub const ALL: [VisitKind; 6] = [
        VisitKind::Assistance,
        VisitKind::Condolence,
        VisitKind::DisputeScreening,
        VisitKind::SafetyCheck,
        VisitKind::PolicyOutreach,
        VisitKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Assistance => "assistance",
            VisitKind::Condolence => "condolence",
            VisitKind::DisputeScreening => "dispute_screening",
            VisitKind::SafetyCheck => "safety_check",
            VisitKind::PolicyOutreach => "policy_outreach",
            VisitKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The Chinese name, for notifications and exports.
    pub fn label(self) -> &'static str {
        match self {
            VisitKind::Assistance => "结对帮扶",
            VisitKind::Condolence => "走访慰问",
            VisitKind::DisputeScreening => "矛盾排查",
            VisitKind::SafetyCheck => "安全隐患排查",
            VisitKind::PolicyOutreach => "政策宣传",
            VisitKind::Other => "其他",
        }
    }
}

/// How late a phone may deliver a record made offline (SPEC §4).
pub const MAX_LATE: Duration = Duration::days(30);
/// How far ahead of the server a phone's clock may run.
pub const MAX_AHEAD: Duration = Duration::minutes(10);

/// A client time (`visited_at`, `occurred_at`) within the accepted window.
pub fn client_time(
    field: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldErrors> {
    if at > now + MAX_AHEAD {
        return Err(FieldErrors::single(
            field,
            "in_future",
            format!("{field} 不能晚于当前时间 10 分钟以上"),
            format!("{field} is more than 10 minutes in the future"),
        ));
    }
    if at < now - MAX_LATE {
        return Err(FieldErrors::single(
            field,
            "too_old",
            format!("{field} 不能早于 30 天前"),
            format!("{field} is more than 30 days ago"),
        ));
    }
    Ok(at.trunc_subsecs(6))
}

/// Something a secretary should look at twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitFlag {
    /// Checked in farther from the household than the threshold.
    FarFromHousehold,
    /// The phone's reported accuracy was worse than the threshold.
    PoorGpsAccuracy,
    /// Received long after the visit (made offline, or entered afterwards).
    LateUpload,
    /// Many check-ins by one member within a few minutes.
    Burst,
    /// A photo with the same bytes is attached to another visit.
    DuplicatePhoto,
}

/// Per-township thresholds for the flags; absent settings take these defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct QualityThresholds {
    /// Metres from the household beyond which `far_from_household` is raised.
    pub far_from_household_m: f64,
    /// Reported accuracy (metres) beyond which `poor_gps_accuracy` is raised.
    pub poor_gps_accuracy_m: f64,
    /// Hours between `visited_at` and `received_at` beyond which `late_upload` is raised.
    pub late_upload_hours: i64,
    /// `burst` when this many visits by one member (this one included) ...
    pub burst_count: u32,
    /// ... fall within this many minutes.
    pub burst_window_minutes: i64,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        QualityThresholds {
            far_from_household_m: 500.0,
            poor_gps_accuracy_m: 100.0,
            late_upload_hours: 48,
            burst_count: 5,
            burst_window_minutes: 10,
        }
    }
}

/// What is known about one check-in when its flags are computed.
pub struct FlagInputs {
    pub distance_m: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub visited_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Other visits by the same member within the burst window around `visited_at`.
    pub nearby_visits_by_member: u32,
    /// Whether any attached photo's bytes are on another visit.
    pub photo_seen_elsewhere: bool,
}

impl QualityThresholds {
    pub fn flags(&self, input: &FlagInputs) -> Vec<VisitFlag> {
        let mut flags = Vec::new();
        if input
            .distance_m
            .is_some_and(|d| d > self.far_from_household_m)
        {
            flags.push(VisitFlag::FarFromHousehold);
        }
        if input
            .accuracy_m
            .is_some_and(|a| a > self.poor_gps_accuracy_m)
        {
            flags.push(VisitFlag::PoorGpsAccuracy);
        }
        if input.received_at - input.visited_at > Duration::hours(self.late_upload_hours) {
            flags.push(VisitFlag::LateUpload);
        }
        if input.nearby_visits_by_member + 1 >= self.burst_count {
            flags.push(VisitFlag::Burst);
        }
        if input.photo_seen_elsewhere {
            flags.push(VisitFlag::DuplicatePhoto);
        }
        flags
    }

    pub fn burst_window(&self) -> Duration {
        Duration::minutes(self.burst_window_minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean() -> FlagInputs {
        let now = Utc::now();
        FlagInputs {
            distance_m: Some(20.0),
            accuracy_m: Some(15.0),
            visited_at: now,
            received_at: now,
            nearby_visits_by_member: 0,
            photo_seen_elsewhere: false,
        }
    }

    #[test]
    fn an_ordinary_check_in_has_no_flags() {
        assert!(QualityThresholds::default().flags(&clean()).is_empty());
    }

    #[test]
    fn each_flag_fires_past_its_threshold() {
        let t = QualityThresholds::default();
        type Change = fn(&mut FlagInputs);
        let cases: [(Change, VisitFlag); 5] = [
            (|i| i.distance_m = Some(501.0), VisitFlag::FarFromHousehold),
            (|i| i.accuracy_m = Some(150.0), VisitFlag::PoorGpsAccuracy),
            (
                |i| i.visited_at = i.received_at - Duration::hours(49),
                VisitFlag::LateUpload,
            ),
            (|i| i.nearby_visits_by_member = 4, VisitFlag::Burst),
            (|i| i.photo_seen_elsewhere = true, VisitFlag::DuplicatePhoto),
        ];
        for (change, flag) in cases {
            let mut input = clean();
            change(&mut input);
            assert_eq!(t.flags(&input), vec![flag]);
        }
    }

    #[test]
    fn thresholds_are_per_township_settings() {
        let strict = QualityThresholds {
            far_from_household_m: 10.0,
            ..QualityThresholds::default()
        };
        assert_eq!(strict.flags(&clean()), vec![VisitFlag::FarFromHousehold]);
        let parsed: QualityThresholds = serde_json::from_str(r#"{"burst_count": 3}"#).unwrap();
        assert_eq!(parsed.burst_count, 3);
        assert_eq!(parsed.far_from_household_m, 500.0);
    }

    #[test]
    fn client_time_window_is_30_days_late_and_10_minutes_ahead() {
        let now = Utc::now();
        assert!(client_time("visited_at", now - Duration::days(29), now).is_ok());
        assert!(client_time("visited_at", now + Duration::minutes(9), now).is_ok());
        assert_eq!(
            client_time("visited_at", now - Duration::days(31), now)
                .unwrap_err()
                .into_vec()[0]
                .code,
            "too_old"
        );
        assert_eq!(
            client_time("visited_at", now + Duration::minutes(11), now)
                .unwrap_err()
                .into_vec()[0]
                .code,
            "in_future"
        );
    }
}

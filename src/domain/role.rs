//! Roles of users and kinds of branches.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user may do in the township (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 党员: submits visits, reports and pledges for their branch.
    Member,
    /// 支部书记: reviews their branch's submissions; also a member.
    Secretary,
    /// 乡党委 / 领导小组办公室: sees and manages the whole township.
    TownshipAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Secretary => "secretary",
            Role::TownshipAdmin => "township_admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "member" => Some(Role::Member),
            "secretary" => Some(Role::Secretary),
            "township_admin" => Some(Role::TownshipAdmin),
            _ => None,
        }
    }

    /// The Chinese name, for exports.
    pub fn label(self) -> &'static str {
        match self {
            Role::Member => "党员",
            Role::Secretary => "支部书记",
            Role::TownshipAdmin => "管理员",
        }
    }
}

/// The kind of a party branch (党支部).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    /// 村党支部
    Village,
    /// 机关党支部
    Organ,
    /// 企业党支部
    Enterprise,
    Other,
}

impl BranchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BranchKind::Village => "village",
            BranchKind::Organ => "organ",
            BranchKind::Enterprise => "enterprise",
            BranchKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "village" => Some(BranchKind::Village),
            "organ" => Some(BranchKind::Organ),
            "enterprise" => Some(BranchKind::Enterprise),
            "other" => Some(BranchKind::Other),
            _ => None,
        }
    }

    /// The Chinese name, for exports.
    pub fn label(self) -> &'static str {
        match self {
            BranchKind::Village => "村党支部",
            BranchKind::Organ => "机关党支部",
            BranchKind::Enterprise => "企业党支部",
            BranchKind::Other => "其他",
        }
    }
}

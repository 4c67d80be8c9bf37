//! Who may do what, decided here and nowhere else (SPEC §3).
//!
//! Two questions, always in this order:
//! 1. *Reach* — can the caller see the object at all? Township isolation always,
//!    branch isolation for members and secretaries. Out of reach answers 404, so
//!    ids cannot be probed. Every query starts from [`Actor::scoped`].
//! 2. *Permission* — may the caller's role do this to something it can see?
//!    If not, 403 ([`Actor::may`]).

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use super::Actor;
use crate::domain::Role;
use crate::entities::{
    assessment, assessment_appeal, assessment_result, assessment_round, assessment_snapshot,
    assignment, audit_log, branch, campaign, campaign_phase, household, mediation_follow_up,
    mediation_report, notification, pledge, rectification, spot_check, spot_check_item, user,
    visit,
};
use crate::platform::error::ApiError;

/// What a caller wants to do, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create or change branches.
    ManageBranches,
    /// Create or change users of a branch (secretaries: members of their own branch).
    ManageUsers,
    /// Create or change households and their assignments.
    ManageHouseholds,
    /// Give a user this role.
    GrantRole(Role),
    /// Submit a visit, mediation report, member pledge or progress for a branch.
    Submit,
    /// Acknowledge or resolve a dispute escalated to the township.
    HandleEscalation,
    /// Make a branch pledge (支部承诺), published at once.
    CreateBranchPledge,
    /// Mark a pledge fulfilled or not (the owner never judges their own).
    FulfilPledge,
    /// Comment on a pledge as the township's leadership (领导点评).
    LeaderComment,
    /// Rate a pledge (群众评议): the branch's own people, never its owner.
    RatePledge,
    /// Read the statistics of a branch (`None`: of the whole township).
    ReadStats,
    /// Draw spot checks (督导检查), verify their items, close them.
    ConductSpotCheck,
    /// Read spot-check items of a branch and their figures.
    ReadSpotCheck,
    /// Assign a rectification (整改) to a branch; close or reopen it.
    AssignRectification,
    /// Read the rectifications of a branch.
    ReadRectification,
    /// Report what a branch did about a rectification: its secretaries.
    ReportRectification,
    /// Define the township's campaigns and their phases (everyone in the
    /// township reads them).
    ManageCampaigns,
    /// Read the township's audit log: its admins only.
    ReadAudit,
    /// Set up the year's assessment (考核): schemes, the committee's
    /// ratings, ballot rounds, computing, publishing, answering appeals,
    /// confirming commendations.
    ManageAssessment,
    /// Cast a ballot (党员代表测评) for a branch: its own members and secretaries.
    CastBallot,
    /// Read a branch's assessment results and their explanation.
    ReadAssessmentResult,
    /// Object to a published result (申诉): the branch's secretaries.
    FileAppeal,
}

/// The permission table: may `role` (of `own_branch`) do `action` to something
/// in `target_branch`? Reach has already been checked.
pub fn permits(
    role: Role,
    own_branch: Option<Uuid>,
    action: Action,
    target_branch: Option<Uuid>,
) -> bool {
    let in_own_branch = own_branch.is_some() && own_branch == target_branch;
    match (role, action) {
        // The township office oversees; members and secretaries submit.
        (Role::TownshipAdmin, Action::Submit) => false,
        (_, Action::Submit) => in_own_branch,
        // Ratings come from the branch's members and secretaries, not the office.
        (Role::TownshipAdmin, Action::RatePledge) => false,
        (_, Action::RatePledge) => in_own_branch,
        // The township checks a branch's rectification; the branch reports it.
        (Role::TownshipAdmin, Action::ReportRectification) => false,
        // A branch is marked by its own people; the office marks it apart.
        (Role::TownshipAdmin, Action::CastBallot) => false,
        (_, Action::CastBallot) => in_own_branch,
        (Role::TownshipAdmin, Action::FileAppeal) => false,
        (Role::TownshipAdmin, _) => true,
        (
            Role::Secretary,
            Action::ManageUsers
            | Action::ManageHouseholds
            | Action::CreateBranchPledge
            | Action::FulfilPledge
            | Action::ReadStats
            | Action::ReadSpotCheck
            | Action::ReadRectification
            | Action::ReportRectification
            | Action::ReadAssessmentResult
            | Action::FileAppeal,
        ) => in_own_branch,
        (Role::Secretary, Action::LeaderComment | Action::ManageAssessment) => false,
        (Role::Secretary, Action::ConductSpotCheck | Action::AssignRectification) => false,
        (Role::Secretary, Action::GrantRole(granted)) => granted == Role::Member,
        (
            Role::Secretary,
            Action::ManageBranches
            | Action::HandleEscalation
            | Action::ManageCampaigns
            | Action::ReadAudit,
        ) => false,
        (Role::Member, _) => false,
    }
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::TownshipAdmin
    }

    /// Branch isolation: `Some(branch)` when the caller only reaches one branch.
    pub fn branch_limit(&self) -> Option<Uuid> {
        if self.is_admin() {
            None
        } else {
            self.branch_id.or(Some(Uuid::nil()))
        }
    }

    /// Whether something in `branch_id` is within reach.
    pub fn reaches_branch(&self, branch_id: Uuid) -> bool {
        self.branch_limit().is_none_or(|own| own == branch_id)
    }

    /// 403 unless the role may do `action` in `target_branch`.
    pub fn may(&self, action: Action, target_branch: Option<Uuid>) -> Result<(), ApiError> {
        if permits(self.role, self.branch_id, action, target_branch) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Whether personal data of a record in `branch_id` is shown whole:
    /// to township admins and to the branch's secretary.
    pub fn manages(&self, branch_id: Option<Uuid>) -> bool {
        match self.role {
            Role::TownshipAdmin => true,
            Role::Secretary => branch_id.is_some() && branch_id == self.branch_id,
            Role::Member => false,
        }
    }

    /// The start of every query: the entity's rows within the caller's reach.
    pub fn scoped<E: Tenanted>(&self) -> Select<E> {
        let query = E::find().filter(E::township_column().eq(self.township_id));
        match (E::branch_column(), self.branch_limit()) {
            (Some(column), Some(branch_id)) => query.filter(column.eq(branch_id)),
            _ => query,
        }
    }

    /// One row by id within reach, or 404.
    pub async fn find_in_reach<E>(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: Uuid,
    ) -> Result<E::Model, ApiError>
    where
        E: Tenanted,
    {
        self.scoped::<E>()
            .filter(E::id_column().eq(id))
            .one(db)
            .await?
            .ok_or(ApiError::NotFound)
    }
}

impl Actor {
    /// Submissions (visits, mediation reports, pledges) within reach: as
    /// [`Actor::scoped`], and for members only their own and the approved
    /// ones of their branch (SPEC §3).
    pub fn scoped_submissions<E: Submission>(&self) -> Select<E> {
        let query = self.scoped::<E>();
        if self.role == Role::Member {
            query.filter(
                Condition::any()
                    .add(E::author_column().eq(self.user_id))
                    .add(E::status_column().is_in(E::PUBLIC_STATUSES.iter().copied())),
            )
        } else {
            query
        }
    }

    /// One submission by id within reach, or 404.
    pub async fn find_submission<E: Submission>(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: Uuid,
    ) -> Result<E::Model, ApiError> {
        self.scoped_submissions::<E>()
            .filter(E::id_column().eq(id))
            .one(db)
            .await?
            .ok_or(ApiError::NotFound)
    }

    /// 403 unless the caller may carry a submission of `branch_id` by
    /// `author_id` further — escalate a dispute to the township, record a
    /// follow-up visit: its author, or a secretary of its branch.
    pub fn may_follow_through(&self, branch_id: Uuid, author_id: Uuid) -> Result<(), ApiError> {
        if permits_follow_through(
            self.role,
            self.branch_id,
            self.user_id,
            branch_id,
            author_id,
        ) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// 403 unless the caller may decide on a submission of `branch_id` by `author_id`:
    /// secretaries their branch's, never their own; township admins any.
    pub fn may_review(&self, branch_id: Uuid, author_id: Uuid) -> Result<(), ApiError> {
        if permits_review(
            self.role,
            self.branch_id,
            self.user_id,
            branch_id,
            author_id,
        ) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Whose pledge it is, for the owner rules: a member pledge belongs to its
/// author, a branch pledge to the branch's secretaries.
#[derive(Debug, Clone, Copy)]
pub struct PledgeOwner {
    pub branch_id: Uuid,
    pub scope: crate::domain::PledgeScope,
    pub author_id: Uuid,
}

/// Whether the caller (`role`, `own_branch`, `user_id`) owns the pledge.
pub fn owns_pledge(
    role: Role,
    own_branch: Option<Uuid>,
    user_id: Uuid,
    owner: PledgeOwner,
) -> bool {
    match owner.scope {
        crate::domain::PledgeScope::Member => owner.author_id == user_id,
        crate::domain::PledgeScope::Branch => {
            role == Role::Secretary && own_branch == Some(owner.branch_id)
        }
    }
}

impl Actor {
    /// Whether the caller owns the pledge (posts its progress; hears of comments and ratings).
    pub fn owns(&self, owner: PledgeOwner) -> bool {
        owns_pledge(self.role, self.branch_id, self.user_id, owner)
    }

    /// 403 unless the caller may post progress on the pledge: only its owner.
    pub fn may_report_progress(&self, owner: PledgeOwner) -> Result<(), ApiError> {
        if self.owns(owner) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// 403 unless the caller may act on a pledge it does not own: fulfil
    /// (the branch's secretary or an admin) or rate (the branch's people).
    pub fn may_judge_pledge(&self, action: Action, owner: PledgeOwner) -> Result<(), ApiError> {
        self.may(action, Some(owner.branch_id))?;
        if self.owns(owner) {
            return Err(ApiError::Forbidden);
        }
        Ok(())
    }
}

impl Actor {
    /// Spot checks within reach: the township's, and for a caller limited to
    /// one branch only those that sampled something of it.
    pub fn scoped_spot_checks(&self) -> Select<spot_check::Entity> {
        let query = self.scoped::<spot_check::Entity>();
        match self.branch_limit() {
            Some(branch_id) => query.filter(
                spot_check::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(spot_check_item::Column::SpotCheckId)
                        .from(spot_check_item::Entity)
                        .and_where(spot_check_item::Column::BranchId.eq(branch_id))
                        .to_owned(),
                ),
            ),
            None => query,
        }
    }
}

impl Actor {
    /// The caller's own notifications: nobody reads another's inbox.
    pub fn inbox(&self) -> Select<notification::Entity> {
        notification::Entity::find()
            .filter(notification::Column::TownshipId.eq(self.township_id))
            .filter(notification::Column::RecipientId.eq(self.user_id))
    }
}

/// The review rule of SPEC §3, as a table.
pub fn permits_review(
    role: Role,
    own_branch: Option<Uuid>,
    user_id: Uuid,
    branch_id: Uuid,
    author_id: Uuid,
) -> bool {
    match role {
        Role::TownshipAdmin => true,
        Role::Secretary => own_branch == Some(branch_id) && author_id != user_id,
        Role::Member => false,
    }
}

/// Who escalates a report or follows it up, as a table.
pub fn permits_follow_through(
    role: Role,
    own_branch: Option<Uuid>,
    user_id: Uuid,
    branch_id: Uuid,
    author_id: Uuid,
) -> bool {
    match role {
        Role::TownshipAdmin => false,
        Role::Secretary => own_branch == Some(branch_id),
        Role::Member => own_branch == Some(branch_id) && author_id == user_id,
    }
}

/// A submission that members may read when it is theirs or has been approved.
pub trait Submission: Tenanted {
    /// Statuses of this kind that every member of the branch may read.
    const PUBLIC_STATUSES: &'static [&'static str];
    fn author_column() -> Self::Column;
    fn status_column() -> Self::Column;
}

impl Submission for visit::Entity {
    const PUBLIC_STATUSES: &'static [&'static str] = &["approved"];
    fn author_column() -> Self::Column {
        visit::Column::MemberId
    }
    fn status_column() -> Self::Column {
        visit::Column::Status
    }
}

impl Submission for mediation_report::Entity {
    const PUBLIC_STATUSES: &'static [&'static str] = &["approved"];
    fn author_column() -> Self::Column {
        mediation_report::Column::MemberId
    }
    fn status_column() -> Self::Column {
        mediation_report::Column::Status
    }
}

impl Submission for pledge::Entity {
    const PUBLIC_STATUSES: &'static [&'static str] = &["approved", "fulfilled", "not_fulfilled"];
    fn author_column() -> Self::Column {
        pledge::Column::AuthorId
    }
    fn status_column() -> Self::Column {
        pledge::Column::Status
    }
}

/// An entity that belongs to a township and, usually, a branch.
pub trait Tenanted: EntityTrait {
    fn id_column() -> Self::Column;
    fn township_column() -> Self::Column;
    /// `None` for township-level rows.
    fn branch_column() -> Option<Self::Column>;
}

macro_rules! tenanted {
    ($module:ident, branch: $branch:expr) => {
        impl Tenanted for $module::Entity {
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn township_column() -> Self::Column {
                $module::Column::TownshipId
            }
            fn branch_column() -> Option<Self::Column> {
                $branch
            }
        }
    };
}

tenanted!(branch, branch: Some(branch::Column::Id));
tenanted!(user, branch: Some(user::Column::BranchId));
tenanted!(household, branch: Some(household::Column::BranchId));
tenanted!(assignment, branch: Some(assignment::Column::BranchId));
tenanted!(visit, branch: Some(visit::Column::BranchId));
tenanted!(mediation_report, branch: Some(mediation_report::Column::BranchId));
tenanted!(mediation_follow_up, branch: Some(mediation_follow_up::Column::BranchId));
tenanted!(pledge, branch: Some(pledge::Column::BranchId));
tenanted!(spot_check, branch: None);
tenanted!(spot_check_item, branch: Some(spot_check_item::Column::BranchId));
tenanted!(rectification, branch: Some(rectification::Column::BranchId));
tenanted!(campaign, branch: None);
tenanted!(campaign_phase, branch: None);
// The township's own log; only its admins read it (`Action::ReadAudit`).
tenanted!(audit_log, branch: None);
tenanted!(assessment, branch: None);
tenanted!(assessment_round, branch: None);
tenanted!(assessment_snapshot, branch: None);
tenanted!(assessment_result, branch: Some(assessment_result::Column::BranchId));
tenanted!(assessment_appeal, branch: Some(assessment_appeal::Column::BranchId));

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Role; 3] = [Role::Member, Role::Secretary, Role::TownshipAdmin];

    /// The whole table, written out as SPEC §3 states it.
    #[test]
    fn permission_matrix_follows_spec() {
        let own = Some(Uuid::now_v7());
        let other = Some(Uuid::now_v7());
        let actions = [
            Action::ManageBranches,
            Action::ManageUsers,
            Action::ManageHouseholds,
            Action::Submit,
            Action::HandleEscalation,
            Action::CreateBranchPledge,
            Action::FulfilPledge,
            Action::LeaderComment,
            Action::RatePledge,
            Action::ReadStats,
            Action::ConductSpotCheck,
            Action::ReadSpotCheck,
            Action::AssignRectification,
            Action::ReadRectification,
            Action::ReportRectification,
            Action::ManageCampaigns,
            Action::ReadAudit,
            Action::ManageAssessment,
            Action::CastBallot,
            Action::ReadAssessmentResult,
            Action::FileAppeal,
        ];
        for role in ROLES {
            let home = if role == Role::TownshipAdmin {
                None
            } else {
                own
            };
            for action in actions {
                for (target, is_own) in [(own, true), (other, false)] {
                    let expected = match (role, action) {
                        (Role::TownshipAdmin, Action::Submit) => false,
                        (_, Action::Submit) => is_own,
                        (Role::TownshipAdmin, Action::RatePledge) => false,
                        (_, Action::RatePledge) => is_own,
                        (Role::TownshipAdmin, Action::ReportRectification) => false,
                        (Role::TownshipAdmin, Action::CastBallot | Action::FileAppeal) => false,
                        (_, Action::CastBallot) => is_own,
                        (Role::TownshipAdmin, _) => true,
                        // Escalations are the township's: only its admins handle them.
                        (
                            Role::Secretary,
                            Action::ManageUsers
                            | Action::ManageHouseholds
                            | Action::CreateBranchPledge
                            | Action::FulfilPledge
                            | Action::ReadStats
                            | Action::ReadSpotCheck
                            | Action::ReadRectification
                            | Action::ReportRectification
                            | Action::ReadAssessmentResult
                            | Action::FileAppeal,
                        ) => is_own,
                        _ => false,
                    };
                    assert_eq!(
                        permits(role, home, action, target),
                        expected,
                        "{role:?} {action:?} own={is_own}"
                    );
                }
            }
        }
    }

    #[test]
    fn secretaries_grant_only_the_member_role() {
        let own = Some(Uuid::now_v7());
        assert!(permits(
            Role::Secretary,
            own,
            Action::GrantRole(Role::Member),
            own
        ));
        assert!(!permits(
            Role::Secretary,
            own,
            Action::GrantRole(Role::Secretary),
            own
        ));
        assert!(!permits(
            Role::Secretary,
            own,
            Action::GrantRole(Role::TownshipAdmin),
            own
        ));
        assert!(!permits(
            Role::Member,
            own,
            Action::GrantRole(Role::Member),
            own
        ));
        assert!(permits(
            Role::TownshipAdmin,
            None,
            Action::GrantRole(Role::TownshipAdmin),
            None
        ));
    }

    #[test]
    fn review_rule_follows_spec() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (me, someone) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(permits_review(Role::Secretary, Some(own), me, own, someone));
        assert!(
            !permits_review(Role::Secretary, Some(own), me, own, me),
            "never one's own"
        );
        assert!(!permits_review(
            Role::Secretary,
            Some(own),
            me,
            other,
            someone
        ));
        assert!(!permits_review(Role::Member, Some(own), me, own, someone));
        assert!(permits_review(
            Role::TownshipAdmin,
            None,
            me,
            other,
            someone
        ));
    }

    #[test]
    fn follow_through_is_the_authors_or_the_branch_secretarys() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (me, someone) = (Uuid::now_v7(), Uuid::now_v7());
        let rule =
            |role, branch, author| permits_follow_through(role, Some(own), me, branch, author);
        assert!(rule(Role::Member, own, me), "a member, their own report");
        assert!(!rule(Role::Member, own, someone), "a member, another's");
        assert!(
            rule(Role::Secretary, own, someone),
            "a secretary, their branch's"
        );
        assert!(rule(Role::Secretary, own, me), "a secretary, their own");
        assert!(
            !rule(Role::Secretary, other, someone),
            "a secretary, another branch's"
        );
        assert!(!permits_follow_through(
            Role::TownshipAdmin,
            None,
            me,
            own,
            someone
        ));
    }

    #[test]
    fn a_member_pledge_is_its_authors_and_a_branch_pledge_its_secretarys() {
        use crate::domain::PledgeScope;
        let (branch, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (me, someone) = (Uuid::now_v7(), Uuid::now_v7());
        let member_pledge = PledgeOwner {
            branch_id: branch,
            scope: PledgeScope::Member,
            author_id: me,
        };
        assert!(owns_pledge(Role::Member, Some(branch), me, member_pledge));
        assert!(!owns_pledge(
            Role::Member,
            Some(branch),
            someone,
            member_pledge
        ));
        assert!(!owns_pledge(
            Role::Secretary,
            Some(branch),
            someone,
            member_pledge
        ));
        let branch_pledge = PledgeOwner {
            branch_id: branch,
            scope: PledgeScope::Branch,
            author_id: someone,
        };
        assert!(owns_pledge(
            Role::Secretary,
            Some(branch),
            me,
            branch_pledge
        ));
        assert!(!owns_pledge(
            Role::Secretary,
            Some(other),
            me,
            branch_pledge
        ));
        assert!(!owns_pledge(Role::Member, Some(branch), me, branch_pledge));
        assert!(!owns_pledge(
            Role::TownshipAdmin,
            None,
            someone,
            branch_pledge
        ));
    }

    #[test]
    fn a_member_without_a_branch_reaches_no_branch() {
        let actor = Actor {
            user_id: Uuid::now_v7(),
            township_id: Uuid::now_v7(),
            branch_id: None,
            role: Role::Member,
            request_id: None,
        };
        assert!(!actor.reaches_branch(Uuid::now_v7()));
    }
}

//! Roles of a workspace member and the permission matrix. The matrix is the single source of
//! truth for every route: handlers ask `role.allows(permission)`, never compare roles.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Manager,
    Editor,
    Contributor,
    Approver,
    Client,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Manager,
        Role::Editor,
        Role::Contributor,
        Role::Approver,
        Role::Client,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Editor => "editor",
            Role::Contributor => "contributor",
            Role::Approver => "approver",
            Role::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn allows(self, p: Permission) -> bool {
        MATRIX
            .iter()
            .find(|(perm, _)| *perm == p)
            .is_some_and(|(_, roles)| roles.contains(&self))
    }

    /// Whether a member with this role may give (or take away) `target` to someone.
    /// Only owners create or remove owners; managers handle every other role.
    pub fn may_assign(self, target: Role) -> bool {
        match target {
            Role::Owner => self == Role::Owner,
            _ => self.allows(Permission::ManageMembers),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the workspace exists and open its pages.
    ViewWorkspace,
    /// Rename, change time zone or locale, archive.
    ManageWorkspace,
    /// Invite, change roles, remove members.
    ManageMembers,
    ViewAudit,
    ManageChannels,
    /// Write drafts and submit them for review.
    CreatePost,
    /// Edit anybody's post.
    EditAnyPost,
    /// Schedule or publish a post that needs no approval.
    Publish,
    /// Decide on a post in review (internal stage).
    Approve,
    /// Decide on a post in the client stage.
    ClientReview,
    ViewListening,
    ManageListening,
    ReplyInbox,
    ViewReports,
    ManageCharter,
    /// Freeze and unfreeze every scheduled post (crisis).
    Freeze,
}

use Role::*;

/// Permission → roles that hold it. Kept as a table so the test below reads like the doc.
const MATRIX: &[(Permission, &[Role])] = &[
    (
        Permission::ViewWorkspace,
        &[Owner, Manager, Editor, Contributor, Approver, Client],
    ),
    (Permission::ManageWorkspace, &[Owner, Manager]),
    (Permission::ManageMembers, &[Owner, Manager]),
    (Permission::ViewAudit, &[Owner, Manager]),
    (Permission::ManageChannels, &[Owner, Manager]),
    (
        Permission::CreatePost,
        &[Owner, Manager, Editor, Contributor],
    ),
    (Permission::EditAnyPost, &[Owner, Manager, Editor]),
    (Permission::Publish, &[Owner, Manager, Editor]),
    (Permission::Approve, &[Owner, Manager, Approver]),
    (Permission::ClientReview, &[Client]),
    (
        Permission::ViewListening,
        &[Owner, Manager, Editor, Contributor, Approver],
    ),
    (Permission::ManageListening, &[Owner, Manager, Editor]),
    (
        Permission::ReplyInbox,
        &[Owner, Manager, Editor, Contributor],
    ),
    (
        Permission::ViewReports,
        &[Owner, Manager, Editor, Contributor, Approver, Client],
    ),
    (Permission::ManageCharter, &[Owner, Manager]),
    (Permission::Freeze, &[Owner, Manager]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    /// The matrix as the documentation states it: O M E C A Cl (1 = allowed).
    #[test]
    fn permission_matrix_table() {
        let expected: &[(P, [u8; 6])] = &[
            (P::ViewWorkspace, [1, 1, 1, 1, 1, 1]),
            (P::ManageWorkspace, [1, 1, 0, 0, 0, 0]),
            (P::ManageMembers, [1, 1, 0, 0, 0, 0]),
            (P::ViewAudit, [1, 1, 0, 0, 0, 0]),
            (P::ManageChannels, [1, 1, 0, 0, 0, 0]),
            (P::CreatePost, [1, 1, 1, 1, 0, 0]),
            (P::EditAnyPost, [1, 1, 1, 0, 0, 0]),
            (P::Publish, [1, 1, 1, 0, 0, 0]),
            (P::Approve, [1, 1, 0, 0, 1, 0]),
            (P::ClientReview, [0, 0, 0, 0, 0, 1]),
            (P::ViewListening, [1, 1, 1, 1, 1, 0]),
            (P::ManageListening, [1, 1, 1, 0, 0, 0]),
            (P::ReplyInbox, [1, 1, 1, 1, 0, 0]),
            (P::ViewReports, [1, 1, 1, 1, 1, 1]),
            (P::ManageCharter, [1, 1, 0, 0, 0, 0]),
            (P::Freeze, [1, 1, 0, 0, 0, 0]),
        ];
        assert_eq!(
            expected.len(),
            MATRIX.len(),
            "every permission is in the table"
        );
        for (perm, row) in expected {
            for (role, allowed) in Role::ALL.iter().zip(row) {
                assert_eq!(role.allows(*perm), *allowed == 1, "{role:?} × {perm:?}");
            }
        }
    }

    #[test]
    fn only_owners_make_owners() {
        assert!(Owner.may_assign(Owner));
        assert!(!Manager.may_assign(Owner));
        assert!(Manager.may_assign(Editor));
        assert!(!Editor.may_assign(Contributor));
    }

    #[test]
    fn role_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}

//! A version rollover: an image's members offered its new version in one reviewed step, with
//! the old version hidden, protected, annotated or revoked as chosen.

use serde::{Deserialize, Serialize};

use super::{Image, MemberStatus, ProjectName};

/// The "New version…" form as posted: the old image, the successor (a suggestion ticked in
/// `to`, or any ID typed in `to_id`, which wins) and the options, each a ticked box or absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloverForm {
    pub image_id: String,
    pub to: Option<String>,
    pub to_id: Option<String>,
    pub hide: Option<String>,
    pub protect: Option<String>,
    pub annotate: Option<String>,
    pub revoke_old: Option<String>,
    pub carry: Option<String>,
    /// The admin's confirmation that accepted statuses are set on the members' behalf.
    pub confirm_carry: Option<String>,
}

impl RolloverForm {
    /// The chosen successor's ID as typed, if any.
    pub fn successor(&self) -> Option<&str> {
        let typed = self.to_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        typed.or_else(|| self.to.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    }

    pub fn options(&self) -> RolloverOptions {
        RolloverOptions {
            hide: self.hide.is_some(),
            protect: self.protect.is_some(),
            annotate: self.annotate.is_some(),
            revoke_old: self.revoke_old.is_some(),
            carry_accepted: self.carry.is_some(),
        }
    }
}

/// What the owner chose to do besides offering the new version; each is off unless ticked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloverOptions {
    /// Hide the old image from image lists (`os_hidden`, image API 2.7).
    pub hide: bool,
    /// Protect the old image from deletion.
    pub protect: bool,
    /// Record the successor on the old image and the predecessor on the new one.
    pub annotate: bool,
    /// Revoke the old image's members once they have the new one.
    pub revoke_old: bool,
    /// (An admin) set the new offers of members who accepted the old image to accepted.
    pub carry_accepted: bool,
}

/// An image of the project suggested as the new version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Successor {
    pub image: Image,
    /// "same name stem", "same os_distro and os_version".
    pub why: String,
}

/// The "New version…" page: the old image, the suggested successors and, once one is
/// chosen, the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloverPage {
    pub old: Image,
    pub suggestions: Vec<Successor>,
    /// This cloud's Glance offers image API 2.7 (`os_hidden`); `None` when it could not be read.
    pub hide_supported: Option<bool>,
    pub is_admin: bool,
    /// Why the image cannot be rolled over at all (not owned, not shared).
    pub problem: Option<String>,
}

/// What the rollover would do, before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloverPlan {
    pub old: Image,
    pub new: Image,
    pub options: RolloverOptions,
    /// The new image is private: it is made shared first.
    pub make_shared: bool,
    /// Every member of the old image, with what happens to it.
    pub members: Vec<RolloverMember>,
    /// The image changes, in the order they are made (after the pairs).
    pub steps: Vec<super::ImageStep>,
    #[serde(default)]
    pub projects: std::collections::HashMap<String, ProjectName>,
}

impl RolloverPlan {
    /// Pairs the run sends to Glance.
    pub fn pair_count(&self) -> usize {
        self.members.iter().map(|m| usize::from(m.add) + usize::from(m.carry) + usize::from(m.revoke_old)).sum()
    }

    /// Nothing would change: every member has the new version and no option is chosen.
    pub fn is_empty(&self) -> bool {
        self.pair_count() == 0 && self.steps.is_empty() && !self.make_shared
    }
}

/// One member of the old image in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloverMember {
    pub member_id: String,
    /// Its status on the old image.
    pub old_status: MemberStatus,
    /// Its status on the new image, when it is a member already.
    pub new_status: Option<MemberStatus>,
    /// Offered the new image.
    pub add: bool,
    /// Set to accepted on the new image by an admin, on the member's behalf.
    pub carry: bool,
    /// Revoked from the old image.
    pub revoke_old: bool,
    /// Not a project ID (Glance stores any text as a member): not offered the new version.
    #[serde(default)]
    pub malformed: bool,
}

impl RolloverMember {
    /// What happens to it, in words.
    pub fn expect(&self) -> String {
        let mut parts = Vec::new();
        match (self.add, self.new_status) {
            _ if self.malformed => {
                parts.push("not a project ID: neither offered the new version nor revoked here".to_string())
            }
            (true, _) if self.carry => {
                parts.push("offered the new version, set to accepted by you (admin)".to_string())
            }
            (true, _) => parts.push("offered the new version: pending until it accepts".to_string()),
            (false, Some(status)) if self.carry => parts.push(format!(
                "already a member of the new version ({}); set to accepted by you (admin)",
                status.key()
            )),
            (false, Some(status)) => parts.push(format!("already a member of the new version ({})", status.key())),
            (false, None) => parts.push("already a member of the new version".to_string()),
        }
        if self.revoke_old {
            parts.push("then revoked from the old version".into());
        }
        parts.join("; ")
    }
}

/// The stem of an image name that versions of one image share: the name without a last part
/// holding a digit (a date, a build or version number), parts being separated by `-`, `_` or
/// spaces. `ubuntu-24.04-20261101` → `ubuntu-24.04`; `app-1.2.3` → `app`; a one-part name is
/// its own stem. Compared without case.
pub fn name_stem(name: &str) -> String {
    let name = name.trim().to_lowercase();
    match name.rfind(['-', '_', ' ']) {
        Some(at) if at > 0 && name[at + 1..].chars().any(|c| c.is_ascii_digit()) => {
            name[..at].trim_end_matches(['-', '_', ' ']).to_string()
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_a_last_part_that_holds_a_digit() {
        assert_eq!(name_stem("ubuntu-24.04-20261101"), "ubuntu-24.04");
        assert_eq!(name_stem("Ubuntu-24.04-20261201"), "ubuntu-24.04");
        assert_eq!(name_stem("debian_12_v3"), "debian_12");
        assert_eq!(name_stem("app-1.2.3"), "app");
        assert_eq!(name_stem("cirros"), "cirros");
        assert_eq!(name_stem("base image 7"), "base image");
        assert_eq!(name_stem("web-server"), "web-server");
        assert_eq!(name_stem("-7"), "-7");
        assert_eq!(name_stem(""), "");
    }

    #[test]
    fn members_say_what_happens_to_them() {
        let member = RolloverMember {
            member_id: "p".into(),
            old_status: MemberStatus::Accepted,
            new_status: None,
            add: true,
            carry: false,
            revoke_old: true,
            malformed: false,
        };
        assert_eq!(
            member.expect(),
            "offered the new version: pending until it accepts; then revoked from the old version"
        );
        let carried = RolloverMember { carry: true, revoke_old: false, ..member.clone() };
        assert_eq!(carried.expect(), "offered the new version, set to accepted by you (admin)");
        let there =
            RolloverMember { add: false, new_status: Some(MemberStatus::Rejected), revoke_old: false, ..member };
        assert_eq!(there.expect(), "already a member of the new version (rejected)");
    }
}

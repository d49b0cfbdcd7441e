//! What the dashboard calls Glance's records, in its users' words. The records are the
//! OpenStack crate's; the wording is the dashboard's, so it lives here as extension traits.

use super::{Image, MemberStatus, Visibility};

pub trait ImageWords {
    /// The image's name, or a short form of its ID when it has none.
    fn display_name(&self) -> String;
}

impl ImageWords for Image {
    fn display_name(&self) -> String {
        match self.name.as_deref() {
            Some(n) if !n.trim().is_empty() => n.to_string(),
            _ => format!("(unnamed {})", &self.id.get(..8).unwrap_or(&self.id)),
        }
    }
}

pub trait VisibilityWords {
    /// What this visibility means for members, in the words the image page uses.
    fn member_note(self) -> &'static str;
}

impl VisibilityWords for Visibility {
    fn member_note(self) -> &'static str {
        match self {
            Visibility::Shared => "Only the projects listed below (and yours) can use this image.",
            Visibility::Private => {
                "Private images have no members: only your project can use it. Make it shared to share it with chosen projects; \
                 members you added before come back when it is shared again."
            }
            Visibility::Public => "Every project in the cloud can use this image; members are not needed.",
            Visibility::Community => {
                "Every project can use this image by its ID, but it is not listed for them; members are not needed."
            }
            Visibility::Unknown => "Glance reported a visibility glance-share does not know.",
        }
    }
}

pub trait StatusWords {
    /// The verb on the button that moves an offer to this status.
    fn action(self) -> &'static str;
    /// The answer as done, for reports ("Accepted 2 offers.").
    fn done(self) -> &'static str;
}

impl StatusWords for MemberStatus {
    fn action(self) -> &'static str {
        match self {
            MemberStatus::Accepted => "Accept",
            MemberStatus::Rejected => "Reject",
            MemberStatus::Pending => "Set back to pending",
            MemberStatus::Unknown => "Set",
        }
    }

    fn done(self) -> &'static str {
        match self {
            MemberStatus::Accepted => "Accepted",
            MemberStatus::Rejected => "Rejected",
            MemberStatus::Pending => "Set back to pending",
            MemberStatus::Unknown => "Set",
        }
    }
}

/// A member status chosen in a form: one of the three a member may be set to.
#[cfg(feature = "ssr")]
pub fn member_status(key: &str) -> Result<MemberStatus, crate::error::AppError> {
    MemberStatus::from_key(key).ok_or_else(|| {
        crate::error::AppError::InvalidInput(format!("{key:?} is not a member status (pending, accepted or rejected)."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_images_are_called_by_their_id() {
        let i: Image = serde_json::from_str(r#"{"id": "abcdef0123456789", "name": " "}"#).unwrap();
        assert_eq!(i.display_name(), "(unnamed abcdef01)");
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn a_member_status_from_a_form_is_one_of_three() {
        assert!(member_status("accepted").is_ok());
        assert!(matches!(member_status("unknown"), Err(crate::error::AppError::InvalidInput(_))));
    }
}

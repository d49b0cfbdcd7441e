//! The Terraform providers the export writes for: their keys and labels are the page's links
//! (`?tf=<key>`); the HCL itself is written on the server only (`crate::terraform`).

/// A Terraform provider whose Glance membership resources the export targets.
///
/// Serialised as its [`Provider::key`], so the value in a form, a URL or JSON is the one people
/// also see in resource types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    OpenStack,
    OpenTelekomCloud,
    ViettelIdc,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::OpenStack, Provider::OpenTelekomCloud, Provider::ViettelIdc];

    /// The provider's local name, which is also the prefix of its resource types.
    pub fn key(self) -> &'static str {
        match self {
            Provider::OpenStack => "openstack",
            Provider::OpenTelekomCloud => "opentelekomcloud",
            Provider::ViettelIdc => "viettelidc",
        }
    }

    pub fn from_key(key: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|provider| provider.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::OpenStack => "OpenStack",
            Provider::OpenTelekomCloud => "Open Telekom Cloud",
            Provider::ViettelIdc => "Viettel IDC",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_keys_round_trip() {
        for provider in Provider::ALL {
            assert_eq!(Provider::from_key(provider.key()), Some(provider));
        }
        assert_eq!(Provider::from_key("OpenStack"), None);
        assert_eq!(Provider::from_key(""), None);
        let keys: Vec<&str> = Provider::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["openstack", "opentelekomcloud", "viettelidc"]);
        let labels: Vec<&str> = Provider::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(labels, ["OpenStack", "Open Telekom Cloud", "Viettel IDC"]);
    }

    #[test]
    fn provider_deserialises_from_its_key() {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for provider in Provider::ALL {
            let de: StrDeserializer<'_, Error> = provider.key().into_deserializer();
            assert_eq!(Provider::deserialize(de), Ok(provider));
        }
    }
}

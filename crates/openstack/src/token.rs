//! A Keystone token: a secret that is never logged, printed or sent to the browser.
//! It has no serde of its own: the only record that holds one (the session's) seals it
//! through `secret_key::sealed`.

use secrecy::{ExposeSecret, SecretString};

/// A Keystone token (what `X-Auth-Token` carries), kept as a secret: its `Debug` is redacted.
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// A token as Keystone issued it (or a user pasted it: see [`Token::is_well_formed`]).
    pub fn new(value: impl Into<String>) -> Token {
        Token(SecretString::from(value.into()))
    }

    /// For the `X-Auth-Token` header, and nothing else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// A token that can go into an HTTP header: printable, no spaces, a sane length. Garbled
    /// pastes are refused before anything is sent.
    pub fn is_well_formed(value: &str) -> bool {
        (16..=8192).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'.' | b'+' | b'/'))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let t = Token::new("gAAAAABsecretsecretsecret");
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn garbled_tokens_are_refused() {
        assert!(Token::is_well_formed("gAAAAABrBD2PsO-abc_DEF=="));
        assert!(!Token::is_well_formed("short"));
        assert!(!Token::is_well_formed("gAAAAABrBD2PsO abc"));
        assert!(!Token::is_well_formed("gAAAAABrBD2PsO\r\nX-Evil: 1"));
        assert!(!Token::is_well_formed(&"a".repeat(9000)));
    }
}

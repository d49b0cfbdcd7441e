//! The key that seals Keystone tokens inside session records (AES-256-GCM), so that a copy of
//! the session store (SQLite file, Redis dump, backup) holds no usable token.
//!
//! The key is 32 random bytes in a file (`GLANCE_SHARE_SECRET_KEY_FILE`); instances that share
//! sessions share the file. Losing or replacing it only ends the sessions sealed with it.

use std::{
    fs::{self, OpenOptions},
    io::{self, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::OnceLock,
};

use aes_gcm::{
    Aes256Gcm,
    aead::{Aead, AeadCore, KeyInit, Nonce, OsRng, Payload, rand_core::RngCore},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
/// Marks a sealed value and the format it is in.
pub const SEALED_PREFIX: &str = "sealed1.";
/// Binds a sealed value to what it is: a token sealed for a session and nothing else.
const PURPOSE: &[u8] = b"glance-share session token";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not read the secret key file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("could not create the secret key file {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error(
        "the secret key file {path} holds {len} bytes, not 32: it must hold exactly 32 random bytes \
         (`head -c 32 /dev/urandom > {path}`), or be removed to have a new one made"
    )]
    Length { path: PathBuf, len: u64 },
    #[error("the secret key file {path} may be read or written by other users (mode {mode:o}): run `chmod 600 {path}`")]
    Exposed { path: PathBuf, mode: u32 },
}

/// An AES-256-GCM key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey(Aes256Gcm);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    /// A key for this process only: sessions kept in memory die with it anyway.
    pub fn random() -> SecretKey {
        SecretKey(Aes256Gcm::new(&Aes256Gcm::generate_key(OsRng)))
    }

    /// The key in `path`, made (32 random bytes, mode 0600) when there is none yet. Several
    /// instances starting at once agree on one: the file appears whole or not at all.
    pub fn load_or_create(path: &Path) -> Result<SecretKey, KeyError> {
        if !path.exists() {
            create(path)?;
        }
        SecretKey::load(path)
    }

    /// The key in `path`; refused when other users may read or write it, or it is not 32 bytes.
    pub fn load(path: &Path) -> Result<SecretKey, KeyError> {
        let read = |source| KeyError::Read { path: path.to_path_buf(), source };
        let meta = fs::metadata(path).map_err(read)?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed { path: path.to_path_buf(), mode });
        }
        if meta.len() != KEY_BYTES as u64 {
            return Err(KeyError::Length { path: path.to_path_buf(), len: meta.len() });
        }
        let bytes = fs::read(path).map_err(read)?;
        let key = Aes256Gcm::new_from_slice(&bytes)
            .map_err(|_| KeyError::Length { path: path.to_path_buf(), len: bytes.len() as u64 })?;
        Ok(SecretKey(key))
    }

    /// `plain` encrypted under a fresh random nonce: `sealed1.` + base64url(nonce + ciphertext).
    pub fn seal(&self, plain: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption fails only for messages near 64 GiB; a token is a few hundred bytes.
        let sealed = self.0.encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: PURPOSE }).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// What `seal` sealed with this key; `None` for anything else (another key, altered, garbage).
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain =
            self.0.decrypt(Nonce::<Aes256Gcm>::from_slice(nonce), Payload { msg: ciphertext, aad: PURPOSE }).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Writes a new key beside `path` and links it into place, which fails (and leaves the other
/// one) when another instance got there first.
fn create(path: &Path) -> Result<(), KeyError> {
    let failed = |source| KeyError::Create { path: path.to_path_buf(), source };
    let mut key = [0u8; KEY_BYTES];
    OsRng.fill_bytes(&mut key);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.new", uuid::Uuid::new_v4().simple()));
    let draft = PathBuf::from(name);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&draft)
        .and_then(|mut f| f.write_all(&key).and_then(|()| f.sync_all()))
        .and_then(|()| fs::hard_link(&draft, path));
    let _ = fs::remove_file(&draft);
    match written {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(failed(e)),
        _ => Ok(()),
    }
}

/// The key of this process's session store, installed once at start (`install`). A global,
/// because the session store turns records into JSON through serde, which takes no context.
static SESSION_KEY: OnceLock<SecretKey> = OnceLock::new();

/// Makes `key` the one session records are sealed with; the first call wins.
pub fn install(key: SecretKey) {
    let _ = SESSION_KEY.set(key);
}

/// `token` sealed with the installed key, as a session record holds it: for a batch that another
/// instance may have to resume. `None` without a key.
pub fn seal_token(token: &openstack::Token) -> Option<String> {
    SESSION_KEY.get().map(|key| key.seal(token.expose()))
}

/// What `seal_token` sealed, under the installed key; `None` otherwise (another key, altered).
pub fn open_token(sealed: &str) -> Option<openstack::Token> {
    let plain = SESSION_KEY.get()?.open(sealed)?;
    openstack::Token::is_well_formed(&plain).then(|| openstack::Token::new(plain))
}

/// Serde for a `Token` field of a session record: sealed with the installed key on the way
/// out, opened on the way in. Without a key, or under another one, it fails (the session is
/// then over); a token is never written in the clear.
pub mod sealed {
    use serde::{Deserialize, Deserializer, Serializer, de, ser};

    use super::SESSION_KEY;
    use openstack::Token;

    pub fn serialize<S: Serializer>(token: &Token, s: S) -> Result<S::Ok, S::Error> {
        let key = SESSION_KEY.get().ok_or_else(|| ser::Error::custom("no session key is installed"))?;
        s.serialize_str(&key.seal(token.expose()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Token, D::Error> {
        let sealed = String::deserialize(d)?;
        let key = SESSION_KEY.get().ok_or_else(|| de::Error::custom("no session key is installed"))?;
        key.open(&sealed)
            .filter(|t| Token::is_well_formed(t))
            .map(Token::new)
            .ok_or_else(|| de::Error::custom("a token sealed with another key (or altered)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gs-key-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn sealed_values_open_with_their_key_only() {
        let key = SecretKey::random();
        let token = "gAAAAABsecret-token_value";
        let (a, b) = (key.seal(token), key.seal(token));
        assert_ne!(a, b, "a fresh nonce every time");
        assert!(!a.contains("secret"));
        assert_eq!(key.open(&a).as_deref(), Some(token));
        assert_eq!(SecretKey::random().open(&a), None, "another key");
        let mut altered = a.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open(std::str::from_utf8(&altered).unwrap()), None, "altered");
        for garbage in ["", "sealed1.", "sealed1.AAAA", "gAAAAABplain", "sealed1.!!!"] {
            assert_eq!(key.open(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn a_missing_key_file_is_made_0600_and_then_reused() {
        let dir = temp_dir();
        let path = dir.join("key");
        let first = SecretKey::load_or_create(&path).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        let again = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(&first.seal("abc")).as_deref(), Some("abc"), "the same key");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no draft left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn instances_starting_together_agree_on_one_key() {
        let dir = temp_dir();
        let path = dir.join("key");
        let keys: Vec<SecretKey> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| SecretKey::load_or_create(&path).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let sealed = keys[0].seal("abc");
        assert!(keys.iter().all(|k| k.open(&sealed).as_deref() == Some("abc")));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unusable_key_files_are_refused_with_what_to_do() {
        let dir = temp_dir();
        let short = dir.join("short");
        fs::write(&short, b"0123").unwrap();
        fs::set_permissions(&short, fs::Permissions::from_mode(0o600)).unwrap();
        let e = SecretKey::load_or_create(&short).unwrap_err();
        assert!(matches!(e, KeyError::Length { len: 4, .. }), "{e}");
        assert!(e.to_string().contains("32 random bytes"), "{e}");

        let open = dir.join("open");
        fs::write(&open, [7u8; 32]).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
        let e = SecretKey::load_or_create(&open).unwrap_err();
        assert!(matches!(e, KeyError::Exposed { mode: 0o644, .. }), "{e}");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        fs::remove_dir_all(dir).unwrap();
    }
}

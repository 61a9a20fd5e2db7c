//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) as a second factor.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP: i64 = 30;
const DIGITS: u32 = 6;

/// A new random secret in base32, the form authenticator apps take.
pub fn new_secret() -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &kernel::secret::random_bytes::<20>())
}

/// The code for `secret` at Unix time `at`.
pub fn code_at(secret: &str, at: i64) -> Option<String> {
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret)?;
    let counter = (at / STEP) as u64;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    Some(format!("{:0width$}", bin % 10u32.pow(DIGITS), width = DIGITS as usize))
}

/// Accepts the current code and its neighbours, for clocks a step apart.
pub fn verify(secret: &str, code: &str, now: i64) -> bool {
    let code = code.trim().replace(' ', "");
    [-STEP, 0, STEP].iter().any(|d| code_at(secret, now + d).is_some_and(|c| kernel::secret::same(&c, &code)))
}

/// The otpauth:// URI an authenticator app imports.
pub fn uri(secret: &str, account: &str) -> String {
    format!("otpauth://totp/Hanlin:{}?secret={secret}&issuer=Hanlin&digits=6&period=30", kernel::web::urlencode(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_test_vector() {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits: 287082.
        let secret = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, b"12345678901234567890");
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1111111109).unwrap(), "081804");
        assert!(verify(&secret, "287082", 59));
        assert!(!verify(&secret, "287083", 59));
    }
}

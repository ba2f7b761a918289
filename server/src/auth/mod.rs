//! Who is calling: API tokens for platforms and scripts (this module), sessions for people in
//! browsers (the sign-in feature). Every route that needs a caller takes a [`Principal`].

pub mod entity;
pub mod extract;
pub mod tokens;

pub use extract::Principal;

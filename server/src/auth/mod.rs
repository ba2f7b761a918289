//! Who is calling and how they got in.
//!
//! People exist before they visit (the roster made them); this module lets them in — single
//! sign-on, activation codes with a password set at first visit, API tokens for scripts — and
//! keeps them in: server-side sessions, CSRF protection, throttled sign-in attempts. Every
//! route that needs a caller takes a [`Principal`].

pub mod cli;
pub mod client;
pub mod codes;
pub mod csrf;
pub mod entity;
pub mod extract;
pub mod oidc;
pub mod pages;
pub mod password;
pub mod roles;
pub mod routes;
pub mod service;
pub mod session_layer;
pub mod session_store;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use extract::{Principal, Via};

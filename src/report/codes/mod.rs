//! Words for the named protocol codes: what each means and what to do about it (the
//! identifiers live with their newtypes in `proto/`).

pub mod client_error;
pub mod errinfo;
pub mod kerberos;
pub mod licensing;
pub mod meaning;
pub mod ntstatus;
pub mod tsgu;

pub use meaning::Meaning;

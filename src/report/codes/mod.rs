//! Words for the named protocol codes: what each means and what to do about it.

pub mod errinfo;
pub mod licensing;
pub mod meaning;
pub mod tsgu;

pub use meaning::Meaning;

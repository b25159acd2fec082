//! What protocol codes mean for an RDP logon and how to fix them: the words for the named
//! values whose identifiers live with their newtypes in `proto/`.

pub mod kerberos;
pub mod ntstatus;

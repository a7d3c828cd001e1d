//! vault-sim: a loopback HTTP/1.1 server that answers Veeva Vault's
//! `GET /api/{version}/services/file_staging/upload/{id}/parts` as Vault's docs describe,
//! with injectable faults, recording every request so tests can assert what was sent.

pub mod file_upload;
mod http;
mod model;
mod server;
pub mod tls;

pub use file_upload::{PartFault, SimPart};
pub use model::{expected_parts, md5_for, Action, Config, Fault, LinkStyle, Upload, User, When};
pub use server::{Recorded, Sim};

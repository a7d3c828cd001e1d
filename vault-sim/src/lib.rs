//! vault-sim: a loopback HTTP/1.1 server that answers Veeva Vault's
//! `GET /api/{version}/services/file_staging/upload/{id}/parts` as Vault's docs describe,
//! with injectable faults, recording every request so tests can assert what was sent.

mod api;
mod envelope;
mod faults;
pub mod file_upload;
mod http;
mod model;
mod server;
mod session;
pub mod tls;

pub use faults::{Action, Fault, When};
pub use file_upload::{PartFault, SimPart};
pub use model::{expected_parts, md5_for, Config, LinkStyle, Upload, User};
pub use server::{Recorded, Sim, RECORDED_BODY};

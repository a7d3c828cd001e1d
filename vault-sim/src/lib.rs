//! vault-sim: a loopback HTTP/1.1 server that answers Veeva Vault's resumable upload
//! sessions (`/api/{version}/services/file_staging/upload`: create, list, details, list parts,
//! upload a part, commit, abort; and the commit's job status) as Vault's docs describe, with
//! injectable faults on each, recording every request so tests can assert what was sent.

mod api;
mod envelope;
mod faults;
pub mod file_upload;
mod http;
mod model;
mod server;
mod session;
pub mod tls;

pub use faults::{Action, Endpoint, Fault, FaultOn, FaultSpec, FaultTarget, When};
pub use file_upload::{PartFault, SimPart};
pub use model::{expected_parts, md5_for, Config, LinkStyle, SessionIds, SourceFile, Upload, User};
pub use server::{Recorded, Sim, RECORDED_BODY};
pub use session::{JobPoll, JobView, SessionState, SessionView, StagedFile, MAX_PART_NUMBER};

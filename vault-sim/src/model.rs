//! What the simulated Vault starts with: users (session tokens), upload sessions and their
//! faults. The running state is in session.rs.

use crate::faults::{Action, Endpoint, Fault, FaultOn, When};
use std::time::Duration;

/// A logged-in user: `token` is the session ID a client sends in Authorization.
#[derive(Clone, Debug)]
pub struct User {
    pub token: String,
    pub name: String,
    /// Admins may list any upload session; others only their own.
    pub admin: bool,
}

/// How next_page links are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStyle {
    /// "http://host:port/api/...", as Vault does for this endpoint.
    Absolute,
    /// "/api/...", as other Vault endpoints do.
    Relative,
}

/// One listed part, as the simulator serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPart {
    pub number: u32,
    pub size: u64,
    /// 32 lowercase hex digits; None is served as `"part_content_md5": null`.
    pub md5: Option<String>,
}

/// An upload session the simulator starts with. Its parts are described either by `listed`
/// or, when that is None, by `parts` synthetic ones (numbered from 1, `part_size` bytes but
/// the last, MD5s from `md5_for`); `described_parts` reads the description, and the running
/// simulator stores what it returns as the session's one list of parts.
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub owner: String,
    pub parts: u32,
    pub part_size: u64,
    /// Size of the last part; `part_size` when None.
    pub last_part_size: Option<u64>,
    pub links: LinkStyle,
    /// Faults on this session's part listings (numbered among them).
    pub faults: Vec<Fault>,
    /// The parts listed, in order, instead of `parts` synthetic ones (see file_upload.rs).
    pub listed: Option<Vec<SimPart>>,
    /// The declared file size; None: the sum of the described parts' sizes.
    pub size: Option<u64>,
    /// Where the file goes on staging; None: "/u/{owner}/{id}".
    pub path: Option<String>,
    pub overwrite: bool,
    /// Faults on this session's requests of one kind each (numbered among that kind); `faults`
    /// are the same aimed at Endpoint::Parts.
    pub faults_on: Vec<FaultOn>,
    /// The local file the described parts were cut from: a part that still matches it is read
    /// from there when the committed file is assembled.
    pub source: Option<SourceFile>,
}

/// A local file an upload session was made from (see `Upload::from_file`).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub part_size: u64,
    /// The file's true parts, as they were cut.
    pub parts: Vec<SimPart>,
}

impl Upload {
    pub fn new(id: &str, owner: &str, parts: u32) -> Self {
        Upload {
            id: id.into(),
            owner: owner.into(),
            parts,
            part_size: 5 * 1024 * 1024,
            last_part_size: None,
            links: LinkStyle::Absolute,
            faults: Vec::new(),
            listed: None,
            size: None,
            path: None,
            overwrite: false,
            faults_on: Vec::new(),
            source: None,
        }
    }

    pub fn size_of(&self, part_number: u32) -> u64 {
        match self.last_part_size {
            Some(last) if part_number == self.parts => last,
            _ => self.part_size,
        }
    }

    /// Adds a fault on this session's part listings.
    pub fn fault(mut self, when: When, action: Action) -> Self {
        self.faults.push(Fault { when, action });
        self
    }

    /// Adds a fault on this session's requests to `endpoint` (numbered among them).
    pub fn fault_on(mut self, endpoint: Endpoint, when: When, action: Action) -> Self {
        self.faults_on.push(FaultOn { endpoint, fault: Fault { when, action } });
        self
    }

    /// Sets the declared file size (by default the parts' sum).
    pub fn declared_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Sets the staging path the committed file goes to.
    pub fn staging_path(mut self, path: &str) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Every fault of this session, each with the endpoint it is aimed at.
    pub fn all_faults(&self) -> Vec<FaultOn> {
        let listings = self.faults.iter().map(|f| FaultOn { endpoint: Endpoint::Parts, fault: f.clone() });
        listings.chain(self.faults_on.iter().cloned()).collect()
    }

    /// Every part this upload describes, in listing order.
    pub fn described_parts(&self) -> Vec<SimPart> {
        match &self.listed {
            Some(parts) => parts.clone(),
            None => (1..=self.parts)
                .map(|n| SimPart { number: n, size: self.size_of(n), md5: Some(md5_for(&self.id, n)) })
                .collect(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on, "127.0.0.1:0" for an ephemeral port.
    pub bind: String,
    pub users: Vec<User>,
    pub uploads: Vec<Upload>,
    /// X-VaultAPI-BurstLimit; each request lowers BurstLimitRemaining by one.
    pub burst_limit: i64,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<crate::tls::Identity>,
    /// A request body larger than this is refused with HTTP 413 (and the connection closed).
    pub max_body: u64,
    /// A part smaller than this is refused, unless it ends the declared size.
    pub min_part_size: u64,
    /// A part larger than this is refused.
    pub max_part_size: u64,
    /// Sessions open or committing at once, over the whole simulator; a create past it is
    /// refused.
    pub max_sessions: usize,
    /// The largest declared size a create accepts.
    pub max_file_size: u64,
    /// How long a commit's job runs before it ends.
    pub job_delay: Duration,
    /// A second status request for one job within this long of the last answered one is
    /// refused with API_LIMIT_EXCEEDED.
    pub job_poll_window: Duration,
    /// The form of the IDs creates make.
    pub session_ids: SessionIds,
    /// Faults on creates and session lists (numbered over the simulator), and on the requests
    /// of every session a create makes (numbered per session).
    pub faults: Vec<FaultOn>,
}

/// The form of upload session IDs made by creates; Vault has shown both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionIds {
    /// 32 lowercase hex digits.
    Hex,
    /// A long dotted base64-like string.
    Dotted,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:0".into(),
            users: Vec::new(),
            uploads: Vec::new(),
            burst_limit: 2000,
            tls: None,
            max_body: 64 << 20,
            min_part_size: 5 << 20,
            max_part_size: 50 << 20,
            max_sessions: 50,
            max_file_size: 500_000_000_000,
            job_delay: Duration::ZERO,
            job_poll_window: Duration::from_secs(10),
            session_ids: SessionIds::Hex,
            faults: Vec::new(),
        }
    }
}

impl Config {
    pub fn user(mut self, token: &str, name: &str, admin: bool) -> Self {
        self.users.push(User { token: token.into(), name: name.into(), admin });
        self
    }

    pub fn upload(mut self, upload: Upload) -> Self {
        self.uploads.push(upload);
        self
    }

    /// Adds a fault on creates or session lists, or on the requests of every session a create
    /// makes.
    pub fn fault_on(mut self, endpoint: Endpoint, when: When, action: Action) -> Self {
        self.faults.push(FaultOn { endpoint, fault: Fault { when, action } });
        self
    }
}

/// The MD5 the simulator reports for a part: 32 lowercase hex digits derived from the upload
/// ID and part number (stable across runs, different for every part).
pub fn md5_for(upload_id: &str, part_number: u32) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    for b in upload_id.bytes().chain(part_number.to_le_bytes()) {
        h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(h1), mix(h1 ^ 0x9e37_79b9_7f4a_7c15))
}

/// A digest as lowercase hex digits (32 for an MD5).
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every part of `upload` as (part_number, size, md5), in the order the simulator lists them.
pub fn expected_parts(upload: &Upload) -> Vec<(u32, u64, String)> {
    upload.described_parts().into_iter().map(|p| (p.number, p.size, p.md5.unwrap_or_default())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5s_are_32_hex_digits_and_distinct() {
        let a = md5_for("u", 1);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(a, md5_for("u", 2));
        assert_ne!(a, md5_for("v", 1));
    }
}

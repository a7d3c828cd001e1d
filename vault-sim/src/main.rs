//! vault-sim command line: serve simulated Vault upload sessions on loopback.

use clap::{CommandFactory, Parser};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vault_sim::{Config, FaultSpec, FaultTarget, LinkStyle, PartFault, SessionIds, Sim, Upload, User};

/// Serves Vault's resumable upload sessions on loopback, under
/// /api/{version}/services/file_staging/upload: create (POST), list sessions (GET), details
/// (GET /{id}), list parts (GET /{id}/parts), upload a part (PUT /{id}), commit (POST /{id}),
/// abort (DELETE /{id}); and the commit's job status (GET /api/{version}/services/jobs/{job}).
/// Parts must come in numerical order, at least --min-part-size bytes but the one ending the
/// declared size, at most the declared size in all; a commit's job checks that parts 1..n add
/// up to the declared size and ends SUCCESS (the file is then on staging) or
/// ERRORS_ENCOUNTERED after --job-delay-ms.
#[derive(Parser, Debug)]
#[command(
    name = "vault-sim",
    version,
    after_help = "Prints \"vault-sim listening on URL\" when ready and serves until killed."
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: String,

    /// Port (0: any free port).
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,

    /// A session ID and its user; admin users may list any upload (repeatable).
    #[arg(long, value_name = "TOKEN:NAME[:admin]", value_parser = parse_user)]
    user: Vec<User>,

    /// An upload session owned by user OWNER with PARTS parts stored (repeatable); its declared
    /// size is their sum.
    #[arg(long, value_name = "ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]", value_parser = parse_upload)]
    upload: Vec<Upload>,

    /// An upload session of the file at PATH cut into PART_SIZE-byte parts, its first UPLOADED
    /// parts stored with their true sizes and MD5s, the file's size declared (repeatable).
    #[arg(long, value_name = "ID:OWNER:PATH:PART_SIZE:UPLOADED",
          value_parser = vault_sim::file_upload::parse_upload_file)]
    upload_file: Vec<Upload>,

    /// Change upload ID's listed parts (repeatable): md5=N (wrong MD5), size=N (one byte
    /// larger), missing=N (a gap), extra=N (N parts past the end), nomd5=N (no MD5), dup=N
    /// (listed twice).
    #[arg(long, value_name = "ID:FAULT", value_parser = parse_part_fault)]
    part_fault: Vec<(String, PartFault)>,

    /// Write next_page as a path (/api/...) instead of an absolute URL.
    #[arg(long)]
    relative_links: bool,

    /// Inject a fault (repeatable). ID:WHEN:ACTION aims at upload ID's part listings;
    /// ID:KIND:WHEN:ACTION at its requests of one KIND: details, parts, put, commit, abort or
    /// job (status requests for its commits' jobs); new:KIND:WHEN:ACTION at every session a
    /// create makes; create:WHEN:ACTION at creates and sessions:WHEN:ACTION at session lists.
    /// Requests are numbered per session and kind (creates and lists over the simulator).
    /// WHEN is all, N (the Nth request) or firstN. ACTION is one of status=CODE[,RETRY_AFTER],
    /// failure=TYPE, exception=TYPE, delay=MS, hang, close, body=TEXT, next_page=JSON,
    /// redirect=LOCATION, truncated, drop, endless, gzip, chunked, lowercase, warning,
    /// slow_body=MS (half the body, a pause, the rest), after=MS,ACTION (wait, then ACTION),
    /// reset_mid_body (read half the request body, then RST), echo_md5 and echo_size (a PUT
    /// stores the bytes but echoes a wrong MD5 or size), job=STATUS (a commit's job ends with
    /// STATUS; a job status answer reports it).
    #[arg(long, value_name = "SPEC", value_parser = FaultSpec::parse)]
    fault: Vec<FaultSpec>,

    /// The smallest part accepted, but for the one that ends the declared size.
    #[arg(long, value_name = "BYTES", default_value_t = 5 << 20)]
    min_part_size: u64,

    /// The largest part accepted.
    #[arg(long, value_name = "BYTES", default_value_t = 50 << 20)]
    max_part_size: u64,

    /// Sessions open or committing at once; a create past it is refused.
    #[arg(long, value_name = "N", default_value_t = 50)]
    max_sessions: usize,

    /// How long a commit's job runs.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    job_delay_ms: u64,

    /// A second status request for a job within this long of the last answered one is refused
    /// with API_LIMIT_EXCEEDED.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    job_poll_window_ms: u64,

    /// The form of the IDs creates make: hex (32 hex digits) or dotted (long, base64-like).
    #[arg(long, value_name = "FORM", default_value = "hex", value_parser = parse_ids)]
    session_ids: SessionIds,

    /// Serve HTTPS with a certificate for 127.0.0.1 and localhost signed by a fresh CA, and
    /// write that CA's PEM to PATH (for --ca-file).
    #[arg(long, value_name = "PATH")]
    tls_ca_out: Option<String>,

    /// Write the base URL (http://ADDR:PORT) to PATH once listening.
    #[arg(long, value_name = "PATH")]
    url_file: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => Cli::command().error(clap::error::ErrorKind::ValueValidation, msg).exit(),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut config = Config {
        users: cli.user,
        min_part_size: cli.min_part_size,
        max_part_size: cli.max_part_size,
        max_sessions: cli.max_sessions,
        job_delay: Duration::from_millis(cli.job_delay_ms),
        job_poll_window: Duration::from_millis(cli.job_poll_window_ms),
        session_ids: cli.session_ids,
        ..Config::default()
    };
    config.uploads.extend(cli.upload);
    config.uploads.extend(cli.upload_file);
    if cli.relative_links {
        for u in &mut config.uploads {
            u.links = LinkStyle::Relative;
        }
    }
    for spec in cli.fault {
        match spec.target {
            FaultTarget::Upload(id) => find(&mut config, &id, "--fault")?.faults_on.push(spec.fault),
            FaultTarget::New | FaultTarget::Vault => config.faults.push(spec.fault),
        }
    }
    for (id, fault) in cli.part_fault {
        find(&mut config, &id, "--part-fault")?.part_fault(fault);
    }
    if let Some(path) = cli.tls_ca_out {
        let ca = vault_sim::tls::TestCa::new("vault-sim test CA");
        std::fs::write(&path, ca.pem()).map_err(|e| format!("cannot write {path}: {e}"))?;
        config.tls = Some(ca.identity(&["127.0.0.1", "localhost", "::1"]));
    }
    let (bind, port) = (cli.bind, cli.port);
    config.bind = if bind.contains(':') { format!("[{bind}]:{port}") } else { format!("{bind}:{port}") };
    let sim = Sim::start(config).map_err(|e| format!("cannot listen: {e}"))?;
    if let Some(path) = cli.url_file {
        std::fs::write(&path, sim.url()).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    println!("vault-sim listening on {}", sim.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

/// The upload `flag` names.
fn find<'a>(config: &'a mut Config, id: &str, flag: &str) -> Result<&'a mut Upload, String> {
    config.uploads.iter_mut().find(|u| u.id == id).ok_or(format!("{flag} names unknown upload {id:?}"))
}

fn parse_user(spec: &str) -> Result<User, String> {
    let user = |token: &str, name: &str, admin| User { token: token.into(), name: name.into(), admin };
    match spec.split(':').collect::<Vec<_>>().as_slice() {
        [token, name] => Ok(user(token, name, false)),
        [token, name, "admin"] => Ok(user(token, name, true)),
        _ => Err(format!("{spec:?}: expected TOKEN:NAME or TOKEN:NAME:admin")),
    }
}

fn parse_upload(spec: &str) -> Result<Upload, String> {
    let bad = || format!("{spec:?}: expected ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]");
    let f: Vec<&str> = spec.split(':').collect();
    if f.len() < 3 || f.len() > 5 || f[0].is_empty() {
        return Err(bad());
    }
    let mut upload = Upload::new(f[0], f[1], f[2].parse().map_err(|_| bad())?);
    if let Some(size) = f.get(3) {
        upload.part_size = size.parse().map_err(|_| bad())?;
    }
    if let Some(last) = f.get(4) {
        upload.last_part_size = Some(last.parse().map_err(|_| bad())?);
    }
    Ok(upload)
}

fn parse_ids(form: &str) -> Result<SessionIds, String> {
    match form {
        "hex" => Ok(SessionIds::Hex),
        "dotted" => Ok(SessionIds::Dotted),
        _ => Err(format!("{form:?}: expected hex or dotted")),
    }
}

fn parse_part_fault(spec: &str) -> Result<(String, PartFault), String> {
    let (id, fault) = spec.split_once(':').ok_or(format!("{spec:?}: expected ID:FAULT"))?;
    Ok((id.to_owned(), PartFault::parse(fault)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse_as_before() {
        let cli = Cli::try_parse_from([
            "vault-sim",
            "--port",
            "8080",
            "--user",
            "t:alice",
            "--user",
            "a:root:admin",
            "--upload",
            "u1:alice:7:5242880:1048576",
            "--fault",
            "u1:2:status=503,1",
            "--part-fault",
            "u1:md5=3",
            "--relative-links",
        ])
        .unwrap();
        assert_eq!((cli.port, cli.bind.as_str(), cli.relative_links), (8080, "127.0.0.1", true));
        assert_eq!(
            cli.user.iter().map(|u| (u.name.as_str(), u.admin)).collect::<Vec<_>>(),
            [("alice", false), ("root", true)]
        );
        let u = &cli.upload[0];
        assert_eq!((u.id.as_str(), u.parts, u.part_size, u.last_part_size), ("u1", 7, 5242880, Some(1048576)));
        assert_eq!(cli.fault[0].target, FaultTarget::Upload("u1".into()));
        assert_eq!(cli.part_fault[0], ("u1".into(), PartFault::WrongMd5(3)));
        assert_eq!((cli.min_part_size, cli.max_sessions, cli.job_poll_window_ms), (5 << 20, 50, 10_000));
        for bad in
            [&["--port", "70000"][..], &["--user", "x"], &["--upload", "a:b"], &["--fault", "u:x:hang"], &["--nope"]]
        {
            assert!(Cli::try_parse_from(["vault-sim"].iter().chain(bad)).is_err(), "{bad:?}");
        }
    }
}

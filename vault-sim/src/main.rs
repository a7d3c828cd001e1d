//! vault-sim command line: serve simulated Vault upload sessions on loopback.

use clap::{CommandFactory, Parser};
use std::io::Write;
use std::process::ExitCode;
use vault_sim::{Config, Fault, LinkStyle, PartFault, Sim, Upload, User};

/// Serves Vault's GET /api/{version}/services/file_staging/upload/{id}/parts on loopback.
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

    /// An upload session owned by user OWNER with PARTS parts (repeatable).
    #[arg(long, value_name = "ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]", value_parser = parse_upload)]
    upload: Vec<Upload>,

    /// An upload session listing the first UPLOADED parts of the file at PATH cut into
    /// PART_SIZE-byte parts, with their true sizes and MD5s (repeatable).
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

    /// Inject a fault into upload ID's part listings (repeatable); WHEN is all, N (the Nth
    /// request) or firstN; ACTION is one of status=CODE[,RETRY_AFTER], failure=TYPE,
    /// exception=TYPE, delay=MS, hang, close, body=TEXT, next_page=JSON, redirect=LOCATION,
    /// truncated, drop, endless, gzip, chunked, lowercase, warning, slow_body=MS (half the body,
    /// a pause, the rest), after=MS,ACTION (wait, then ACTION).
    #[arg(long, value_name = "ID:WHEN:ACTION", value_parser = Fault::parse)]
    fault: Vec<(String, Fault)>,

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
    let mut config = Config { users: cli.user, ..Config::default() };
    config.uploads.extend(cli.upload);
    config.uploads.extend(cli.upload_file);
    if cli.relative_links {
        for u in &mut config.uploads {
            u.links = LinkStyle::Relative;
        }
    }
    for (id, fault) in cli.fault {
        find(&mut config, &id, "--fault")?.faults.push(fault);
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
        assert_eq!((cli.fault[0].0.as_str(), cli.part_fault[0].clone()), ("u1", ("u1".into(), PartFault::WrongMd5(3))));
        for bad in
            [&["--port", "70000"][..], &["--user", "x"], &["--upload", "a:b"], &["--fault", "u:x:hang"], &["--nope"]]
        {
            assert!(Cli::try_parse_from(["vault-sim"].iter().chain(bad)).is_err(), "{bad:?}");
        }
    }
}

//! vault-sim command line: serve simulated Vault upload sessions on loopback.

use std::io::Write;
use std::process::ExitCode;
use vault_sim::{Config, LinkStyle, Sim, Upload};

const USAGE: &str = "\
usage: vault-sim [options]
Serves Vault's GET /api/{version}/services/file_staging/upload/{id}/parts on loopback.

  --bind ADDR        address to listen on (default 127.0.0.1)
  --port N           port (default 0: any free port)
  --user TOKEN:NAME[:admin]
                     a session ID and its user; admin users may list any upload (repeatable)
  --upload ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]
                     an upload session owned by user OWNER with PARTS parts (repeatable)
  --upload-file ID:OWNER:PATH:PART_SIZE:UPLOADED
                     an upload session listing the first UPLOADED parts of the file at PATH
                     cut into PART_SIZE-byte parts, with their true sizes and MD5s (repeatable)
  --part-fault ID:FAULT
                     change upload ID's listed parts (repeatable): md5=N (wrong MD5), size=N
                     (one byte larger), missing=N (a gap), extra=N (N parts past the end),
                     nomd5=N (no MD5), dup=N (listed twice)
  --relative-links   write next_page as a path (/api/...) instead of an absolute URL
  --fault ID:WHEN:ACTION
                     inject a fault into upload ID's requests (repeatable); WHEN is all, N
                     (the Nth request) or firstN; ACTION is one of status=CODE[,RETRY_AFTER],
                     failure=TYPE, exception=TYPE, delay=MS, hang, close, body=TEXT,
                     next_page=JSON, redirect=LOCATION, truncated, drop, endless, gzip,
                     chunked, lowercase, warning, slow_body=MS (half the body, a pause,
                     the rest), after=MS,ACTION (wait, then ACTION)
  --tls-ca-out PATH  serve HTTPS with a certificate for 127.0.0.1 and localhost signed by a
                     fresh CA, and write that CA's PEM to PATH (for --ca-file)
  --url-file PATH    write the base URL (http://ADDR:PORT) to PATH once listening
  --help             this text

Prints \"vault-sim listening on URL\" when ready and serves until killed.";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("vault-sim: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut config = Config::default();
    let (mut bind, mut port) = ("127.0.0.1".to_owned(), 0u16);
    let mut relative = false;
    let mut url_file = None;
    let mut faults = Vec::new();
    let mut part_faults = Vec::new();
    let mut tls_ca_out = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--bind" => bind = value()?,
            "--port" => port = value()?.parse().map_err(|_| "--port takes a number from 0 to 65535".to_owned())?,
            "--user" => {
                let v = value()?;
                let fields: Vec<&str> = v.split(':').collect();
                match fields.as_slice() {
                    [token, name] => config = config.user(token, name, false),
                    [token, name, "admin"] => config = config.user(token, name, true),
                    _ => return Err(format!("--user {v:?}: expected TOKEN:NAME or TOKEN:NAME:admin")),
                }
            }
            "--upload" => config = config.upload(parse_upload(&value()?)?),
            "--upload-file" => config = config.upload(vault_sim::file_upload::parse_upload_file(&value()?)?),
            "--part-fault" => part_faults.push(value()?),
            "--relative-links" => relative = true,
            "--fault" => faults.push(vault_sim::Fault::parse(&value()?)?),
            "--tls-ca-out" => tls_ca_out = Some(value()?),
            "--url-file" => url_file = Some(value()?),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if relative {
        for u in &mut config.uploads {
            u.links = LinkStyle::Relative;
        }
    }
    for (id, fault) in faults {
        let upload =
            config.uploads.iter_mut().find(|u| u.id == id).ok_or(format!("--fault names unknown upload {id:?}"))?;
        upload.faults.push(fault);
    }
    for spec in part_faults {
        let (id, fault) = spec.split_once(':').ok_or(format!("--part-fault {spec:?}: expected ID:FAULT"))?;
        let upload = config
            .uploads
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or(format!("--part-fault names unknown upload {id:?}"))?;
        upload.part_fault(vault_sim::PartFault::parse(fault)?);
    }
    if let Some(path) = tls_ca_out {
        let ca = vault_sim::tls::TestCa::new("vault-sim test CA");
        std::fs::write(&path, ca.pem()).map_err(|e| format!("cannot write {path}: {e}"))?;
        config.tls = Some(ca.identity(&["127.0.0.1", "localhost", "::1"]));
    }
    config.bind = if bind.contains(':') { format!("[{bind}]:{port}") } else { format!("{bind}:{port}") };
    let sim = Sim::start(config).map_err(|e| format!("cannot listen: {e}"))?;
    if let Some(path) = url_file {
        std::fs::write(&path, sim.url()).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    println!("vault-sim listening on {}", sim.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn parse_upload(spec: &str) -> Result<Upload, String> {
    let bad = || format!("--upload {spec:?}: expected ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]");
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

//! The verifier's core against vault-sim, without the C layer.

use super::*;
use vault_sim::file_upload::parts_of_file;
use vault_sim::{Config, PartFault, Sim, Upload};

const SID: &str = "SID-verify-core-51f0";
const KB: u64 = 1024;

/// A file of pseudo-random bytes, removed on drop.
struct TempFile(String);

impl TempFile {
    fn new(name: &str, len: u64) -> TempFile {
        let path = std::env::temp_dir().join(format!("vp-verify-{}-{name}", std::process::id()));
        let bytes = vault_sim::file_upload::pseudo_random_bytes(len, 0x9e37_79b9_7f4a_7c15 ^ len);
        std::fs::write(&path, bytes).unwrap();
        TempFile(path.to_string_lossy().into_owned())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A simulator listing the first `uploaded` parts of `file`, changed by `faults`.
fn sim_for(file: &TempFile, part_size: u64, uploaded: u32, faults: &[PartFault]) -> Sim {
    let mut upload = Upload::with_parts("up-v", "alice", parts_of_file(&file.0, part_size, uploaded).unwrap());
    for f in faults {
        upload.part_fault(*f);
    }
    Sim::start(Config::default().user(SID, "alice", false).upload(declared(upload, file))).unwrap()
}

/// `upload` created for `file`'s size, as a session of that file is (by default the simulator
/// declares the listed parts' sum).
fn declared(upload: Upload, file: &TempFile) -> Upload {
    upload.declared_size(std::fs::metadata(&file.0).unwrap().len())
}

fn verifier(sim: &Sim, file: &TempFile, part_size: u64, limit: u32) -> Verifier {
    let mut listing = Listing::new(&sim.url(), SID, "up-v");
    listing.configure(|s| s.set_limit(limit)).unwrap();
    Verifier::new(listing, &file.0, part_size)
}

/// Every verdict until the end, then the error or None.
fn drain(v: &mut Verifier) -> (Vec<Verdict>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match v.next_verdict() {
            Ok(Some(verdict)) => out.push(verdict),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn statuses(verdicts: &[Verdict]) -> Vec<(u32, Status)> {
    verdicts.iter().map(|v| (v.part_number, v.status)).collect()
}

#[test]
fn an_intact_upload_is_ok_part_by_part_with_a_shorter_last_part() {
    let file = TempFile::new("intact", 10 * 64 * KB + 1000);
    let sim = sim_for(&file, 64 * KB, 11, &[]);
    let mut v = verifier(&sim, &file, 64 * KB, 4);
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    assert_eq!(statuses(&verdicts), (1..=11).map(|n| (n, Status::Ok)).collect::<Vec<_>>());
    let last = verdicts[10];
    assert_eq!((last.offset, last.local_size, last.remote_size), (10 * 64 * KB, 1000, 1000));
    let listed = parts_of_file(&file.0, 64 * KB, 11).unwrap();
    for (v, p) in verdicts.iter().zip(&listed) {
        assert_eq!(v.local_md5.map(|m| String::from_utf8(m.to_vec()).unwrap()), p.md5);
    }
    let t = v.totals();
    assert_eq!(
        t,
        Totals { count: [11, 0, 0, 0, 0, 0], bytes_hashed: 10 * 64 * KB + 1000, first_to_upload: 0, resumable: true }
    );
    assert_eq!(sim.requests().len(), 4, "the session's details, then 11 parts at limit 4");
    assert_eq!(v.next_verdict(), Ok(None), "DONE stays DONE");
}

#[test]
fn every_verdict_from_per_part_faults() {
    let file = TempFile::new("faults", 6 * 64 * KB);
    let faults = [PartFault::WrongMd5(2), PartFault::WrongSize(3), PartFault::Missing(4), PartFault::NoMd5(5)];
    let sim = sim_for(&file, 64 * KB, 6, &faults);
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    use Status::*;
    assert_eq!(
        statuses(&verdicts),
        [(1, Ok), (2, Md5Mismatch), (3, SizeMismatch), (4, Missing), (5, Unverified), (6, Ok)]
    );
    assert!(verdicts[1].local_md5.is_some() && verdicts[1].local_md5 != verdicts[1].remote_md5);
    assert_eq!((verdicts[2].local_md5, verdicts[2].remote_size), (None, 64 * KB + 1));
    assert_eq!((verdicts[3].remote_size, verdicts[3].remote_md5, verdicts[3].local_size), (0, None, 64 * KB));
    assert_eq!((verdicts[4].local_md5, verdicts[4].remote_md5), (None, None));
    let t = v.totals();
    assert_eq!((t.count, t.first_to_upload, t.resumable), ([2, 1, 1, 1, 1, 0], 2, true));
    assert_eq!(t.bytes_hashed, 3 * 64 * KB);
}

#[test]
fn parts_past_the_end_are_extra_and_not_resumable() {
    let file = TempFile::new("extra", 3 * 64 * KB);
    let sim = sim_for(&file, 64 * KB, 3, &[PartFault::Extra(2)]);
    let mut v = verifier(&sim, &file, 64 * KB, 1000);
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    use Status::*;
    assert_eq!(statuses(&verdicts), [(1, Ok), (2, Ok), (3, Ok), (4, Extra), (5, Extra)]);
    assert_eq!((verdicts[3].offset, verdicts[3].local_size, verdicts[3].remote_size), (3 * 64 * KB, 0, 64 * KB));
    assert!(!v.totals().resumable);
}

#[test]
fn a_partial_upload_with_a_gap_resumes_at_the_gap() {
    let file = TempFile::new("gap", 8 * 64 * KB + 5);
    let sim = sim_for(&file, 64 * KB, 5, &[PartFault::Missing(3)]);
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    use Status::*;
    let want: Vec<(u32, Status)> =
        [(1, Ok), (2, Ok), (3, Missing), (4, Ok), (5, Ok), (6, Missing), (7, Missing), (8, Missing), (9, Missing)]
            .into();
    assert_eq!(statuses(&verdicts), want);
    let t = v.totals();
    assert_eq!((t.first_to_upload, t.resumable, t.count[Missing as usize]), (3, true, 5));
}

const MIB: u64 = 1 << 20;

#[test]
fn part_size_is_read_off_the_listing_or_asked_for() {
    let file = TempFile::new("infer", 4 * 5 * MIB);
    let sim = sim_for(&file, 5 * MIB, 2, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 0, 1));
    assert_eq!(err, None);
    assert_eq!(statuses(&verdicts).len(), 4, "an exact multiple: 4 parts, no empty fifth");
    assert_eq!(verdicts[1].status, Status::Ok);

    // Part 2 alone may be the last part: nothing tells the part size.
    let two = sim_for(&file, 5 * MIB, 2, &[PartFault::Missing(1)]);
    let (verdicts, err) = drain(&mut verifier(&two, &file, 0, 1000));
    assert!(verdicts.is_empty());
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Arg);
    assert_eq!(
        err.message(),
        "part_size is 0 and the listing cannot tell it (the listing has only part 2, which may be the last): pass the part size"
    );
}

/// Part 1 alone is a full part when the file is longer (it cannot be the last), or the whole
/// file when it is not.
#[test]
fn part_1_alone_tells_the_part_size() {
    let file = TempFile::new("part1", 2 * 5 * MIB + 3);
    let sim = sim_for(&file, 5 * MIB, 1, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 0, 1000));
    assert_eq!(err, None);
    use Status::*;
    assert_eq!(statuses(&verdicts), [(1, Ok), (2, Missing), (3, Missing)]);
    assert_eq!((verdicts[2].offset, verdicts[2].local_size), (10 * MIB, 3));

    let whole = TempFile::new("whole", 100 * KB);
    let sim = sim_for(&whole, 100 * KB, 1, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &whole, 0, 1000));
    assert_eq!((statuses(&verdicts), err), (vec![(1, Ok)], None), "one part, below 5 MiB: not a protocol error");
}

/// Issue 15 item 6: parts 1 and 2 of 1 byte each turned a 20 MB file into 20 million verdicts.
#[test]
fn an_implied_part_size_below_vaults_minimum_is_a_protocol_error() {
    let file = TempFile::new("tiny", 1);
    std::fs::File::options().write(true).open(&file.0).unwrap().set_len(20_000_000).unwrap();
    let parts = (1..=2).map(|number| vault_sim::SimPart { number, size: 1, md5: None }).collect();
    let upload = declared(Upload::with_parts("up-v", "alice", parts), &file);
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(upload)).unwrap();
    let mut v = verifier(&sim, &file, 0, 1000);
    let (verdicts, err) = drain(&mut v);
    assert!(verdicts.is_empty(), "{} verdicts", verdicts.len());
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(
        err.message(),
        "the listing implies a part size of 1 bytes, below Vault's minimum of 5242880 for every part but the last (the 20000000-byte file would be 20000000 parts)"
    );
    assert_eq!(v.totals().count, [0; 6]);
}

/// A session just created lists nothing: the file is cut as an upload would cut it.
#[test]
fn a_session_with_no_parts_gets_the_librarys_part_size() {
    let file = TempFile::new("noparts", 1);
    std::fs::File::options().write(true).open(&file.0).unwrap().set_len(20 * MIB).unwrap();
    let sim = sim_for(&file, MIB, 0, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 0, 1000));
    assert_eq!(err, None);
    assert_eq!(statuses(&verdicts), [(1, Status::Missing), (2, Status::Missing), (3, Status::Missing)]);
    assert_eq!(
        verdicts.iter().map(|v| (v.offset, v.local_size)).collect::<Vec<_>>(),
        [(0, 8 * MIB), (8 * MIB, 8 * MIB), (16 * MIB, 4 * MIB)]
    );
}

#[test]
fn a_given_part_size_that_contradicts_the_listing_gives_size_mismatches() {
    let file = TempFile::new("contra", 4 * 64 * KB);
    let sim = sim_for(&file, 64 * KB, 4, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 128 * KB, 1000));
    assert_eq!(err, None);
    use Status::*;
    assert_eq!(statuses(&verdicts), [(1, SizeMismatch), (2, SizeMismatch), (3, Extra), (4, Extra)]);
}

#[test]
fn a_part_listed_twice_is_a_protocol_error() {
    let file = TempFile::new("dup", 3 * 64 * KB);
    let sim = sim_for(&file, 64 * KB, 3, &[PartFault::Duplicate(2)]);
    let mut v = verifier(&sim, &file, 64 * KB, 1000);
    let (_, err) = drain(&mut v);
    let err = err.unwrap();
    assert_eq!((err.kind(), err.message()), (ErrorKind::Protocol, "the listing has part 2 twice"));
    assert_eq!(v.next_verdict(), Err(err), "errors are sticky");
}

#[test]
fn verdicts_stream_before_the_last_page() {
    let file = TempFile::new("stream", 20 * 64 * KB);
    let mut upload = Upload::with_parts("up-v", "alice", parts_of_file(&file.0, 64 * KB, 20).unwrap());
    upload = declared(upload, &file)
        .fault(vault_sim::When::Always, vault_sim::Action::Delay(std::time::Duration::from_millis(50)));
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(upload)).unwrap();
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    let first = v.next_verdict().unwrap().unwrap();
    assert_eq!((first.part_number, first.status), (1, Status::Ok));
    assert!(sim.requests().len() < 10, "{} pages fetched before the first verdict", sim.requests().len());
    drop(v);
}

#[test]
fn file_errors_come_at_the_first_verdict() {
    let sim = Sim::start(Config::default().user(SID, "alice", false)).unwrap();
    for (path, kind, needle) in [
        ("/nonexistent/vp", ErrorKind::Io, "/nonexistent/vp: cannot open"),
        ("/tmp", ErrorKind::Io, "/tmp is a directory"),
    ] {
        let mut v = Verifier::new(Listing::new(&sim.url(), SID, "up-v"), path, 0);
        assert_eq!(v.error(), None, "nothing is read before the first verdict");
        let e = v.next_verdict().unwrap_err();
        assert_eq!(e.kind(), kind);
        assert!(e.message().starts_with(needle), "{e}");
    }
    assert_eq!(sim.requests().len(), 0, "a bad file fetches nothing");
}

#[test]
fn the_scalar_engine_gives_the_same_verdicts() {
    let file = TempFile::new("scalar", 5 * 64 * KB + 3);
    let sim = sim_for(&file, 64 * KB, 6, &[PartFault::WrongMd5(4)]);
    let mut listing = Listing::new(&sim.url(), SID, "up-v");
    listing.configure(|s| s.set_limit(3)).unwrap();
    let engine = Md5Many::from_level(fearless_simd::Level::fallback());
    let mut v = Verifier::with_engine(listing, &file.0, 64 * KB, 1, engine);
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    let bad: Vec<u32> = verdicts.iter().filter(|v| v.status != Status::Ok).map(|v| v.part_number).collect();
    assert_eq!(bad, [4]);
}

#[test]
fn threads_are_checked_and_fixed_at_the_first_verdict() {
    let file = TempFile::new("threads", 64 * KB);
    let sim = sim_for(&file, 64 * KB, 1, &[]);
    let mut v = verifier(&sim, &file, 64 * KB, 10);
    v.set_threads(3).unwrap();
    v.next_verdict().unwrap().unwrap();
    assert_eq!(v.set_threads(2).unwrap_err().kind(), ErrorKind::Arg);
    assert_eq!(v.error(), None, "a late call changes nothing");
    assert_eq!(v.next_verdict(), Ok(None));
    let mut v = verifier(&sim, &file, 64 * KB, 10);
    assert!(v.set_threads(17).is_err());
    assert!(v.error().unwrap().message().contains("at most 16"));
}

/// A part size that cuts the file into more parts than a listing may name (4 GiB at part size
/// 1 used to ask for four billion verdicts) is refused before anything is fetched.
#[test]
fn a_local_part_count_past_the_cap_is_refused() {
    let file = TempFile::new("u32max", 1);
    std::fs::File::options().write(true).open(&file.0).unwrap().set_len(u64::from(u32::MAX)).unwrap();
    let sim = sim_for(&file, 1, 1, &[]);
    let mut v = verifier(&sim, &file, 1, 10);
    let e = v.next_verdict().unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (
            ErrorKind::Arg,
            "part_size 1 cuts the 4294967295-byte file into 4294967295 parts: at most 100000 (Vault allows 9616)"
        )
    );
    assert_eq!(sim.requests().len(), 0);
    let mut v = verifier(&sim, &file, u64::from(u32::MAX).div_ceil(100_000), 10);
    assert_eq!(v.next_verdict().unwrap().map(|v| (v.part_number, v.status)), Some((1, Status::SizeMismatch)));
    drop(v);
}

/// A hostile listing cannot make the verifier hold every part number it names, nor ask for
/// billions of verdicts: a part number past MAX_PART_NUMBER is a protocol error.
#[test]
fn a_part_number_past_the_cap_is_a_protocol_error() {
    let file = TempFile::new("cap", 2 * KB);
    let mut parts = parts_of_file(&file.0, KB, 1).unwrap();
    parts.push(vault_sim::SimPart { number: MAX_PART_NUMBER, size: KB, md5: None });
    parts.push(vault_sim::SimPart { number: MAX_PART_NUMBER + 1, size: KB, md5: None });
    let upload = declared(Upload::with_parts("up-v", "alice", parts), &file);
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(upload)).unwrap();
    let (verdicts, err) = drain(&mut verifier(&sim, &file, KB, 10));
    // Part 1's verdict may come out before the listing reaches the bad part, or not.
    assert!(statuses(&verdicts).iter().all(|&s| s == (1, Status::Ok)), "{verdicts:?}");
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.message(), "the listing has part 100001: Vault sessions have at most 100000 parts");
}

fn md5_of(path: &str, offset: u64, len: u64) -> [u8; 32] {
    use md5::{Digest, Md5};
    let data = std::fs::read(path).unwrap();
    crate::local::hex(&Md5::digest(&data[offset as usize..(offset + len) as usize]).into())
}

/// Hash-all: every local part's verdict carries its local MD5, MISSING and mismatched parts
/// included (an upload sends them and checks Vault's echo against it); EXTRA parts have none.
#[test]
fn hash_all_gives_the_local_md5_of_every_local_part() {
    let file = TempFile::new("all", 6 * 64 * KB + 7);
    let faults = [
        PartFault::WrongMd5(2),
        PartFault::WrongSize(3),
        PartFault::Missing(4),
        PartFault::NoMd5(5),
        PartFault::Extra(1),
    ];
    let sim = sim_for(&file, 64 * KB, 7, &faults);
    for threads in [1, 3] {
        let mut v = verifier(&sim, &file, 64 * KB, 3);
        v.set_threads(threads).unwrap();
        v.set_hash_all(true).unwrap();
        let (verdicts, err) = drain(&mut v);
        assert_eq!(err, None);
        use Status::*;
        assert_eq!(
            statuses(&verdicts),
            [(1, Ok), (2, Md5Mismatch), (3, SizeMismatch), (4, Missing), (5, Unverified), (6, Ok), (7, Ok), (8, Extra)]
        );
        for v in &verdicts[..7] {
            assert_eq!(v.local_md5, Some(md5_of(&file.0, v.offset, v.local_size)), "part {}", v.part_number);
        }
        assert_eq!(verdicts[7].local_md5, None, "an EXTRA part has no local bytes");
        let t = v.totals();
        assert_eq!((t.count, t.bytes_hashed, t.first_to_upload), ([3, 1, 1, 1, 1, 1], 6 * 64 * KB + 7, 2));
    }
}

/// A session just created: nothing is listed (no request at all), every part is MISSING, cut
/// as an upload would cut it; with hash-all each comes with its MD5.
#[test]
fn no_remote_parts_lists_nothing() {
    let file = TempFile::new("none", 1);
    std::fs::File::options().write(true).open(&file.0).unwrap().set_len(17 * MIB + 5).unwrap();
    // The simulator lists parts: the verifier must not ask.
    let sim = sim_for(&file, 8 * MIB, 2, &[]);
    let mut v = verifier(&sim, &file, 0, 1000);
    v.set_no_remote_parts().unwrap();
    v.set_hash_all(true).unwrap();
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    assert_eq!(statuses(&verdicts), [(1, Status::Missing), (2, Status::Missing), (3, Status::Missing)]);
    let spans: Vec<(u64, u64)> = verdicts.iter().map(|v| (v.offset, v.local_size)).collect();
    assert_eq!(spans, [(0, 8 * MIB), (8 * MIB, 8 * MIB), (16 * MIB, MIB + 5)]);
    for v in &verdicts {
        assert_eq!(v.local_md5, Some(md5_of(&file.0, v.offset, v.local_size)), "part {}", v.part_number);
    }
    assert_eq!(v.totals().bytes_hashed, 17 * MIB + 5);
    assert!(v.totals().resumable);
    assert_eq!(sim.requests().len(), 0, "no Listing request");

    // A given part size; without hash-all nothing is hashed.
    let mut v = verifier(&sim, &file, 6 * MIB, 1000);
    v.set_no_remote_parts().unwrap();
    let (verdicts, err) = drain(&mut v);
    assert_eq!(err, None);
    assert_eq!(verdicts.len(), 3);
    assert!(verdicts.iter().all(|v| v.status == Status::Missing && v.local_md5.is_none()));
    assert_eq!(v.totals().bytes_hashed, 0);
    assert_eq!(sim.requests().len(), 0);
}

#[test]
fn options_are_fixed_at_the_first_verdict() {
    let file = TempFile::new("opts", 2 * 64 * KB);
    let sim = sim_for(&file, 64 * KB, 2, &[]);
    let mut v = verifier(&sim, &file, 64 * KB, 10);
    v.next_verdict().unwrap().unwrap();
    for e in [v.set_hash_all(true).unwrap_err(), v.set_no_remote_parts().unwrap_err()] {
        assert_eq!(e.kind(), ErrorKind::Arg);
        assert!(e.message().ends_with("can be set only before the first vault_parts_verify_next"), "{e}");
    }
    assert_eq!(v.error(), None, "a late call changes nothing");
    let second = v.next_verdict().unwrap().unwrap();
    assert_eq!((second.part_number, second.status, second.local_md5.is_some()), (2, Status::Ok, true));
    assert_eq!(v.next_verdict(), Ok(None));
}

/// Issue 14: the session's details come first (one GET of .../upload/{id}); a file of another
/// size than the session declares is E_CONFLICT before the listing, the message built as the
/// upload's.
#[test]
fn a_declared_size_other_than_the_files_is_a_conflict_before_the_listing() {
    let file = TempFile::new("declared", 3 * 64 * KB);
    let upload = Upload::with_parts("up-v", "alice", parts_of_file(&file.0, 64 * KB, 2).unwrap());
    let sim =
        Sim::start(Config::default().user(SID, "alice", false).upload(upload.declared_size(3 * 64 * KB + 1))).unwrap();
    let mut v = verifier(&sim, &file, 0, 1000);
    let (verdicts, err) = drain(&mut v);
    assert!(verdicts.is_empty());
    let err = err.unwrap();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ErrorKind::Conflict,
            "this file cannot complete this session: the session was created for 196609 bytes, the file has 196608; \
             nothing was sent"
        )
    );
    assert_eq!(v.next_verdict(), Err(err), "sticky");
    let requests = sim.requests();
    let paths: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(paths, [("GET", "/api/v25.3/services/file_staging/upload/up-v")], "the details only, no listing");

    // The same session verified with the right size: details, then the listing.
    let sim = sim_for(&file, 64 * KB, 2, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 64 * KB, 1000));
    assert_eq!((statuses(&verdicts).len(), err), (3, None));
    let requests = sim.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/api/v25.3/services/file_staging/upload/up-v", "/api/v25.3/services/file_staging/upload/up-v/parts"]
    );
}

/// Part size 0 on a session with no parts: every verdict MISSING, cut at the part size the
/// upload chooses for this file (the one rule, choose_part_size); with only part 1 uploaded
/// and shorter than the file, part 1's size is the part size.
#[test]
fn part_size_0_on_a_session_with_no_parts_or_only_part_1() {
    let file = TempFile::new("zero", 1);
    std::fs::File::options().write(true).open(&file.0).unwrap().set_len(2000 * 9 * MIB).unwrap();
    let chosen = choose_part_size(2000 * 9 * MIB).unwrap();
    assert_eq!(chosen, 9 * MIB, "more than 2,000 parts of 8 MiB: the upload chooses 9 MiB");
    let sim = sim_for(&file, MIB, 0, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 0, 1000));
    assert_eq!(err, None);
    assert_eq!(verdicts.len(), 2000);
    assert!(verdicts.iter().all(|v| v.status == Status::Missing && v.local_size == chosen));
    assert_eq!(sim.requests().len(), 2, "details, then one empty page");

    let file = TempFile::new("zero1", 2 * 5 * MIB + 7);
    let sim = sim_for(&file, 6 * MIB, 1, &[]);
    let (verdicts, err) = drain(&mut verifier(&sim, &file, 0, 1000));
    assert_eq!(err, None);
    use Status::*;
    assert_eq!(statuses(&verdicts), [(1, Ok), (2, Missing)]);
    assert_eq!((verdicts[1].offset, verdicts[1].local_size), (6 * MIB, 4 * MIB + 7));
}

/// `file` in 10 parts of 64 KiB, all uploaded, every page (limit 2: 5 pages) delayed by
/// `action` on listing request `when`.
fn slow_listing(file: &TempFile, when: vault_sim::When, action: vault_sim::Action) -> Sim {
    let upload = Upload::with_parts("up-v", "alice", parts_of_file(&file.0, 64 * KB, 10).unwrap());
    let upload = declared(upload, file).fault(when, action);
    Sim::start(Config::default().user(SID, "alice", false).upload(upload)).unwrap()
}

/// Polls `done` every 10 ms for up to 10 s (generous for a loaded machine): whether it held.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// The header's contract: the log callback runs on the thread calling next, though the
/// listing's requests are made on the listing thread. Every line, the listing's included.
#[test]
fn the_listings_log_lines_come_on_the_callers_thread() {
    let file = TempFile::new("log-thread", 10 * 64 * KB);
    let sim = slow_listing(&file, vault_sim::When::Always, vault_sim::Action::Delay(Duration::from_millis(20)));
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut listing = Listing::new(&sim.url(), SID, "up-v");
    listing.configure(|s| s.set_limit(2)).unwrap();
    let sink_lines = Arc::clone(&lines);
    let sink = move |_: crate::log::Level, line: &str| {
        sink_lines.lock().unwrap().push((std::thread::current().id(), line.to_owned()))
    };
    listing.set_log(Some(Box::new(sink))).unwrap();
    let mut v = Verifier::new(listing, &file.0, 64 * KB);
    let (verdicts, err) = drain(&mut v);
    assert_eq!((verdicts.len(), err), (10, None));
    let lines = lines.lock().unwrap();
    let me = std::thread::current().id();
    assert!(lines.iter().all(|(id, _)| *id == me), "a line from another thread: {lines:?}");
    let last = &lines.last().unwrap().1;
    assert!(last.contains("listing complete after 5 pages"), "the listing's own lines are relayed: {lines:?}");
}

/// The listing thread fetches pages while the caller does nothing (here: does not call next at
/// all), and the statistics follow it there; before the thread, pages came only inside next.
#[test]
fn the_listing_runs_ahead_on_its_own_thread() {
    let file = TempFile::new("ahead", 10 * 64 * KB);
    let sim = slow_listing(&file, vault_sim::When::Always, vault_sim::Action::Delay(Duration::from_millis(20)));
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    assert_eq!(v.next_verdict().unwrap().map(|v| v.part_number), Some(1));
    // The details, then 5 pages of 2 parts.
    assert!(eventually(|| sim.requests().len() == 6), "{} requests without a call to next", sim.requests().len());
    assert!(eventually(|| v.stats().requests == 6), "stats while the listing is away: {:?}", v.stats());
    assert_eq!(v.http_status(), 200);
    let (verdicts, err) = drain(&mut v);
    assert_eq!((verdicts.len(), err), (9, None));
    assert_eq!((v.stats().requests, v.stats().pages, sim.requests().len()), (6, 5, 6));
}

/// An interrupt while the listing thread waits for a page that never comes ends next at once
/// with E_CANCELLED and stops that thread (next joins it); the error is sticky.
#[test]
fn an_interrupt_mid_page_stops_the_listing_thread() {
    let file = TempFile::new("interrupt", 10 * 64 * KB);
    let sim = slow_listing(&file, vault_sim::When::Request(2), vault_sim::Action::Hang);
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    let interrupt = v.interrupter();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        interrupt.interrupt();
        std::time::Instant::now()
    });
    // Parts 1 and 2 come from the first page; part 3 waits on the hanging second.
    let (verdicts, err) = drain(&mut v);
    let returned = std::time::Instant::now();
    let raised = raiser.join().unwrap();
    assert_eq!(statuses(&verdicts), [(1, Status::Ok), (2, Status::Ok)]);
    assert_eq!(err.as_ref().map(Error::kind), Some(ErrorKind::Cancelled));
    // Polled every 40 ms: 2 s is far above that, and far below a hang.
    let late = returned.saturating_duration_since(raised);
    assert!(late < Duration::from_secs(2), "returned {late:?} after the interrupt");
    assert_eq!(v.next_verdict().err(), err, "sticky");
}

/// Dropping a verifier whose listing thread hangs in a page stops and joins that thread
/// promptly (nothing is left running against freed state).
#[test]
fn dropping_mid_page_stops_the_listing_thread() {
    let file = TempFile::new("drop", 10 * 64 * KB);
    let sim = slow_listing(&file, vault_sim::When::Request(2), vault_sim::Action::Hang);
    let mut v = verifier(&sim, &file, 64 * KB, 2);
    assert_eq!(v.next_verdict().unwrap().map(|v| v.part_number), Some(1));
    assert!(eventually(|| sim.requests().len() == 3), "the thread asks for the hanging page on its own");
    let dropping = std::time::Instant::now();
    drop(v);
    let took = dropping.elapsed();
    assert!(took < Duration::from_secs(2), "the drop took {took:?}");
}

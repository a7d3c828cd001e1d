//! vault_parts_open's argument rules through the C ABI (tests-c/args.c): maximum lengths,
//! hosts no URL can reach, and other spellings of a usable origin. Run natively, with
//! ASan+UBSan and under valgrind; open does no I/O, so no simulator is needed.

mod harness;

use harness::{program_for, run, Mode};

#[test]
fn open_enforces_lengths_and_host_rules() {
    for mode in Mode::all() {
        let exe = program_for("tests-c/args.c", mode == Mode::Sanitized);
        let r = run(mode, &exe, &[], &[]);
        assert_eq!(r.code, 0, "{mode:?}:\n{}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "args: 0 failed checks\n", "{mode:?}");
        assert!(!r.stderr.contains("Sanitizer"), "{mode:?}: {}", r.stderr);
    }
}

//! A second, unrelated Rust static library, as another vendor's SDK would be: it carries its
//! own copy of Rust's standard library, whose symbols libvault_parts.a must not clash with.
#[no_mangle]
pub extern "C" fn other_rust_sum(n: u32) -> u64 {
    let values: Vec<u64> = (1..=u64::from(n)).collect();
    format!("{}", values.iter().sum::<u64>()).parse().unwrap_or(0)
}

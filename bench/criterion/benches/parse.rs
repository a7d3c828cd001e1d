//! Parsing one 1,000-part page, as Vault sends it, straight into validated parts.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn page_1000() -> Vec<u8> {
    let data: Vec<String> = (1..=1000)
        .map(|n| format!(r#"{{"size":5242880,"part_number":{n},"part_content_md5":"{:032x}"}}"#, (n as u128) * 0x9e3779b97f4a7c15))
        .collect();
    format!(
        r#"{{"responseStatus":"SUCCESS","responseDetails":{{"next_page":"https://myvault.veevavault.com/api/v25.3/services/file_staging/upload/98f46c04fa7a65ff2e5eaf90fdf613ab/parts?cursor=%2BMTykDOd3PrccDRP%2F254mQ%3D%3D&limit=1000"}},"data":[{}]}}"#,
        data.join(",")
    )
    .into_bytes()
}

fn parse(c: &mut Criterion) {
    let body = page_1000();
    let mut group = c.benchmark_group("page");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_1000_parts", |b| b.iter(|| vault_parts::page::parse(black_box(&body)).unwrap()));
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);

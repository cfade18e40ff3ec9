//! What a settlement holds per line (issue 16): its lines are columns and their explanations
//! are built when asked, so a settlement of ~10⁶ lines holds a few hundred bytes a line
//! (it held ~1.15 KB a line with a struct of strings and an explanation text per line).
//! Measured with a counting allocator: the bytes still allocated once the settlement is
//! built, over its line count. No timing.

use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::Programme;
use rebatesim::settlement::settle;
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_million_lines_hold_a_few_hundred_bytes_each() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/distributor");
    let p = Programme::from_file(format!("{dir}/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    // 52,000 partners of the three segments, one purchase each: every active component and
    // quarter still has a line (~19.5 a partner, ~10⁶ lines)
    let n = 52_000;
    let segments = ["installer", "retail", "online"];
    let mut partners = String::from("partner_id,segment,baseline_revenue,baseline_units\n");
    let mut tx = String::from("partner_id,date,quantity,revenue,category,order_id\n");
    for i in 0..n {
        let _ = writeln!(
            partners,
            "P{i:06},{},{},{}",
            segments[i % 3],
            50_000 + i,
            200 + i % 50
        );
        let _ = writeln!(
            tx,
            "P{i:06},2027-0{}-15,{},{}.25,cable,O{i}",
            1 + i % 9,
            1 + i % 40,
            1000 + (i * 37) % 90_000
        );
    }
    let partners = Partners::from_csv_str(&partners, "partners").unwrap();
    let tx = Transactions::from_csv_str(&tx, "transactions").unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    let s = settle(&p, &partners, &tx).unwrap();
    let held = LIVE.load(Ordering::Relaxed) - before;
    let lines = s.line_count();
    let per_line = held as f64 / lines as f64;
    eprintln!("{lines} lines: {held} bytes held, {per_line:.0} bytes a line");
    assert!(lines > 900_000, "{lines}");
    assert!(per_line < 300.0, "{per_line:.0} bytes a line");
    // the lines are all there: the first partner's statement has its explanations
    assert!(s.explain("P000000").unwrap().contains("Total payable"));
}

//! Unit tests of `src/timeline/procedure.rs`.

use super::*;
use crate::protocol::Task;

fn task(name: &str, d: f64, after: &[&str]) -> Task {
    Task {
        name: name.into(),
        duration_days: d,
        after: after.iter().map(|s| s.to_string()).collect(),
        hands_on_h: 1.0,
        details: String::new(),
    }
}

#[test]
fn dag_earliest_starts() {
    let p = Procedure {
        tasks: vec![
            task("library", 1.0, &["dna"]),
            task("dna", 0.5, &[]),
            task("capture", 2.0, &["library"]),
            task("qc", 0.5, &["dna"]),
            task("seq", 3.0, &["capture", "qc"]),
        ],
        samples: 8,
    };
    let t = schedule_tasks(&p).unwrap();
    assert_eq!(t[1], (0.0, 0.5));
    assert_eq!(t[0], (0.5, 1.5));
    assert_eq!(t[2], (1.5, 3.5));
    assert_eq!(t[4], (3.5, 6.5));
    let mut cyc = p.clone();
    cyc.tasks[1].after = vec!["seq".into()];
    assert!(matches!(schedule_tasks(&cyc), Err(TimelineError::Tasks(_))));
}

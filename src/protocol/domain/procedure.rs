//! Domain types of a pure step schedule (NGS, proteomics…).

/// A procedure: tasks with durations and dependencies; timeline only.
#[derive(Debug, Clone, PartialEq)]
pub struct Procedure {
    /// Tasks in file order; dependencies form a DAG (validated).
    pub tasks: Vec<Task>,
    /// Samples processed (for workload and resources).
    pub samples: u32,
}

/// One task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Unique name.
    pub name: String,
    /// Duration in working days (≥ 0.0; 0 = milestone).
    pub duration_days: f64,
    /// Names of tasks that must finish first.
    pub after: Vec<String>,
    /// Hands-on hours per task (workload).
    pub hands_on_h: f64,
    /// Free text (kits, instruments, depth).
    pub details: String,
}

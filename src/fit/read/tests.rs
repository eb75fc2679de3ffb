//! Unit tests of `src/fit/read.rs`.

use super::*;

fn read(s: &str) -> Result<Dataset, ReadError> {
    read_bytes(Path::new("t.csv"), s.as_bytes())
}

#[test]
fn wide_with_arm_prefix() {
    let d = read("day,vehicle:A1,vehicle:A2,drug:B1\n0,150,160,155\n3.5,200,,120\n7,0,NA,90\n")
        .unwrap();
    assert_eq!(d.rows.len(), 9);
    assert_eq!(d.rows[0].arm, "vehicle");
    assert_eq!(d.rows[0].animal_id, "A1");
    assert_eq!(d.rows[2].volume_mm3, Some(0.0));
    let a2: Vec<_> = d
        .rows
        .iter()
        .filter(|r| r.animal_id == "A2")
        .map(|r| r.volume_mm3)
        .collect();
    assert_eq!(a2, vec![Some(160.0), None, None]);
    assert_eq!(d.rows.iter().filter(|r| r.arm == "drug").count(), 3);
}

#[test]
fn wide_with_two_header_rows_and_merged_arm_cells() {
    let d = read("day,vehicle,,drug\n,A1,A2,B1\n0,150,160,155\n7,300,310,150\n").unwrap();
    let arms: Vec<_> = d
        .rows
        .iter()
        .map(|r| (r.animal_id.as_str(), r.arm.as_str()))
        .collect();
    assert!(arms.contains(&("A2", "vehicle")) && arms.contains(&("B1", "drug")));
    assert_eq!(d.rows.len(), 6);
}

#[test]
fn wide_as_written_by_simulate() {
    let d =
        read("day,MCF-7 | vehicle | m1,TamR-MCF-7 | vehicle | t1\n0,150,160\n3,170,\n").unwrap();
    assert_eq!(d.rows.len(), 4);
    assert_eq!(
        (
            d.rows[2].cohort.as_str(),
            d.rows[2].arm.as_str(),
            d.rows[2].animal_id.as_str()
        ),
        ("TamR-MCF-7", "vehicle", "t1")
    );
    assert_eq!(d.rows[3].volume_mm3, None);
}

#[test]
fn wide_without_arms() {
    let d = read("day,m1,m2\n0,100,120\n").unwrap();
    assert!(d.rows.iter().all(|r| r.arm.is_empty()));
}

#[test]
fn bad_cells_are_named_by_line_and_column() {
    let e = read("day,vehicle:A1,vehicle:A2\n0,150,160\n3,abc,170\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 3") && e.contains("vehicle:A1") && e.contains("abc"),
        "{e}"
    );
    let e = read("day,A1\n0,150\nx,3\n").unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("`day`"), "{e}");
    let e = read("day,A1\n0,-5\n").unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("≥ 0"), "{e}");
    let e = read("animal_id,arm,day,volume_mm3\nA1,v,0,100\nA1,v,3,1e\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv:3") && e.contains("volume_mm3"), "{e}");
    let e = read("animal_id,arm,day\nA1,v,0\n").unwrap_err().to_string();
    assert!(e.contains("volume_mm3"), "{e}");
    assert!(read("foo,bar\n1,2\n").is_err());
    assert!(read("").is_err());
}

#[test]
fn tidy_with_diameters_and_extra_columns() {
    let d = read("animal_id,arm,day,date,length_mm,width_mm,volume_mm3,status\nA1,vehicle,0,2027-01-01,8,6,,ok\nA1,vehicle,3,,9,7,250,ok\n").unwrap();
    assert_eq!(d.rows[0].volume_mm3, Some(144.0));
    assert_eq!(d.rows[1].volume_mm3, Some(250.0));
}

//! Unit tests of `src/analysis/csv_in.rs`.

use super::*;

#[test]
fn reads_volume_or_calipers_and_ignores_extra_columns() {
    let csv = "animal_id,arm,day,date,length_mm,width_mm,volume_mm3,status\nA1,vehicle,0,2027-01-04,8,6,,ok\nA1,vehicle,3,,,,NA,ok\nA2,drug,0,,,,150.5,\n";
    let d = parse_dataset(csv.as_bytes(), "x.csv").unwrap();
    assert_eq!(d.rows.len(), 3);
    assert_eq!(d.rows[0].volume_mm3, Some(144.0));
    assert_eq!(d.rows[1].volume_mm3, None);
    assert_eq!(d.rows[2].volume_mm3, Some(150.5));
}

#[test]
fn bad_cell_is_named_by_line_and_column() {
    let csv = "animal_id,arm,day,volume_mm3\nA1,v,0,100\nA1,v,3,12x\n";
    let e = parse_dataset(csv.as_bytes(), "data.csv")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data.csv:3") && e.contains("volume_mm3") && e.contains("12x"),
        "{e}"
    );
    let e = parse_dataset(b"animal_id,arm,volume_mm3\nA,b,1\n", "d.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`day`"), "{e}");
    let e = parse_dataset(b"animal_id,arm,day,volume_mm3\nA,b,,1\n", "d.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("d.csv:2") && e.contains("day"), "{e}");
    let e = parse_dataset(b"animal_id,arm,day,volume_mm3\nA,b,1,-4\n", "d.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("negative"), "{e}");
}

#!/bin/bash
# Runs every README command on a fresh clone: git clone /work/main $CLONE; (cd $CLONE && cargo build --release);
# CLONE=$CLONE tools/readme_walkthrough.sh   (prints exit code, wall time and command per line)
cd ${CLONE:-/tmp/walk} || exit 1
export PATH=${CLONE:-/tmp/walk}/target/release:$PATH
run() { local t0=$(date +%s.%N); bash -c "$1" > ${CLONE:-/tmp/walk}_out.txt 2>&1; local rc=$?; local t1=$(date +%s.%N); printf "%3s %6.1fs  %s\n" "$rc" "$(echo "$t1 - $t0" | bc)" "$1"; [ $rc -ne 0 ] && tail -3 ${CLONE:-/tmp/walk}_out.txt | sed 's/^/      /'; }
run "xenoplan --help"
run "xenoplan list"
run "xenoplan check protocols/*.toml examples/*.toml"
run "xenoplan check --design protocols/tamr_mcf7_xenograft.toml"
run "xenoplan show protocols/tamr_mcf7_xenograft.toml"
run "xenoplan schema > protocol.schema.json"
run "xenoplan timeline protocols/tamr_mcf7_xenograft.toml --start 2027-01-04 --out output/timeline"
run "xenoplan timeline protocols/campaigns/tamr_campaign.toml --start 2027-01-04"
run "xenoplan simulate protocols/tamr_mcf7_xenograft.toml --seed 1 --out output/sim"
run "xenoplan simulate protocols/anastrozole_resistant_mcf7aro.toml --seed 1 --reps 200"
run "xenoplan analyze tests/fixtures/analysis/study_small.csv --control vehicle"
run "xenoplan analyze tests/fixtures/synergy/synergy_data.csv --control Control --synergy 'Combination=DrugA,DrugB'"
run "xenoplan analyze output/sim/animals.csv --hypotheses protocols/tamr_mcf7_xenograft.toml"
run "xenoplan fit output/sim/animals.csv --cohort TamR-MCF-7 --arm vehicle --out output/fit"
run "xenoplan simulate tests/fixtures/effects/user_units.toml --seed 2 --out output/sim_effects"
run "xenoplan fit output/sim_effects/animals.csv --control control --boot 200"
run "xenoplan power examples/p1_power.toml --n 3..15 --reps 20000 --threads 2"
run "xenoplan power protocols/tamr_mcf7_xenograft.toml --n 3..12 --reps 1000 --endpoint welch-log,slope,auc --adjust holm --joint --json"
run "xenoplan power examples/pdx_panel_power.toml --lines 3,5,10 --mice 2,3,4 --reps 4000"
run "xenoplan power protocols/imlunestrant_xenograft_panel.toml --panel --reps 500"
run "xenoplan power protocols/camizestrant_proliferation_assay.toml"
run "xenoplan power protocols/camizestrant_proliferation_assay.toml --fold-shift 3 --max-inhibition-diff 0.2 --n 1..5 --reps 2000 --alpha 0.05 --target 0.9"
run "xenoplan power protocols/camizestrant_proliferation_assay.toml --n 2,3 --experiments 2..4 --reps 200"
run "xenoplan report protocols/tamr_mcf7_xenograft.toml"
run "xenoplan report protocols/anastrozole_resistant_mcf7aro.toml --reps 200"
run "xenoplan check protocols/cro_dose_response.toml && xenoplan timeline protocols/cro_dose_response.toml --out output/cro_tl && xenoplan simulate protocols/cro_dose_response.toml --out output/cro_sim && xenoplan power protocols/cro_dose_response.toml --reps 20"
run "cargo run --release --example pipeline"
run "cargo run --release --example simulate_study"
git status --short | head

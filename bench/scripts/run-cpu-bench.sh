#!/usr/bin/env bash
# One command for the CPU comparison: builds the benchmark jar, runs our StepBenchmark and the PyTorch
# reference (bench/scripts/torch_step.py) with the same presets, batch, sequence length and threads,
# alternating the two tools round by round (a shared machine drifts; alternation spreads the drift over
# both), then writes bench/results/<date>-<machine>.{json,md} and PNG charts with ReportWriter.
#
#   bench/scripts/run-cpu-bench.sh [--install-torch] [--presets tiny,small2l] [--rounds 2] [--threads N]
#                                  [--sweep-preset tiny] [--sweep-batches 4,8] [--skip-build] [--raw DIR]
#   bench/scripts/run-cpu-bench.sh --report-only DIR     # redo the report from an earlier run's raw files
#
# PyTorch comes from Debian (python3-torch) with OpenBLAS (libopenblas0-pthread): without OpenBLAS the
# Debian build uses a generic BLAS at a few GFLOP/s. --install-torch installs both with apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."

PRESETS=tiny,small2l
ROUNDS=2
THREADS=$(nproc)
SWEEP_PRESET=tiny
SWEEP_BATCHES=4,8
INSTALL_TORCH=0
SKIP_BUILD=0
RAW=""
REPORT_ONLY=""
PYTHON=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch lives in the system interpreter
JAVA_OPTS=${JAVA_OPTS:--Xmx8g}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --install-torch) INSTALL_TORCH=1; shift ;;
    --presets) PRESETS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --sweep-preset) SWEEP_PRESET=$2; shift 2 ;;
    --sweep-batches) SWEEP_BATCHES=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --raw) RAW=$2; shift 2 ;;
    --report-only) REPORT_ONLY=$2; shift 2 ;;
    *) echo "run-cpu-bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# Per preset: batch, warm-up steps, timed steps. Small enough that a step takes seconds on 2 cores;
# the PyTorch run gets exactly the same batch and sequence length. Short steps get more warm-up: after
# one 0.2 s step the JIT has not finished compiling the hot loops (a tiny step then reads 1.8x slow).
size_of() {
  case "$1" in
    tiny) echo "16 3 6" ;;
    small2l) echo "8 2 4" ;;
    small) echo "8 1 2" ;;
    base) echo "2 1 2" ;;
    *) echo "run-cpu-bench.sh: no CPU size for preset $1" >&2; exit 2 ;;
  esac
}
SEQ=128
JAR=${JAR:-bench/target/benchmarks.jar}   # a copy keeps a long run safe from rebuilds

report() {
  local raw=$1 machine stamp
  machine=${MACHINE:-$(hostname -s 2>/dev/null || echo machine)}
  stamp=$(date +%Y-%m-%d)
  java --add-modules jdk.incubator.vector -cp "$JAR" io.electra.bench.report.ReportWriter --raw "$raw" --out "bench/results/${stamp}-${machine}" \
    --sweep-preset "$SWEEP_PRESET"
}

if [[ -n "$REPORT_ONLY" ]]; then
  [[ $SKIP_BUILD == 1 ]] || mvn -q -o -pl bench -am package -DskipTests
  report "$REPORT_ONLY"
  exit 0
fi

if [[ $INSTALL_TORCH == 1 ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread
fi
"$PYTHON" -c 'import torch' 2>/dev/null || {
  echo "run-cpu-bench.sh: $PYTHON cannot import torch; rerun with --install-torch (Debian) or set PYTHON=" >&2
  exit 1
}

# the PyTorch reference must be HF ELECTRA: checked against the HF fixtures when they are at hand
SHARED=${ELECTRA_SHARED:-../shared}
if [[ -d "$SHARED/fixtures/hf-electra" ]]; then
  "$PYTHON" bench/scripts/check_torch_parity.py --shared "$SHARED"
else
  echo "run-cpu-bench.sh: no HF fixtures at $SHARED (set ELECTRA_SHARED); PyTorch reference not re-checked" >&2
fi

[[ $SKIP_BUILD == 1 ]] || mvn -q -o -pl bench -am package -DskipTests
RAW=${RAW:-$(mktemp -d /tmp/electra-bench.XXXXXX)}
mkdir -p "$RAW"
echo "raw results in $RAW"

run() {  # logs the exact command, then runs it
  echo "$*" >> "$RAW/commands.txt"
  echo "+ $*"
  "$@"
}
ours() {  # preset round [extra flags...]
  local p=$1 r=$2; shift 2
  read -r b w s <<< "$(size_of "$p")"
  run java --add-modules jdk.incubator.vector $JAVA_OPTS -cp "$JAR" io.electra.bench.step.StepBenchmark --device cpu --threads "$THREADS" \
    --presets "$p" --batch "$b" --seq $SEQ --warmup "$w" --steps "$s" --round "$r" "$@"
}
torch_ref() {  # preset round head [extra flags...]
  local p=$1 r=$2 head=$3; shift 3
  read -r b w s <<< "$(size_of "$p")"
  run "$PYTHON" bench/scripts/torch_step.py --device cpu --threads "$THREADS" --presets "$p" --batch "$b" \
    --seq $SEQ --warmup "$w" --steps "$s" --round "$r" --head "$head" "$@"
}

IFS=, read -ra PRESET_LIST <<< "$PRESETS"
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PRESET_LIST[@]}"; do
    # odd rounds start with ours, even rounds with PyTorch
    if (( r % 2 == 1 )); then
      ours "$p" "$r" --out "$RAW/ours-$p-r$r.json"
      torch_ref "$p" "$r" masked --out "$RAW/torch-masked-$p-r$r.json"
      torch_ref "$p" "$r" all --out "$RAW/torch-all-$p-r$r.json"
    else
      torch_ref "$p" "$r" masked --out "$RAW/torch-masked-$p-r$r.json"
      torch_ref "$p" "$r" all --out "$RAW/torch-all-$p-r$r.json"
      ours "$p" "$r" --out "$RAW/ours-$p-r$r.json"
    fi
  done
done

# throughput against batch size, ELECTRA only, one round
IFS=, read -ra SWEEP <<< "$SWEEP_BATCHES"
read -r _ w s <<< "$(size_of "$SWEEP_PRESET")"
for b in "${SWEEP[@]}"; do
  run java --add-modules jdk.incubator.vector $JAVA_OPTS -cp "$JAR" io.electra.bench.step.StepBenchmark --device cpu --threads "$THREADS" \
    --presets "$SWEEP_PRESET" --objectives electra --batch "$b" --seq $SEQ --warmup "$w" --steps "$s" --round 1 \
    --out "$RAW/ours-sweep-b$b.json"
  run "$PYTHON" bench/scripts/torch_step.py --device cpu --threads "$THREADS" --presets "$SWEEP_PRESET" \
    --objectives electra --batch "$b" --seq $SEQ --warmup "$w" --steps "$s" --round 1 --head masked \
    --out "$RAW/torch-sweep-b$b.json"
done

# where our step time goes: one profiled ELECTRA run per preset (its own variant; never in a ratio)
for p in "${PRESET_LIST[@]}"; do
  ours "$p" 1 --objectives electra --profile true --out "$RAW/ours-profile-$p.json"
done

report "$RAW"

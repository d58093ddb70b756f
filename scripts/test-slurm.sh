#!/usr/bin/env bash
# test-slurm.sh — run the workflow through its SLURM profile on a one-node cluster started here, and check that the
# merged BAM holds exactly the records of one unsplit 'esalign align' (as tests/cli.d/workflow.sh does locally).
# Not run by 'make test': it installs slurm-wlm and munge (apt) and starts munged, slurmctld and slurmd as this user
# (root, or a user who can run them), with keys, config, state, spool, logs and sockets under one temporary
# directory, on ports chosen free; the daemons are stopped, by their process ids, when the script ends.
# Containers: no cgroups are used (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no accounting).
# Usage: scripts/test-slurm.sh [ESALIGN_BIN]   (default ./esalign; KEEP=1 keeps the temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN=$(realpath "${1:-./esalign}")
[ -x "$BIN" ] || { echo "test-slurm: $BIN is not an executable (make first)" >&2; exit 1; }

say() { echo "test-slurm: $*"; }
pkgs=""
for p in slurm-wlm munge snakemake samtools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pkgs="$pkgs $p"
done
if [ -n "$pkgs" ]; then
  say "installing$pkgs"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # should the packages start their own services, ours still run apart (own key, socket, ports, config)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs >/dev/null
fi

D=$(mktemp -d /tmp/esalign-slurm.XXXXXX)
chmod 711 "$D"   # munged wants execute permission for all on the socket directory and its parents
pids=()
cleanup() {
  local rc=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ ${#pids[@]} -gt 0 ] && say "daemons stopped (pids ${pids[*]})"
  if [ $rc -ne 0 ]; then
    for f in "$D"/munged.out "$D"/slurmctld.log "$D"/slurmd.log; do
      [ -s "$f" ] && { echo "--- last lines of $f"; tail -n 15 "$f"; }
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $D"; else rm -rf "$D"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: a fresh key and a socket of our own (the packaged /etc/munge and /run/munge are not touched)
mkdir -p "$D/munge"
chmod 711 "$D/munge"
dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$D/munge/munge.key"
SOCK=$D/munge/munge.socket.2
# -f: munged refuses, without it, to run as root or with a key below /tmp (world-writable, even with the sticky bit)
munged -F -f --key-file="$D/munge/munge.key" --socket="$SOCK" --pid-file="$D/munge/munged.pid" \
  --seed-file="$D/munge/munged.seed" --log-file="$D/munged.log" > "$D/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
munge -S "$SOCK" -n | unmunge -S "$SOCK" >/dev/null || { echo "test-slurm: munge does not work" >&2; exit 1; }
say "munged up (pid ${pids[0]}, socket $SOCK)"

# slurm.conf: this host's controller, one node 'localhost' with this machine's CPUs and 90% of its memory
CPUS=$(nproc)
MEM=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
read -r P1 P2 < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
HOST=$(hostname -s)
USER_NAME=$(id -un)
mkdir -p "$D/state" "$D/spool"
export SLURM_CONF=$D/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=esalign-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
say "slurm.conf: NodeName=localhost CPUs=$CPUS RealMemory=$MEM, controller $HOST, ports $P1 $P2"
slurmctld -D -i -f "$SLURM_CONF" > "$D/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" > "$D/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 60); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || { echo "test-slurm: node localhost is '${state:-unknown}', not idle" >&2; exit 1; }
say "slurmctld (pid ${pids[1]}) and slurmd (pid ${pids[2]}) up; node localhost idle"
sinfo

# the same data and checks as tests/cli.d/workflow.sh, through the SLURM profile
W=$D/wf; mkdir -p "$W"
bash scripts/fetch-genomes.sh lambda
REF=$(realpath "${ESALIGN_DATA:-data}/genomes/lambda.fa.gz")
"$BIN" simulate -n 2000 -l 150 -o "$W/reads.fq" "$REF"
# threads and memory that fit the one node ($CPUS CPUs), so that sbatch accepts every job
AT=$((CPUS < 2 ? CPUS : 2))
cat > "$W/config.yaml" <<EOF
reference: $REF
samples: samples.tsv
esalign: $BIN
shards: 2
threads: {index: $AT, split: 1, align: $AT, sort: 1, merge: 1, stats: 1}
mem_mb:  {index: 1000, split: 200, align: 1000, sort: 500, merge: 500, stats: 200}
runtime: {index: 10, split: 10, align: 10, sort: 10, merge: 10, stats: 10}
EOF
printf 'sample\tr1\tr2\nlambda\treads.fq\t\n' > "$W/samples.tsv"
say "snakemake --profile $REPO/workflow/profiles/slurm --configfile $W/config.yaml --directory $W --latency-wait 5"
t0=$(date +%s)
set +e
snakemake -s "$REPO/workflow/Snakefile" --profile "$REPO/workflow/profiles/slurm" --configfile "$W/config.yaml" \
  --directory "$W" --latency-wait 5 > "$D/snakemake.log" 2>&1
st=$?
set -e
grep -E 'Submitted|steps|Error|error' "$D/snakemake.log" || true
[ $st = 0 ] || { echo "test-slurm: snakemake failed (log: $D/snakemake.log)" >&2; tail -n 30 "$D/snakemake.log"; exit 1; }
say "workflow done in $(( $(date +%s) - t0 )) s"

fail=0
check() { # description command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; fail=$((fail + 1)); fi
}
jobs=$(scontrol show job -o 2>/dev/null | grep -c 'JobState=COMPLETED' || true)
njobs=$(grep -c 'Submitted job' "$D/snakemake.log" || true)
echo "slurm jobs submitted: $njobs, completed (scontrol): $jobs"
check "every rule but 'all' ran as a SLURM job (9 jobs: index, split, 2 align, 2 sort, merge, index, flagstat)" \
  test "$njobs" = 9 -a "$jobs" = 9
check "one sbatch output file per job in slurm-logs/" bash -c "ls '$W'/slurm-logs/*.log | wc -l | grep -qx 9"
"$BIN" align -t "$AT" -R '@RG\tID:lambda\tSM:lambda' -o "$W/one.bam" "$W/results/index/ref.esi" "$W/reads.fq" 2>/dev/null
check "merged BAM records == one unsplit esalign align (sorted by read name)" \
  cmp <(samtools view "$W/one.bam" | LC_ALL=C sort) <(samtools view "$W/results/lambda.bam" | LC_ALL=C sort)
check "2000 records" bash -c "samtools view -c '$W/results/lambda.bam' | grep -qx 2000"
check "one read group" bash -c "samtools view -H '$W/results/lambda.bam' | grep -c '^@RG' | grep -qx 1"
check "flagstat ran" grep -q '^2000 + 0 in total' "$W/results/lambda.flagstat"
check "BAM index made" samtools idxstats "$W/results/lambda.bam"
cat "$W/results/lambda.flagstat"
echo "test-slurm: $((7 - fail)) passed, $fail failed"
[ $fail -eq 0 ]

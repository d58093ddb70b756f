#!/usr/bin/env bash
# status.sh JOBID — the state of a SLURM job for Snakemake's --cluster-status: running, success or failed.
# sacct needs accounting (slurmdbd); without it scontrol knows a job until MinJobAge after it ends.
set -u
id=${1%%;*}   # sbatch --parsable prints "id" or "id;cluster"
state=$(sacct -n -X -P -j "$id" -o State 2>/dev/null | head -n1 | awk '{print $1}')
if [ -z "$state" ]; then
  state=$(scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n1 | cut -d= -f2)
fi
case $state in
  COMPLETED) echo success ;;
  PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED|STAGE_OUT|SIGNALING|"") echo running ;;
  *) echo failed ;;   # FAILED CANCELLED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED BOOT_FAIL DEADLINE ...
esac

#!/usr/bin/env bash
# Stop the single-node SLURM that .ci/slurm/up.sh started: cancel its jobs, stop slurmctld,
# slurmd and munged. Packages and /etc/slurm stay (the next up.sh reuses them). Never fails.
set -uo pipefail

MARK="# storyreel CI SLURM (written by .ci/slurm/up.sh)"
if [[ -f /etc/slurm/slurm.conf ]] && ! grep -qF "$MARK" /etc/slurm/slurm.conf; then
  echo "slurm-down: /etc/slurm/slurm.conf is not ours; leaving that SLURM alone" >&2
  exit 0
fi

stop() {  # stop <pidfile> <name>: TERM, then KILL after 10 s
  local pidfile=$1 name=$2 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    echo "slurm-down: stopped $name ($pid)"
  fi
  rm -f "$pidfile"
}

if command -v scancel >/dev/null && scontrol ping >/dev/null 2>&1; then
  scancel --full --quiet --state=PENDING,RUNNING --user=root 2>/dev/null || true
fi
stop /run/slurmd.pid slurmd
stop /run/slurmctld.pid slurmctld
stop /run/munge/munged.pid munged
exit 0

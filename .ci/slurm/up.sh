#!/usr/bin/env bash
# Start a single-node SLURM on this machine from Debian's packages, for the SLURM workflow test
# (`make test-slurm`) and `make bench-slurm`. Root only; stop it with .ci/slurm/down.sh.
#
# One node (this machine, all its cores and memory) in one partition `debug`, with one fake GPU
# so that jobs asking for --gpus=1 are accepted; no accounting database (slurmdbd), so
# Snakemake's SLURM executor must query job states with squeue (--slurm-status-command squeue,
# which needs MinJobAge above three times the first status check's delay).
#
# Facts measured on the CI machine, each one needed:
#   - slurmd needs gres.conf with AutoDetect=off and a GPU line naming a file (/dev/null), else it
#     rejects --gpus requests (no NVML here);
#   - DefMemPerCPU, else a job without --mem asks for the whole node's memory and jobs run one by
#     one; MinJobAge=600 keeps finished jobs visible to squeue;
#   - MailProg=/bin/true (no mail program installed);
#   - the config lives at /etc/slurm/slurm.conf: the job-step plugin strips SLURM_CONF from the
#     job's environment, so srun inside a job reads the default path.
set -euo pipefail

CONF_DIR=/etc/slurm
MARK="# storyreel CI SLURM (written by .ci/slurm/up.sh)"
PARTITION=${STORYREEL_CI_PARTITION:-debug}

if [[ $(id -u) -ne 0 ]]; then
  echo "slurm-up: must run as root (it installs packages and starts daemons)" >&2
  exit 1
fi

# 1. Packages (Debian's, about 30 s on a fresh machine; skipped when present).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
fi

if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -qF "$MARK" "$CONF_DIR/slurm.conf"; then
  echo "slurm-up: $CONF_DIR/slurm.conf exists and is not ours; not touching a real cluster" >&2
  exit 1
fi

# 2. munge (authentication between the SLURM commands and daemons).
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

# 3. Configuration: this machine as the only node, as slurmd itself sees it.
host=$(hostname -s)
node=$(slurmd -C | head -n 1)  # NodeName=... CPUs=... RealMemory=...
cpus=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<<"$node")
mem=$(sed -E 's/.* RealMemory=([0-9]+).*/\1/' <<<"$node")
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >"$CONF_DIR/slurm.conf" <<EOF
$MARK
ClusterName=storyreel-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
DefMemPerCPU=1000
MinJobAge=600
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=300
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$CONF_DIR/gres.conf" <<EOF
$MARK
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null
EOF
rm -f "$CONF_DIR/cgroup.conf"

# 4. Daemons (fresh state each time: -c clears jobs left by an earlier run).
if ! scontrol ping >/dev/null 2>&1; then
  slurmctld -c
fi
if [[ ! -f /run/slurmd.pid ]] || ! kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; then
  slurmd
fi

# 5. Wait until the node takes jobs.
for _ in $(seq 100); do
  state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
  case $state in
    idle* | mix* | alloc*) break ;;
    down* | drain* | drng*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.2
done
state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
if [[ $state != idle* && $state != mix* && $state != alloc* ]]; then
  echo "slurm-up: node $host is '${state:-unknown}', not idle; logs in /var/log/slurm" >&2
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
fi
echo "slurm-up: SLURM $(sinfo --version | cut -d' ' -f2) running: node $host ($cpus CPUs," \
  "$mem MB, 1 fake GPU), partition $PARTITION"

#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, with accounting (slurmdbd + MariaDB) and a
# GPU GRES declared on the node (placeholder device files: GPU requests are scheduled and
# checked even without a physical GPU). For CI and for trying profiles/slurm locally.
#
#   sudo tools/slurm/local-slurm.sh install   # apt-get the Debian packages (needs root + network)
#   sudo tools/slurm/local-slurm.sh start     # write the configuration, start the daemons, wait for the node
#   sudo tools/slurm/local-slurm.sh up        # install (if needed) + start: what .ci/run calls
#   tools/slurm/local-slurm.sh status         # exit 0 when sinfo shows the node and sacct answers
#   sudo tools/slurm/local-slurm.sh stop      # stop slurmctld, slurmd, slurmdbd, mysqld, munged
#
# Settings (environment): PAPERDAG_SLURM_PARTITION (default "debug"), PAPERDAG_SLURM_GPUS
# (GPUs declared on the node, default 2), PAPERDAG_SLURM_GPU_TYPE (GRES type, default
# "tesla"; empty for an untyped gpu:N GRES), PAPERDAG_SLURM_CLUSTER (default "paperdag").
# Known to work on Debian 12 without an init system or cgroups (see docs/SLURM.md).
set -euo pipefail

PARTITION=${PAPERDAG_SLURM_PARTITION:-debug}
NGPUS=${PAPERDAG_SLURM_GPUS:-2}
GPU_TYPE=${PAPERDAG_SLURM_GPU_TYPE-tesla}
CLUSTER=${PAPERDAG_SLURM_CLUSTER:-paperdag}
ETC=/etc/slurm
STATE=/var/lib/slurm-paperdag
LOGS=/var/log/slurm-paperdag
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)

say() { echo "local-slurm: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts system daemons)"; }

installed() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v slurmdbd >/dev/null \
  && command -v munged >/dev/null && command -v mysqld_safe >/dev/null && command -v sbatch >/dev/null; }

install() {
  need_root
  if installed; then say "packages already installed"; return; fi
  command -v apt-get >/dev/null || die "apt-get not found: install ${PACKAGES[*]} by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || say "apt-get update failed; trying the install anyway"
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null || die "apt-get install ${PACKAGES[*]} failed"
  installed || die "packages installed but the daemons are not on PATH"
}

# Wait up to $1 seconds for command "${@:2}" to succeed.
wait_for() {
  local limit=$1; shift
  for _ in $(seq "$limit"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

write_config() {
  local node cpus mem
  node=$(hostname -s)
  cpus=$(nproc)
  # Declare less memory than the machine has, so slurmd accepts the node.
  mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
  mkdir -p "$ETC" "$STATE/ctld" "$STATE/d" "$LOGS" "$STATE/gpu"
  local gres_name="gpu${GPU_TYPE:+:$GPU_TYPE}:$NGPUS" files=()
  for i in $(seq 0 $((NGPUS - 1))); do touch "$STATE/gpu/placeholder$i"; files+=("$STATE/gpu/placeholder$i"); done
  cat > "$ETC/slurm.conf" <<EOF
# Written by tools/slurm/local-slurm.sh: one node, accounting through slurmdbd, a GPU GRES.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu${GPU_TYPE:+,gres/gpu:$GPU_TYPE}
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
MinJobAge=300
KillWait=5
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$node CPUs=$cpus RealMemory=$mem Gres=$gres_name State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  {
    echo "# Written by tools/slurm/local-slurm.sh: placeholder files stand in for the GPUs."
    for f in "${files[@]}"; do echo "NodeName=$node Name=gpu${GPU_TYPE:+ Type=$GPU_TYPE} File=$f"; done
  } > "$ETC/gres.conf"
  cat > "$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=paperdag-local
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$ETC/slurmdbd.conf"
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 400 /etc/munge/munge.key
  su -s /bin/sh munge -c munged
  wait_for 20 sh -c 'munge -n | unmunge' || die "munged did not start"
}

start_mysql() {
  if mysqladmin ping >/dev/null 2>&1; then return; fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  (mysqld_safe --user=mysql >"$LOGS/mysqld_safe.log" 2>&1 &)
  wait_for 60 mysqladmin ping || die "MariaDB did not start (see $LOGS/mysqld_safe.log)"
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'paperdag-local';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

start() {
  need_root
  installed || die "SLURM is not installed: run '$0 install' first"
  write_config
  start_munge
  start_mysql
  if ! pgrep -x slurmdbd >/dev/null; then slurmdbd; fi
  wait_for 60 sacctmgr -n list cluster || die "slurmdbd did not answer (see $LOGS/slurmdbd.log)"
  sacctmgr -n list cluster format=cluster | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
  # (Re)start the controller and node daemon so they read the configuration written above.
  if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    scontrol shutdown >/dev/null 2>&1 || true
    wait_for 30 sh -c '! pgrep -x slurmctld && ! pgrep -x slurmd' || true
  fi
  slurmctld
  wait_for 30 scontrol ping || die "slurmctld did not start (see $LOGS/slurmctld.log)"
  slurmd
  wait_for 60 sh -c "sinfo -h -N -o '%t' | grep -qE '^(idle|mix|alloc)'" \
    || { scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true;
         wait_for 20 sh -c "sinfo -h -N -o '%t' | grep -qE '^(idle|mix|alloc)'"; } \
    || die "the node did not become idle (see $LOGS/slurmd.log): $(sinfo -N 2>&1)"
  status
}

status() {
  command -v sinfo >/dev/null || die "SLURM is not installed"
  sinfo -h -N -o '%N %P %t %G' | grep -qE ' (idle|mix|alloc)' || die "no usable node: $(sinfo -N 2>&1)"
  sacct -n -X -S now-1minutes >/dev/null 2>&1 || die "sacct does not answer (accounting down)"
  say "up: $(sinfo -h -N -o 'node %N partition %P state %t gres %G')"
}

stop() {
  need_root
  scontrol shutdown >/dev/null 2>&1 || true
  # By pid file, never by process name: only the daemons this script started.
  [ -s "$STATE/slurmdbd.pid" ] && kill "$(cat "$STATE/slurmdbd.pid")" 2>/dev/null || true
  mysqladmin shutdown >/dev/null 2>&1 || true
  [ -s /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  up) install && start ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|up|status|stop" >&2; exit 2 ;;
esac

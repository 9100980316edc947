#!/usr/bin/env bash
# Training on a Slurm cluster with MMSeg's interface: srun starts one task
# per GPU, and tools/train.py --launcher slurm reads the ranks from Slurm.
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py arguments...]
# Environment (defaults in brackets):
#   GPUS (4)           total number of tasks (GPUs) over all nodes
#   GPUS_PER_NODE (4)  tasks per node; nodes = GPUS / GPUS_PER_NODE
#   CPUS_PER_TASK (5)  CPU cores per task (data loading workers)
#   SRUN_ARGS ("")     extra srun options, e.g. "--quotatype=auto" or "-x node1"
#   PYTHON (python)    the interpreter (e.g. a virtual environment's)
# Example, 2 nodes of 8 GPUs, mixed precision:
#   GPUS=16 GPUS_PER_NODE=8 tools/slurm_train.sh gpu spml CONFIG --amp
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
PY_ARGS=${@:4}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$(dirname "$0")/train.py" "${CONFIG}" --launcher="slurm" ${PY_ARGS}

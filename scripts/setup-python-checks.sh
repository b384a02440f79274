#!/usr/bin/env bash
# Optional: the Python tools some tests compare reel with (PyTorch loading reel's
# safetensors, onnxruntime running its ONNX export). Without them those suites
# report themselves skipped. Installs Debian's python3-torch and a venv at
# /opt/reel-pyenv (or $REEL_PYENV) with safetensors and onnxruntime from PyPI.
set -euo pipefail
env_dir=${REEL_PYENV:-/opt/reel-pyenv}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! dpkg-query -W -f='${Status}' python3-torch python3-venv 2>/dev/null | grep -q "install ok installed.*install ok installed"; then
  $sudo apt-get install -y -qq python3-torch python3-venv >/dev/null
fi
[ -x "$env_dir/bin/python3" ] || $sudo /usr/bin/python3 -m venv --system-site-packages "$env_dir"
$sudo "$env_dir/bin/python3" -m pip install -q safetensors onnxruntime
echo "setup-python-checks: $env_dir ready (the tests find it there, or set REEL_PYTHON)"

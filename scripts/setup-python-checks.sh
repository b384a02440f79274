#!/usr/bin/env bash
# The Python tools two suites compare reel with: test_export_torch (PyTorch
# loads reel's safetensors) and test_export_onnxruntime (onnxruntime runs its
# ONNX export). Installs Debian's python3-torch and a venv at /opt/reel-pyenv
# (or $REEL_PYENV; --system-site-packages, so it sees that torch and numpy)
# with safetensors and onnxruntime from PyPI, at the versions below.
# scripts/test.sh runs it; idempotent, silent when all is there. Uses sudo
# when not root.
set -euo pipefail
env_dir=${REEL_PYENV:-/opt/reel-pyenv}
# The versions the suites were checked with (Debian 12: torch 1.13, numpy 1.24).
pip_pkgs="safetensors==0.8.0 onnxruntime==1.32.0"

[ -x "$env_dir/bin/python3" ] &&
  "$env_dir/bin/python3" -c 'import torch, safetensors.torch, numpy, onnxruntime' >/dev/null 2>&1 && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-python-checks: need root or sudo to set up $env_dir" >&2; exit 1; }
  sudo="sudo"
fi
missing=""
for p in python3-torch python3-venv python3-numpy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup-python-checks: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -x "$env_dir/bin/python3" ]; then
  echo "setup-python-checks: creating the venv $env_dir" >&2
  $sudo /usr/bin/python3 -m venv --system-site-packages "$env_dir"
fi
echo "setup-python-checks: pip install $pip_pkgs into $env_dir" >&2
# shellcheck disable=SC2086
$sudo "$env_dir/bin/python3" -m pip install -q --disable-pip-version-check $pip_pkgs
"$env_dir/bin/python3" -c 'import torch, safetensors.torch, numpy, onnxruntime' ||
  { echo "setup-python-checks: $env_dir still cannot import torch, safetensors, numpy and onnxruntime" >&2; exit 1; }
echo "setup-python-checks: $env_dir ready (the tests find it there, or set REEL_PYTHON)" >&2

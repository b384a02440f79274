#!/usr/bin/env bash
# Installs the Debian packages reel needs, only those missing. Idempotent,
# silent when everything is there. Uses sudo when not root.
set -euo pipefail

pkgs="cmake gcc make pkg-config libcjson-dev libcriterion-dev libopenblas-dev liblapacke-dev curl python3 ca-certificates
      ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd openmpi-bin libopenmpi-dev
      python3-venv python3-pip python3-setuptools python3-numpy python3-pandas python3-sklearn python3-pytest"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing$missing" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install:$missing" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "bootstrap: done" >&2

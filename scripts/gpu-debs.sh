#!/usr/bin/env bash
# The Debian packages that reel's build needs and the GPU image lacks, for
# scripts/gpu-check.sh's on-machine fallback build (the GPU machine reaches
# no package registry, so they travel in .debs/, which is git-ignored, named
# in the device call's carry list, and unpacked there with dpkg -x).
#
#   scripts/gpu-debs.sh              print the package names, one a line
#   scripts/gpu-debs.sh --download   apt-get download them (this machine's
#                                    versions, amd64) into .debs/
# The first path is what scripts/gpu-check.sh --rehearse hides too.
set -euo pipefail
cd "$(dirname "$0")/.."
# cJSON; Criterion with the libraries it loads (BoxFort is linked in,
# nanomsg and libgit2 with libgit2's own); OpenBLAS (pthread build) with
# LAPACK/BLAS, LAPACKE and libgfortran; pkgconf for anything that asks
# pkg-config (reel's CMake no longer does)
pkgs=(
  libcjson1 libcjson-dev
  libcriterion3 libcriterion-dev libboxfort-dev libnanomsg5 libnanomsg-dev
  libgit2-1.5 libhttp-parser2.9 libmbedtls14 libmbedx509-1 libmbedcrypto7 libssh2-1
  libopenblas0 libopenblas0-pthread libopenblas-dev libopenblas-pthread-dev
  liblapacke liblapacke-dev libgfortran5 libquadmath0
  pkgconf pkgconf-bin libpkgconf3
)
case ${1:-} in
"") printf '%s\n' "${pkgs[@]}" ;;
--download)
  mkdir -p .debs
  (cd .debs && apt-get download "${pkgs[@]}")
  echo "gpu-debs.sh: $(ls .debs/*.deb | wc -l) packages in .debs/ ($(du -sh .debs | cut -f1))"
  ;;
*)
  echo "usage: scripts/gpu-debs.sh [--download]" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# Install Debian packages only when a marker command/file is missing.
# Usage: scripts/ensure-apt.sh PACKAGE:MARKER [PACKAGE:MARKER ...]
# A MARKER starting with / is a path; otherwise a command looked up on PATH.
# Never fails the build by itself when apt is unavailable: it prints what to install instead.
set -u
missing=()
for spec in "$@"; do
  pkg=${spec%%:*}; marker=${spec#*:}
  if [[ $marker == /* ]]; then [[ -e $marker ]] && continue
  else command -v "$marker" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
if ! command -v apt-get >/dev/null 2>&1 || { [[ $(id -u) -ne 0 ]] && [[ -z $sudo ]]; }; then
  echo "setup: please install these Debian packages (apt-get install ${missing[*]}) or their equivalents." >&2
  exit 0
fi
echo "setup: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || echo "setup: apt-get update failed; trying the install anyway" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "setup: apt-get install ${missing[*]} failed" >&2; exit 1; }

#!/usr/bin/env bash
# Written by `twelve init --classroom gradescope`. Gradescope runs this once, as root, when it
# builds the autograder image (Ubuntu). It installs Python and twelve.
set -euo pipefail
TWELVE_GIT="@TWELVE_GIT@"
TWELVE_REF="@TWELVE_REF@"
here="$(cd "$(dirname "$0")" && pwd)"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 ca-certificates curl git build-essential >/dev/null

if [ -x "$here/twelve" ]; then
  # A prebuilt Linux x86_64 binary zipped next to this script: no compiler, no download.
  install -m 0755 "$here/twelve" /usr/local/bin/twelve
else
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
  cargo install --locked --git "$TWELVE_GIT" --tag "$TWELVE_REF" --root /usr/local twelve
fi
twelve --version
twelve doctor || true

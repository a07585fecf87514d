#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, on its Ubuntu image,
# when the autograder is built: install what the build and the tests
# need (the packages of the toolkit's README). The tests need bats-core
# 1.5 or later; where Ubuntu's is older, bats-core 1.8.2 is installed
# from its release.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq build-essential bats libcrypt-dev iproute2 bsdutils \
    nftables strace python3 curl ca-certificates >/dev/null
version=$(bats --version 2>/dev/null | awk '{ print $2 }')
if [ "$(printf '%s\n1.5.0\n' "${version:-0}" | sort -V | head -n 1)" != 1.5.0 ]; then
    tmp=$(mktemp -d)
    curl -fsSL https://github.com/bats-core/bats-core/archive/refs/tags/v1.8.2.tar.gz |
        tar -xz -C "$tmp"
    "$tmp/bats-core-1.8.2/install.sh" /usr/local
    rm -rf "$tmp"
fi

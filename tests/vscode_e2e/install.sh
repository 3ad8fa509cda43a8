#!/usr/bin/env bash
# install.sh DIR: a real VS Code for tests/test_vscode.py, from the npm registry only:
# code-server 4.100.3 (VS Code 1.100 served to a browser) and puppeteer-core, which drives
# Debian's Chromium. `make test-vscode` runs it once (DIR is .test-deps/vscode-e2e) after
# installing the Debian packages it needs: libkrb5-dev libx11-dev libxkbfile-dev
# libsecret-1-dev pkg-config build-essential (native modules), ripgrep and chromium.
set -euo pipefail
dir=${1:?usage: install.sh DIR}
CODE_SERVER=code-server@4.100.3
PUPPETEER=puppeteer-core@23.11.1
# @vscode/ripgrep versions that code-server 4.100.3 installs; see below.
RIPGREP_PACKAGES="1.15.11"
RIPGREP_RELEASE=v13.0.0-10

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 20 ]; then
  echo "install.sh: $CODE_SERVER runs on Node.js 20; this is Node.js $(node --version)" >&2
  exit 1
fi
# node-gyp builds the native modules against this Node's own headers, rather than headers it
# would download from nodejs.org.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ ! -f "$node_prefix/include/node/node.h" ]; then
  echo "install.sh: no Node.js headers in $node_prefix/include/node (Debian: nodejs ships them)" >&2
  exit 1
fi
export npm_config_nodedir="$node_prefix"
# Build every native module from source: argon2 (node-pre-gyp) and kerberos (prebuild-install)
# would otherwise download prebuilt binaries from GitHub.
export npm_config_build_from_source=true
rg=$(command -v rg) || { echo "install.sh: needs ripgrep (apt-get install ripgrep)" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) target=x86_64-unknown-linux-musl ;;
  aarch64) target=aarch64-unknown-linux-musl ;;
  *) echo "install.sh: no ripgrep asset name known for $(uname -m)" >&2; exit 1 ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache, a folder named after
# the package's version in os.tmpdir(), already holds the release asset: seed the cache with
# Debian's rg, and point TMPDIR into DIR so that the cache stays there.
export TMPDIR="$dir/tmp"
mkdir -p "$TMPDIR/rg"
cp "$rg" "$TMPDIR/rg/rg"
for version in $RIPGREP_PACKAGES; do
  cache="$TMPDIR/vscode-ripgrep-cache-$version"
  mkdir -p "$cache"
  tar -czf "$cache/ripgrep-$RIPGREP_RELEASE-$target.tar.gz" -C "$TMPDIR/rg" rg
done

cd "$dir"
[ -f package.json ] || echo '{"name": "lessonlens-vscode-e2e", "private": true}' >package.json
# code-server's postinstall runs `npm install` in its lib/vscode and lib/vscode/extensions, which
# build native modules (node-pty, spdlog, ...). As root it insists on unsafe-perm; node-pty's
# postinstall runs `npx node-gyp`, which must not stop to ask; and npm 11.x, which runs a
# dependency's install scripts only when the project's allowScripts names it, must run them all:
# the nested projects are code-server's own, and their packages are not known here.
npm_config_yes=true npm_config_unsafe_perm=true npm_config_dangerously_allow_all_scripts=true \
  npm install --no-audit --no-fund "$CODE_SERVER" "$PUPPETEER"
test -x node_modules/.bin/code-server
# Each @vscode/ripgrep took Debian's rg from the seeded cache: a version missing from
# RIPGREP_PACKAGES would have downloaded its own (or failed to).
find node_modules -path '*/@vscode/ripgrep/bin/rg' | while read -r installed; do
  cmp -s "$installed" "$rg" || { echo "install.sh: $installed is not Debian's rg" >&2; exit 1; }
done
node -e 'require("puppeteer-core")'

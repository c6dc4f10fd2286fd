#!/usr/bin/env bash
# Copies the console's browser libraries (package.json, pinned in package-lock.json) from npm into
# vietcx/console/static/vendor/, with their licences. The copies are committed, so running or testing
# the product needs no Node.js; run this (Node.js 18+) after changing a version in package.json,
# then commit package.json, package-lock.json and the copies together.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund
vendor=vietcx/console/static/vendor
mkdir -p "$vendor"
cp node_modules/chart.js/dist/chart.umd.min.js "$vendor/chart.umd.min.js"
cp node_modules/chart.js/LICENSE.md "$vendor/chart.js.LICENSE.md"
echo "copied chart.js $(node -p 'require("./node_modules/chart.js/package.json").version') into $vendor"

#!/bin/sh
# Regenerates the .xls test fixtures of package sheet: gen writes xlsx
# sources with excelize, LibreOffice converts them to BIFF8 .xls.
# The tests read only the committed .xls files.
#
# Needs Go and LibreOffice (apt-get install -y libreoffice-calc-nogui).
# Run from anywhere: sh internal/sheet/testdata/xls/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here/../../../.." && go run ./internal/sheet/testdata/xls/gen "$work")
export HOME="$work" # a throwaway LibreOffice profile
for f in statement date1904 many; do
	soffice --headless --convert-to xls --outdir "$work/out" "$work/$f.xlsx" >/dev/null 2>&1
	cp "$work/out/$f.xls" "$here/$f.xls"
done
ls -l "$here"/*.xls

#!/usr/bin/env bash
# check_report.sh [LRSCOPE_BIN]: `make check-report`. Trains a tiny study on
# generated data (two rates, two epochs, one second), then loads its
# report.html in headless Chromium (check_report_chromium.sh): no outside
# request, every figure present and loaded. A page that does reach outside
# is checked too, so the check is known to catch one. Needs Debian's
# chromium (not in `make test`: it is over 100 MB).
set -euo pipefail
bin=${1:-build/lrscope}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/data"
# CIFAR-10 layout: records of a label byte and 3x32x32 pixel bytes; each
# class a colour plus noise (perl-base is in every Debian).
seed=0
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
    perl -e 'srand($ARGV[0]); my @c = ([230,30,30],[30,230,30],[30,30,230],[230,230,30],[230,30,230],
             [30,230,230],[128,128,128],[250,250,250],[10,10,10],[128,60,0]);
             for my $k (0..39) { my $l = $k % 10; print chr($l);
                 for my $ch (0..2) { print pack("C*", map { my $v = $c[$l][$ch] + int(rand(33)) - 16;
                                                             $v < 0 ? 0 : $v > 255 ? 255 : $v } 1..1024) } }' \
        $((++seed)) > "$tmp/data/$f.bin"
done
"$bin" run --data "$tmp/data" --out "$tmp/study" --epochs 2 --lrs 0.05,0.01 --quiet > /dev/null
"$here/check_report_chromium.sh" "$tmp/study"
# The check must fail on a page that loads something from outside.
mkdir "$tmp/outside"
printf '<!DOCTYPE html><html><body><img src="http://example.com/x.png"></body></html>\n' > "$tmp/outside/report.html"
if "$here/check_report_chromium.sh" "$tmp/outside" > "$tmp/outside.log"; then
    echo "FAIL: check_report_chromium.sh passed a page with an outside image"; cat "$tmp/outside.log"; exit 1
fi
echo "ok: a page with an outside image is caught"

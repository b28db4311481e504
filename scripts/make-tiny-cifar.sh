#!/bin/sh
# make-tiny-cifar.sh DIR [N]: writes a tiny CIFAR-10-layout data set into DIR
# (data_batch_1..5.bin and test_batch.bin, N records each, default 64) with
# learnable labels (each class has its own mean colour), for smoke tests of
# an installed lrscope. Needs only perl-base.
set -eu
dir=$1; n=${2:-64}
mkdir -p "$dir"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
    perl -e '
        my ($n, $salt) = @ARGV; my $s = 12345 + $salt;
        for my $i (0 .. $n - 1) {
            my $label = $i % 10; print chr($label);
            for my $p (0 .. 3071) {
                $s = ($s * 1103515245 + 12345) % 2147483648;
                my $v = ($label * 25 + int($p / 1024) * 40 + ($s >> 16) % 64) % 256;
                print chr($v);
            }
        }' "$n" "$(printf %s "$f" | cksum | cut -d' ' -f1)" > "$dir/$f.bin"
done

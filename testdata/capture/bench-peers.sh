#!/bin/sh
# Side-by-side throughput of tshark, argus|ra and tracehop on the same
# capture (issue 4). Usage: bench-peers.sh TRACEHOP_BIN CAPTURE...
# Prints one line per tool and file: wall seconds, CPU seconds (user+sys,
# the fair figure on a shared machine), MB/s and packets/s (by wall
# time), peak RSS. The first row per file is `openssl dgst -sha256` alone:
# every flow cites its input's SHA-256, and one stream's SHA-256 cannot be
# split across cores, so no tool that cites it can beat that row's wall time.
# Peers are installed with apt by `make bench-peers` when missing.
set -eu
bin=$1; shift
row() { printf '%-28s %-15s %8s %8s %9s %12s %10s\n' "$@"; }
measure() { # name file cmd...
	name=$1; file=$2; shift 2
	/usr/bin/time -f '%e %U %S %M' -o /tmp/tracehop-bench-time.$$ sh -c "$*" >/dev/null 2>/tmp/tracehop-bench-err.$$ || {
		echo "$name failed:"; tail -3 /tmp/tracehop-bench-err.$$; return 0; }
	read -r secs usr sys rss < /tmp/tracehop-bench-time.$$
	cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN{ printf "%.1f", u+s }')
	mb=$(awk -v b="$size" -v s="$secs" 'BEGIN{ if (s <= 0) s = 0.01; printf "%.1f", b/1e6/s }')
	pps=$(awk -v p="$pkts" -v s="$secs" 'BEGIN{ if (s <= 0) s = 0.01; printf "%.0f", p/s }')
	row "$name" "$(basename "$file")" "$secs" "$cpu" "$mb" "$pps" "$((rss / 1024)) MiB"
}
# The host, since this VM has moved between CPUs and every figure with it.
echo "== captures: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
row tool file "wall s" "CPU s" MB/s packets/s "peak RSS"
for f in "$@"; do
	size=$(stat -c %s "$f")
	pkts=$(capinfos -M -c -T "$f" 2>/dev/null | awk -F'\t' 'NR==2{print $2}')
	[ -n "$pkts" ] || pkts=0
	cat "$f" > /dev/null # page cache: every tool reads from memory
	if command -v openssl >/dev/null 2>&1; then
		measure "sha256 only (openssl)" "$f" "openssl dgst -sha256 '$f'"
	fi
	measure "tshark -z conv,tcp" "$f" "tshark -r '$f' -q -z conv,tcp"
	measure "argus -w - | ra" "$f" "argus -r '$f' -w - | ra -n"
	measure "tracehop flows --no-enrich" "$f" "'$bin' flows --no-enrich -q '$f'"
	measure "tracehop flows (enrich)" "$f" "'$bin' flows -q '$f'"
done
rm -f /tmp/tracehop-bench-time.$$ /tmp/tracehop-bench-err.$$

# Sourced by the benchmarks: who used the machine's CPU during the measured
# run, so that a ratio is read right (issue 16): the load generator (wrk, or
# bare_issue) runs on the same cores as the service and PostgreSQL, and other
# work on the machine shows as "others".
#
#   cpu_start PID PGDIR       before the run (agricertd's pid, the cluster's directory)
#   cpu_stop                  after it
#   cpu_report LABEL USER SYS   prints one line; LABEL's CPU seconds (the load
#                             generator's) come from bash's time (TIMEFORMAT='%U %S')
hz=$(getconf CLK_TCK)

_ticks() { # the CPU ticks of processes (utime + stime), 0 for one that is gone
	local t=0 p
	for p in "$@"; do
		[ -n "$p" ] || continue
		t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
	done
	echo $t
}

_pg_pids() {
	local pm
	pm=$(head -n1 "$1/data/postmaster.pid" 2>/dev/null) || return 0
	echo "$pm" $(pgrep -P "$pm")
}

_machine() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }

# PostgreSQL's backends come and go with their clients: sampled every 0.2 s,
# each counted from its first sample (from zero when it started meanwhile)
# to its last.
_pg_sampler() {
	local first=1 p
	while :; do
		for p in $(_pg_pids "$1"); do
			if [ $first = 1 ]; then echo "$p $(_ticks "$p") start"; else echo "$p $(_ticks "$p")"; fi
		done
		first=0
		sleep 0.2
	done
}

cpu_start() {
	_cpu_pid=$1
	_cpu_log=$(mktemp /tmp/agricert-bench-cpu.XXXXXX)
	_pg_sampler "$2" >"$_cpu_log" &
	_cpu_sampler=$!
	_cpu_svc0=$(_ticks "$_cpu_pid")
	read -r _cpu_busy0 _cpu_all0 < <(_machine)
	_cpu_t0=$(date +%s.%N)
}

cpu_stop() {
	_cpu_svc1=$(_ticks "$_cpu_pid")
	read -r _cpu_busy1 _cpu_all1 < <(_machine)
	_cpu_t1=$(date +%s.%N)
	kill "$_cpu_sampler" 2>/dev/null
	wait "$_cpu_sampler" 2>/dev/null || true
	_cpu_pg0=0
	_cpu_pg1=$(awk '$3 == "start" {s[$1] = $2} {if ($2 > l[$1]) l[$1] = $2}
		END {for (p in l) t += l[p] - s[p]; print t + 0}' "$_cpu_log")
	rm -f "$_cpu_log"
}

cpu_report() {
	awk -v hz="$hz" -v cores="$(nproc)" -v t0="$_cpu_t0" -v t1="$_cpu_t1" \
		-v svc=$(( _cpu_svc1 - _cpu_svc0 )) -v pg=$(( _cpu_pg1 - _cpu_pg0 )) \
		-v busy=$(( _cpu_busy1 - _cpu_busy0 )) -v all=$(( _cpu_all1 - _cpu_all0 )) \
		-v label="$1" -v gu="$2" -v gs="$3" 'BEGIN {
		wall = t1 - t0; cap = wall * cores / 100
		gen = (gu + gs) / cap; s = svc / hz / cap; p = pg / hz / cap
		m = (all > 0 ? 100 * busy / all : 0)
		o = m - gen - s - p; if (o < 0) o = 0
		printf "  cpu over %.1f s of %d cores (100%% = all of them): %s %.0f%%, agricertd %.0f%%, postgres %.0f%%, others %.0f%%, machine busy %.0f%%\n", wall, cores, label, gen, s, p, o, m
	}'
}

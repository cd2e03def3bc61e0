# The load harness of `./surplus load` (docs/PERFORMANCE.md, "How it is measured"): starts the
# service and its Cassandra node, runs the Gatling simulations against them, samples heap and CPU,
# and reports. Sourced by ../surplus, whose MVN, ROOT and build functions it uses.

LOAD_SERVICE_PID=""
LOAD_CASSANDRA_PID=""
LOAD_KEYSPACE=""
LOAD_SAMPLER_PID=""
LOAD_CPU_SAMPLER_PID=""

stop_load_service() {
  if [[ -n $LOAD_SAMPLER_PID ]]; then kill "$LOAD_SAMPLER_PID" 2>/dev/null || true; fi
  if [[ -n $LOAD_CPU_SAMPLER_PID ]]; then kill "$LOAD_CPU_SAMPLER_PID" 2>/dev/null || true; fi
  if [[ -n $LOAD_SERVICE_PID ]] && kill -0 "$LOAD_SERVICE_PID" 2>/dev/null; then
    echo "surplus load: stopping the service (pid $LOAD_SERVICE_PID) and its Cassandra node" >&2
    kill "$LOAD_SERVICE_PID" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$LOAD_SERVICE_PID" 2>/dev/null || break; sleep 1; done
    kill -9 "$LOAD_SERVICE_PID" 2>/dev/null || true
  fi
  LOAD_SERVICE_PID=""
  # a service started after a kill -9 reused the node and leaves it running when it stops
  if [[ -n $LOAD_CASSANDRA_PID ]] && kill -0 "$LOAD_CASSANDRA_PID" 2>/dev/null; then
    kill "$LOAD_CASSANDRA_PID" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$LOAD_CASSANDRA_PID" 2>/dev/null || break; sleep 1; done
    kill -9 "$LOAD_CASSANDRA_PID" 2>/dev/null || true
  fi
  LOAD_CASSANDRA_PID=""
}

# Starts the service for a load run on 127.0.0.1:8081 with its embedded Cassandra node (data under
# var/load, keyspaces of its own so a running `up` is never touched) and demo accounts; sets
# LOAD_URL, LOAD_ADMIN and LOAD_JOURNAL.
start_load_service() {
  local log=$1
  build_service
  rm -rf var/load
  mkdir -p var/load
  LOAD_KEYSPACE="load_$(date +%s)"
  LOAD_URL=http://127.0.0.1:8081
  LOAD_JOURNAL="${LOAD_KEYSPACE}_j"
  echo "surplus load: starting the service and its Cassandra node (log: $log) ..." >&2
  launch_load_service "$log"
  trap stop_load_service EXIT
  await_load_service "$log" || exit 1
  LOAD_CASSANDRA_PID=$(pgrep -f "var/load/cassandra.*CassandraDaemon" | head -1)
  LOAD_ADMIN=$(grep '^admin=' var/load/demo-keys.properties | cut -d= -f2)
}

# Starts the load run's service JVM on the keyspaces of LOAD_KEYSPACE (a node already answering on
# the CQL port is reused); sets LOAD_SERVICE_PID.
launch_load_service() {
  local log=$1
  SURPLUS_HTTP_PORT=8081 SURPLUS_MARKET_DATA_PORT=8091 SURPLUS_CLUSTER_PORT=25521 SURPLUS_JOURNAL_KEYSPACE="${LOAD_KEYSPACE}_j" \
    SURPLUS_SNAPSHOT_KEYSPACE="${LOAD_KEYSPACE}_s" SURPLUS_READ_KEYSPACE="${LOAD_KEYSPACE}_r" \
    setsid java -Xmx2g ${SURPLUS_SERVICE_GC:-$SERVICE_GC} -Xlog:gc:file="${log%.log}-gc.log" ${LOAD_JFR:+"-XX:StartFlightRecording=filename=$LOAD_JFR,settings=profile,dumponexit=true"} -cp "marketplace/target/classes:$(cat marketplace/target/service.classpath)" \
    io.surplus.market.app.SurplusMain --embedded-cassandra \
    --cassandra-classpath-file cassandra-node/target/cassandra.classpath --var var/load --demo-accounts \
    >"$log" 2>&1 &
  LOAD_SERVICE_PID=$!
}

# Waits (up to 300 s) until the service is ready and its demo accounts are written; 1 if it died or
# never got there.
await_load_service() {
  local log=$1
  for _ in $(seq 150); do
    # ready, and the demo accounts (made right after start) written
    if [[ -s var/load/demo-keys.properties ]] && curl -fs "$LOAD_URL/health/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$LOAD_SERVICE_PID" 2>/dev/null || { echo "surplus load: the service died; see $log" >&2; tail -20 "$log" >&2; return 1; }
    sleep 2
  done
  echo "surplus load: the service is not ready after 300 s; see $log" >&2
  return 1
}

# A fault in the middle of a run (--kill-after S): S seconds after the simulation's load starts
# (it writes <out>/load-started), kill -9 the service (its Cassandra node keeps running, as a
# separate process would), start a new one on the same keyspaces, and write when it is ready to
# <out>/restarted-at; its pid goes to <out>/restarted.pid.
kill_and_restart() {
  local after=$1 out=$2
  until [[ -e $out/load-started ]]; do sleep 0.5; done
  sleep "$after" # the moment of the fault, chosen by the caller: not a wait for anything
  echo "surplus load: kill -9 of the service (pid $LOAD_SERVICE_PID) $after s into the load" >&2
  kill -9 "$LOAD_SERVICE_PID"
  date +%s%3N >"$out/killed-at"
  launch_load_service "$out/service-restarted.log"
  echo "$LOAD_SERVICE_PID" >"$out/restarted.pid"
  if await_load_service "$out/service-restarted.log"; then
    date +%s%3N >"$out/restarted-at"
    echo "surplus load: the restarted service (pid $LOAD_SERVICE_PID) is ready" >&2
  fi
}

# Samples the service's heap in use (bytes, every second) into $1 until stopped.
sample_heap() {
  local file=$1
  : >"$file"
  (while sleep 1; do
     curl -fs "$LOAD_URL/metrics" 2>/dev/null \
       | awk '/^jvm_memory_used_bytes\{.*area="heap"/ {s += $NF} END {if (s > 0) printf "%.0f\n", s}'
   done >>"$file") &
  LOAD_SAMPLER_PID=$!
}

# Processes $@ and all their descendants, a pid a line (empty arguments skipped).
tree_pids() {
  local pid
  for pid in "$@"; do
    [[ -n $pid ]] || continue
    echo "$pid"
    # shellcheck disable=SC2046
    tree_pids $(pgrep -P "$pid")
  done
}

# The CPU clock ticks processes $@ have used (0 for none).
ticks_of() {
  local total=0 pid t
  for pid in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && total=$((total + t))
  done
  echo "$total"
}

# The CPU clock ticks of each thread of process $1, a line each: its id, its name with the digits
# and spaces dropped (so that a pool's threads share one name) and its ticks; one awk over every
# thread's stat (a name is what stands between the first '(' and the last ')').
thread_ticks() {
  awk '{ open = index($0, "("); shut = match($0, /\)[^)]*$/)
         name = substr($0, open + 1, shut - open - 1); gsub(/[0-9 ]/, "", name)
         split(substr($0, shut + 2), f, " ")
         print $1, name, f[12] + f[13] }' /proc/"$1"/task/*/stat 2>/dev/null
}

# The service's CPU by thread (pools summed) between two thread_ticks files $1 and $2, $3 seconds
# apart: cores, largest first. Flight Recorder's samples misplace this (they favour threads that
# run Java code, a few at a time); the kernel's own count does not. Names are the kernel's first 15
# characters: surplus-pekko.a is the actor dispatchers (the default one's requests, actors and
# streams; the internal one's few), .i Pekko IO's selector, .p the journal's, s-io- the Cassandra
# driver's, surplus-surplus the clearing.
thread_cpu() {
  awk -v secs="$3" 'NR == FNR { before[$1] = $3; next }
    $3 != "" { cpu[$2] += $3 - ($1 in before ? before[$1] : 0) }
    END { for (n in cpu) if (cpu[n] > 0) printf "  service CPU, %-34s %.3f cores\n", n, cpu[n] / secs / 100 }' \
    "$1" "$2" | sort -k4 -rn | head -10
}

# The milliseconds the threads of processes $@ have spent runnable but waiting for a core (the
# scheduler's run delay, /proc/<pid>/task/<tid>/schedstat), summed over threads (0 for none).
wait_of() {
  local files=() pid
  for pid in "$@"; do files+=(/proc/"$pid"/task/*/schedstat); done
  cat "${files[@]}" 2>/dev/null </dev/null | awk '{w += $2} END {printf "%.0f", w / 1e6}'
}

# Samples CPU use every second into $1 until stopped, a line each: epoch millis, then cumulative
# clock ticks of the whole box (all cores), of its idle time, of the service, of its Cassandra node
# and of the load generator (the Maven process running simulation $2, with the JVM it forks, and
# wrk when it makes the reads); then the milliseconds the threads of the same three have waited
# for a core (wait_of). Each one's process tree is walked once a sample.
sample_cpu() {
  local file=$1 sim=$2
  : >"$file"
  (while sleep 1; do
     local cass_tree gen_tree
     # shellcheck disable=SC2046
     mapfile -t cass_tree < <(tree_pids $(pgrep -f "var/load/cassandra.*CassandraDaemon" | head -1))
     # shellcheck disable=SC2046
     mapfile -t gen_tree < <(tree_pids $(pgrep -f "simulationClass=io.surplus.load.$sim " | head -1) $(pgrep -x wrk))
     echo "$(date +%s%3N) $(awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat)" \
       "$(ticks_of "$LOAD_SERVICE_PID")" "$(ticks_of "${cass_tree[@]}")" "$(ticks_of "${gen_tree[@]}")" \
       "$(wait_of "$LOAD_SERVICE_PID")" "$(wait_of "${cass_tree[@]}")" "$(wait_of "${gen_tree[@]}")"
   done >>"$file") &
  LOAD_CPU_SAMPLER_PID=$!
}

run_load() {
  local sims=() rate="" duration="" smoke=0 ceilings=1 warmup=0 cql=127.0.0.1:9142 extra=() kill_after="" wrk=0 reads_share=""
  LOAD_URL="" LOAD_ADMIN="" LOAD_JOURNAL=surplus_journal LOAD_JFR= LOAD_STREAM_URL="" WRK_URL=""
  local bidder_keys="" provider_keys=""
  while (($#)); do
    case "$1" in
      --rate) rate=$2; shift 2 ;;
      --duration) duration=$2; shift 2 ;;
      --url) LOAD_URL=${2%/}; shift 2 ;;
      --stream-url) LOAD_STREAM_URL=${2%/}; shift 2 ;;
      --reads-url) WRK_URL=${2%/}; shift 2 ;;
      --admin-key) LOAD_ADMIN=$2; shift 2 ;;
      --bidder-keys) bidder_keys=$2; shift 2 ;;
      --provider-keys) provider_keys=$2; shift 2 ;;
      --cql) cql=$2; shift 2 ;;
      --journal-keyspace) LOAD_JOURNAL=$2; shift 2 ;;
      --smoke) smoke=1; shift ;;
      --no-ceilings) ceilings=0; shift ;;
      --warmup) warmup=$2; shift 2 ;;
      --jfr) LOAD_JFR=1; shift ;;
      --kill-after) kill_after=$2; shift 2 ;;
      --wrk) wrk=1; shift ;;
      --reads-share) reads_share=$2; shift 2 ;;
      -D*) extra+=("$1"); shift ;;
      -*) echo "surplus load: unknown option '$1'" >&2; exit 2 ;;
      *) sims+=("$1"); shift ;;
    esac
  done
  if ((${#sims[@]} == 0)); then
    if ((smoke)); then sims=(BidSubmission FeedIngestion MarketReaders MixedDay); else sims=(BidSubmission); fi
  fi
  for sim in "${sims[@]}"; do
    case "$sim" in
      BidSubmission|FeedIngestion|MarketReaders|MixedDay) ;;
      *) echo "surplus load: unknown simulation '$sim' (known: BidSubmission, FeedIngestion, MarketReaders, MixedDay)" >&2; exit 2 ;;
    esac
  done
  if ((wrk)); then
    [[ ${sims[*]} == MarketReaders ]] || { echo "surplus load: --wrk runs MarketReaders alone" >&2; exit 2; }
    [[ -z $reads_share || -z $rate ]] || { echo "surplus load: --reads-share and --rate both set the reads' rate" >&2; exit 2; }
    ensure_packages wrk
  fi
  if [[ -n $kill_after ]]; then
    [[ -z $LOAD_URL ]] || { echo "surplus load: --kill-after needs the service this command starts (no --url)" >&2; exit 2; }
    [[ ${sims[*]} == BidSubmission ]] || { echo "surplus load: --kill-after runs BidSubmission alone" >&2; exit 2; }
  fi
  "${MVN[@]}" -q -pl loadtests test-compile >&2
  local cp run_dir
  cp="loadtests/target/test-classes:$(cat loadtests/target/test-classpath.txt)"
  run_dir="$ROOT/loadtests/target/load/$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$run_dir"
  if [[ -z $LOAD_URL ]]; then
    [[ -n $LOAD_JFR ]] && LOAD_JFR="$run_dir/service.jfr"
    start_load_service "$run_dir/service.log"
    LOAD_SERVICE_STARTED=1
    # the subscribers on the service's market-data port, unless SURPLUS_LOAD_STREAM=api puts them
    # on the API's own port (the same stream through Pekko HTTP, for comparison)
    [[ ${SURPLUS_LOAD_STREAM:-} == api ]] || LOAD_STREAM_URL=ws://127.0.0.1:8091
    # wrk's reads and its bare route on the market-data port too, where the public reads are
    # served, unless SURPLUS_LOAD_READS=api puts them on the API's port (Pekko HTTP)
    [[ -n $WRK_URL || ${SURPLUS_LOAD_READS:-} == api ]] || WRK_URL=http://127.0.0.1:8091
  fi
  WRK_URL=${WRK_URL:-$LOAD_URL}
  ((wrk)) && echo "== wrk's reads and its bare route's ceiling on $WRK_URL" >&2
  local status=0 ceiling_seconds=10
  ((smoke)) && ceiling_seconds=2
  for sim in "${sims[@]}"; do
    local out="$run_dir/$sim" props=()
    mkdir -p "$out"
    props=(-Dsurplus.url="$LOAD_URL" -Dsurplus.out="$out" -Dsurplus.adminKey="$LOAD_ADMIN"
      -Dsurplus.bidderKeys="$bidder_keys" -Dsurplus.providerKeys="$provider_keys" -Dsurplus.streamUrl="$LOAD_STREAM_URL")
    if ((smoke)); then
      # a few seconds at a low rate so the simulations never rot; the bounds are loose on purpose
      props+=(-Dsurplus.duration=5 -Dsurplus.batchSize=5 -Dsurplus.subscribers=20 -Dsurplus.p99Millis=5000 -Dsurplus.lagLimitMillis=5000
        -Dsurplus.bidders=4 -Dsurplus.providers=4)
      case "$sim" in
        FeedIngestion) props+=(-Dsurplus.rate=100) ;;
        MarketReaders) props+=(-Dsurplus.rate=50) ;;
        *) props+=(-Dsurplus.rate=20) ;;
      esac
    fi
    [[ -n $rate ]] && props+=(-Dsurplus.rate="$rate")
    [[ -n $duration ]] && props+=(-Dsurplus.duration="$duration")
    # what wrk offers and for how long: the simulation's rate and duration, as set above
    local reads_rate=${rate:-2000} reads_seconds=${duration:-30}
    if ((smoke)); then reads_rate=${rate:-50}; reads_seconds=${duration:-5}; fi
    ((wrk)) && props+=(-Dsurplus.readsBy=wrk)
    props+=("${extra[@]}")
    echo "== $sim against $LOAD_URL (results: $out)" >&2
    if ((ceilings && wrk)); then
      # the bare route's ceiling by wrk, measured again after any warm-up (below): the service's
      # JIT is cold now, and a cold ceiling is lower (5,400-18,700/s against 25,200-28,800/s warm)
      local ceiling_name=WrkCeiling
      ((warmup > 0)) && ceiling_name=WrkCeilingCold
      wrk_ceiling "$ceiling_seconds" "$out" "$ceiling_name" "$reads_share" || status=1
    elif ((ceilings)); then
      "${MVN[@]}" -q -pl loadtests gatling:test -Dgatling.simulationClass=io.surplus.load.HttpCeiling \
        -Dgatling.noReports=true "${props[@]}" -Dsurplus.duration=$ceiling_seconds >"$out/ceiling-http.log" 2>&1 \
        || { echo "surplus load: the HTTP ceiling failed; see $out/ceiling-http.log" >&2; status=1; }
    fi
    if ((ceilings)); then
      java -cp "$cp" io.surplus.load.tools.CassandraCeiling "$cql" $ceiling_seconds 128 "$out" \
        >"$out/ceiling-cassandra.log" 2>&1 \
        || { echo "surplus load: the Cassandra ceiling failed; see $out/ceiling-cassandra.log" >&2; status=1; }
    fi
    if ((warmup > 0)); then
      # the same load for a while first, its figures thrown away: the service's JIT, its caches and
      # Cassandra's are warm when the measured run starts, as in a service that has been running
      echo "== $sim: warming up for $warmup s (not measured)" >&2
      local warm_reads=""
      if ((wrk)); then
        rm -f "$out/warmup/load-started" "$out/warmup/subscribers-connected"
        wrk_reads "$reads_rate" "$warmup" "$out/warmup" &
        warm_reads=$!
      fi
      "${MVN[@]}" -q -pl loadtests gatling:test -Dgatling.simulationClass="io.surplus.load.$sim" \
        -Dgatling.noReports=true "${props[@]}" -Dsurplus.duration="$warmup" -Dsurplus.prefill=0 \
        -Dsurplus.out="$out/warmup" >"$out/warmup.log" 2>&1 || true
      if [[ -n $warm_reads ]]; then stop_waiting_reads "$warm_reads" "$out/warmup"; wait "$warm_reads" || true; fi
      if ((ceilings && wrk)); then
        wrk_ceiling "$ceiling_seconds" "$out" WrkCeiling "$reads_share" || status=1
      fi
    fi
    if ((wrk)); then props+=(-Dsurplus.rate="$reads_rate"); fi
    sample_heap "$out/heap.txt"
    sample_cpu "$out/cpu.txt" "$sim"
    local marker="$out/.started" killer=""
    touch "$marker"
    rm -f "$out/load-started" "$out/subscribers-connected" "$out/restarted-at"
    if [[ -n $kill_after ]]; then
      props+=(-Dsurplus.killAfter="$kill_after")
      kill_and_restart "$kill_after" "$out" &
      killer=$!
    fi
    local reader=""
    if ((wrk)); then
      wrk_reads "$reads_rate" "$reads_seconds" "$out" &
      reader=$!
    fi
    if ! ${SURPLUS_GATLING_NICE:+nice -n "$SURPLUS_GATLING_NICE"} "${MVN[@]}" -pl loadtests gatling:test -Dgatling.simulationClass="io.surplus.load.$sim" "${props[@]}" \
         -Dsurplus.gatling.gclog="$out/gatling-gc.log" 2>&1 | tee "$out/gatling.log"; then
      status=1
    fi
    grep -q "BUILD SUCCESS" "$out/gatling.log" || status=1
    if [[ -n $reader ]]; then
      stop_waiting_reads "$reader" "$out"
      wait "$reader" || { echo "surplus load: wrk's reads failed; see $out/WrkReads.log" >&2; status=1; }
    fi
    if [[ -n $killer ]]; then
      wait "$killer" || true
      LOAD_SERVICE_PID=$(cat "$out/restarted.pid" 2>/dev/null || echo "$LOAD_SERVICE_PID")
      if [[ ! -e $out/restarted-at ]]; then
        echo "surplus load: the service did not come back after the kill; see $out/service-restarted.log" >&2
        status=1
      elif ! grep -q '^ackedAfterRestart=[1-9]' "$out/BidSubmission.properties" 2>/dev/null; then
        echo "surplus load: no bid was acknowledged after the restart" >&2
        status=1
      fi
    fi
    # the service's own figures after the load (gate batches, write latency, epochs), for the profile
    curl -fs "$LOAD_URL/metrics" >"$out/metrics-after.txt" 2>/dev/null || true
    kill "$LOAD_SAMPLER_PID" "$LOAD_CPU_SAMPLER_PID" 2>/dev/null || true
    LOAD_SAMPLER_PID="" LOAD_CPU_SAMPLER_PID=""
    if [[ $sim == BidSubmission || $sim == MixedDay ]]; then
      java -cp "$cp" io.surplus.load.tools.NoLossAudit "$LOAD_URL" "$cql" "$LOAD_JOURNAL" \
        "$out/acked-bids.txt" "$out" || status=1
    fi
    java -cp "$cp" io.surplus.load.tools.LoadReport "$out" "$sim" || status=1
    # where the service's CPU went while wrk read (--wrk), by thread pool
    [[ -s $out/service-threads.txt ]] && cat "$out/service-threads.txt"
    gc_pauses "generator" "$out/gatling-gc.log"
    local report
    report=$(find loadtests/target/gatling -maxdepth 1 -type d -newer "$marker" -iname "${sim}-*" | sort | tail -1)
    [[ -n $report ]] && echo "  report: $ROOT/$report/index.html"
  done
  stop_load_service
  [[ -z ${LOAD_SERVICE_STARTED:-} ]] || gc_pauses "service (whole run)" "$run_dir/service-gc.log"
  [[ -z ${LOAD_SERVICE_STARTED:-} ]] || gc_pauses "Cassandra node (whole run)" var/load/cassandra/logs/gc.log
  if ((status)); then echo "surplus load: FAILED" >&2; else echo "surplus load: passed" >&2; fi
  return $status
}

# Runs wrk for $3 seconds against the service with loadtests/wrk/reads.lua in mode $1 (reads:
# the MarketReaders mix over every market; alive: the bare route), paced at $2 requests a second
# (0: each connection asks again as soon as it is answered); its output goes to <$4>/<$5>.log and
# the figures it prints to <$4>/<$5>.properties. One thread, WRK_CONNECTIONS connections (32 unless
# wrk_reads sets more), so one core at most and far less in practice: the generator's CPU share is
# in the report.
wrk_run() {
  local mode=$1 rate=$2 seconds=$3 dir=$4 name=$5 markets=()
  if [[ $mode == reads ]]; then
    mapfile -t markets < <(curl -fs "$LOAD_URL/v1/markets" | grep -oE '"gpuModel":"[^"]*"' | cut -d'"' -f4)
    ((${#markets[@]})) || { echo "surplus load: the service lists no markets" >&2; return 1; }
  fi
  mkdir -p "$dir"
  ${SURPLUS_WRK_NICE:+nice -n "$SURPLUS_WRK_NICE"} wrk -t1 -c"${WRK_CONNECTIONS:-32}" -d"${seconds}s" --timeout 10s -s "$ROOT/loadtests/wrk/reads.lua" "$WRK_URL" -- \
    "$mode" "$rate" "${markets[@]}" >"$dir/$name.log" 2>&1 || return 1
  grep -E '^[A-Za-z0-9]+=[0-9.]+$' "$dir/$name.log" >"$dir/$name.properties"
  [[ -s $dir/$name.properties ]]
}

# The reads of MarketReaders --wrk, rate $1 per second offered for $2 s: waits until the
# simulation has every subscriber connected (<$3>/subscribers-connected, written by it: the
# steady state the figures describe, not the storm of connections opening), then runs wrk, paced
# by reads.lua on one schedule (the rate offered holds while answers slow, as long as a connection
# is free: a connection waits for its answer, so there is one for each SURPLUS_WRK_BUDGET_MS ms
# of the schedule, 10 unless set, at least 32; the report gives what was answered). Until the
# seventeenth session the budget was 3 ms: with answers averaging 3-3.5 ms on the busy box the
# connections, not the service, capped what wrk sent (117 connections / 3.5 ms = 33,400 a second
# of 38,800 offered).
wrk_reads() {
  local rate=$1 seconds=$2 dir=$3 connections
  connections=$(awk -v r="$rate" -v b="${SURPLUS_WRK_BUDGET_MS:-10}" 'BEGIN { c = int(r * b / 1000 + 0.999); print (c < 32 ? 32 : c) }')
  # (a simulation that fails before then never writes it: the harness then stops this wait)
  until [[ -e $dir/subscribers-connected ]]; do sleep 0.2; done
  # the service's threads are read only when the harness started it (not with --url)
  local pid=$LOAD_SERVICE_PID
  [[ -z $pid ]] || thread_ticks "$pid" >"$dir/threads-before.txt"
  WRK_CONNECTIONS=$connections wrk_run reads "$rate" "$seconds" "$dir" WrkReads
  [[ -z $pid ]] || thread_cpu "$dir/threads-before.txt" <(thread_ticks "$pid") "$seconds" >"$dir/service-threads.txt"
}

# The bare route's ceiling by wrk for $1 s into <$2>/<$3>.properties; with a share $4, sets the
# caller's reads_rate (run_load's) to that share of it: the issue's line is a share.
wrk_ceiling() {
  local seconds=$1 dir=$2 name=$3 share=$4
  wrk_run alive 0 "$seconds" "$dir" "$name" || { echo "surplus load: the wrk ceiling failed; see $dir/$name.log" >&2; return 1; }
  [[ -n $share ]] || return 0
  reads_rate=$(awk -v s="$share" -F= '$1 == "perSecond" { printf "%d", s * $2 + 0.5 }' "$dir/$name.properties")
  [[ -n $reads_rate ]] || { echo "surplus load: no ceiling to take a share of" >&2; exit 1; }
  echo "== $name: reads offered at $reads_rate/s, $share of it" >&2
}

# Stops wrk_reads $1 if it still waits for subscribers that never all connected
# (<$2>/subscribers-connected missing).
stop_waiting_reads() {
  [[ -e $2/subscribers-connected ]] || kill "$1" 2>/dev/null || true
}

# One line on a JVM's stop-the-world pauses from its -Xlog:gc file: how many, median, p90, p99,
# longest and total (ms); both the service's and the generator's show in a request's latency.
gc_pauses() {
  local who=$1 file=$2
  [[ -f $file ]] || return 0
  grep -oE 'Pause [^(]*.* ([0-9]+\.[0-9]+)ms$' "$file" | grep -oE '[0-9]+\.[0-9]+ms$' | tr -d 'ms' | sort -g |
    awk -v who="$who" '{ v[NR] = $1; t += $1 } END {
      if (NR == 0) { printf "  GC pauses, %s: none\n", who; exit }
      printf "  GC pauses, %s: %d, median %.1f ms, p90 %.1f, p99 %.1f, longest %.1f, total %.0f ms\n",
        who, NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.999)], v[int(NR * 0.99 + 0.999)], v[NR], t }'
}

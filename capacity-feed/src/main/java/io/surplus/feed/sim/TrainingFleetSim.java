package io.surplus.feed.sim;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.SimEvent.Cause;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

/**
 * A discrete-event simulation of a Llama-style training fleet and the capacity feed its scheduler
 * sends. Deterministic: the same {@link SimConfig} and seed give an equal {@link SimResult}; all
 * randomness comes from one {@link SplittableRandom} per pool and process, split from the seed, and
 * time is simulated seconds from {@link SimConfig#start()}.
 *
 * <p>The model, per pool (each pool is one provider and runs one job at a time):
 *
 * <ul>
 *   <li><b>Runs and staging.</b> A pre-training run lasts {@code runMin..runMax}; then the next job
 *       is staged for an estimated {@code stagingMin..stagingMax}, during which every healthy node
 *       is offered (announced {@code announceLead} ahead). The staging really takes the estimate
 *       times {@code stagingFactorMin..stagingFactorMax}: an overrun is announced as {@code
 *       window.extended} {@code overrunLead} before the estimated end; an early finish as a planned
 *       {@code window.revoked} with a new end, {@code stagingNoticeSeconds} ahead.
 *   <li><b>Checkpoint-and-eval gaps.</b> After every {@code evalEvery} of training the run pauses
 *       {@code evalGapMin..evalGapMax} for a checkpoint and evals; {@code evalFraction} of the
 *       job's nodes run the evals and the rest is offered, announced {@code announceLead} ahead.
 *   <li><b>Spares.</b> {@code spareFraction} of the pool are hot spares, offered in rolling windows
 *       of {@code spareWindow}. When a job node fails or goes to maintenance, the job calls in a
 *       spare: a planned {@code window.revoked} of one node, {@code spareNoticeSeconds} ahead.
 *   <li><b>Failures.</b> Every healthy node fails at the Llama 3 rate (memoryless). A failed node
 *       leaves its windows at once (an emergency {@code window.revoked}), is repaired for a time
 *       drawn from {@code repairTime}, and comes back as a spare (or straight into a short job).
 *   <li><b>Planned maintenance.</b> At the Llama 3 planned rate, {@code maintenanceNodes} random
 *       nodes are announced for maintenance {@code maintenanceNotice} ahead (planned revocations of
 *       the windows holding them) and are out for {@code maintenanceMin..maintenanceMax}.
 * </ul>
 *
 * <p>A node that fails after it was announced to leave a window (a spare called in, which fails
 * during its notice) is not revoked from that window a second time: the feed counts nodes and
 * cannot say "the same node, sooner", so the earlier revocation stands.
 *
 * <p>No node is ever in two windows at once: a node joins a new window only when every window it is
 * in ends (for it) by the new window's start. Every planned revocation is sent at least the
 * window's {@code noticeSeconds} before its {@code at}.
 */
public final class TrainingFleetSim {

  private static final byte JOB = 0;
  private static final byte SPARE = 1;
  private static final byte IDLE = 2;
  private static final byte DOWN = 3;
  private static final byte JOINING = 4;

  private static final int GPUS_PER_NODE = 8;

  private final SimConfig c;
  private final long seed;
  private final long t0;
  private final long tEnd;
  private final double failureRate;
  private final double maintenanceRate;
  private final PriorityQueue<Action> queue =
      new PriorityQueue<>(Comparator.comparingLong(Action::time).thenComparingLong(Action::order));
  private final List<SimEvent> events = new ArrayList<>();
  private final List<Win> windows = new ArrayList<>();
  private final List<Pool> pools = new ArrayList<>();
  private long order;
  private long now;
  private long unexpected;
  private long planned;

  private TrainingFleetSim(SimConfig config, long seed) {
    this.c = config;
    this.seed = seed;
    this.t0 = config.start().getEpochSecond();
    this.tEnd = t0 + config.days() * 86_400L;
    this.failureRate = config.unexpectedPerNodeSecond();
    this.maintenanceRate = config.plannedPerNodeSecond();
  }

  /** Runs the simulation of {@code config} with {@code seed}. */
  public static SimResult run(SimConfig config, long seed) {
    return new TrainingFleetSim(config, seed).simulate();
  }

  private SimResult simulate() {
    SplittableRandom root = new SplittableRandom(seed);
    for (int i = 0; i < c.fleet().size(); i++) {
      pools.add(new Pool(i, c.fleet().get(i), root.split(), root.split(), root.split()));
    }
    now = t0;
    for (Pool p : pools) {
      p.init();
    }
    while (!queue.isEmpty() && queue.peek().time() < tEnd) {
      Action a = queue.poll();
      now = a.time();
      a.body().run();
    }
    now = tEnd;
    long training = 0;
    long down = 0;
    for (Pool p : pools) {
      p.accrue();
      training += p.trainingSeconds;
      down += p.downSeconds;
    }
    long offered = 0;
    List<SimResult.WindowSummary> summaries = new ArrayList<>(windows.size());
    for (Win w : windows) {
      for (int i = 0; i < w.nodes.length; i++) {
        long s = Math.max(w.start, t0);
        long e = Math.min(Math.min(w.end, w.leaveAt[i]), tEnd);
        offered += Math.max(0, e - s);
      }
      summaries.add(
          new SimResult.WindowSummary(
              w.pool.spec.name(), w.id, w.cause, w.nodes.length, w.start, w.end));
    }
    return new SimResult(
        c,
        seed,
        events,
        unexpected,
        planned,
        (long) c.fleetNodes() * (tEnd - t0),
        training,
        down,
        offered,
        summaries);
  }

  private void at(long time, Runnable body) {
    queue.add(new Action(time, order++, body));
  }

  private record Action(long time, long order, Runnable body) {}

  private static long seconds(Duration d) {
    return d.toSeconds();
  }

  private static long uniform(SplittableRandom rng, Duration min, Duration max) {
    long a = seconds(min);
    long b = seconds(max);
    return a == b ? a : a + rng.nextLong(b - a + 1);
  }

  private static long exponential(SplittableRandom rng, double ratePerSecond) {
    if (ratePerSecond <= 0) {
      return Long.MAX_VALUE / 4;
    }
    return Math.max(1, Math.round(-Math.log(1.0 - rng.nextDouble()) / ratePerSecond));
  }

  /** A window as the simulator tracks it: which nodes, and when each leaves. */
  private static final class Win {
    final Pool pool;
    final String id;
    final Cause cause;
    final long start;
    final int notice;
    final int[] nodes;
    final long[] leaveAt;
    long end;

    Win(Pool pool, String id, Cause cause, long start, long end, int notice, int[] nodes) {
      this.pool = pool;
      this.id = id;
      this.cause = cause;
      this.start = start;
      this.end = end;
      this.notice = notice;
      this.nodes = nodes;
      this.leaveAt = new long[nodes.length];
      java.util.Arrays.fill(leaveAt, Long.MAX_VALUE);
    }

    int indexOf(int node) {
      for (int i = 0; i < nodes.length; i++) {
        if (nodes[i] == node) {
          return i;
        }
      }
      throw new IllegalStateException("node " + node + " is not in window " + id);
    }

    /** When {@code node} stops being offered in this window. */
    long endFor(int node) {
      return Math.min(end, leaveAt[indexOf(node)]);
    }

    /** Nodes no revocation has taken yet. */
    int kept() {
      int k = 0;
      for (long l : leaveAt) {
        if (l == Long.MAX_VALUE) {
          k++;
        }
      }
      return k;
    }
  }

  /** One pool: its nodes, its job, its schedule and its feed sequence. */
  private final class Pool {
    final int index;
    final PoolSpec spec;
    final SplittableRandom failures;
    final SplittableRandom schedule;
    final SplittableRandom maintenance;
    final int n;
    final int jobTarget;
    final byte[] role;
    final int[] generation;
    final boolean[] pendingMaintenance;
    final boolean[] eval;
    final List<List<Win>> windowsOf;
    final String idPrefix;

    boolean running;
    int runId;
    long runEnd;
    boolean paused;
    int jobMembers;
    int joining;
    int evalCount;
    int healthy;
    long seq;
    long windowCounter;
    long lastAccrue;
    long trainingSeconds;
    long downSeconds;

    Pool(
        int index,
        PoolSpec spec,
        SplittableRandom failures,
        SplittableRandom schedule,
        SplittableRandom maintenance) {
      this.index = index;
      this.spec = spec;
      this.failures = failures;
      this.schedule = schedule;
      this.maintenance = maintenance;
      this.n = spec.nodes();
      this.jobTarget = n - (int) Math.round(n * c.spareFraction());
      this.role = new byte[n];
      this.generation = new int[n];
      this.pendingMaintenance = new boolean[n];
      this.eval = new boolean[n];
      this.windowsOf = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        windowsOf.add(new ArrayList<>(2));
      }
      this.idPrefix = spec.name().length() <= 48 ? spec.name() + ".w" : "p" + index + ".w";
    }

    void init() {
      lastAccrue = t0;
      healthy = n;
      running = true;
      runEnd = t0 + uniform(schedule, Duration.ofDays(1), c.runMax());
      for (int i = 0; i < n; i++) {
        role[i] = i < jobTarget ? JOB : SPARE;
        scheduleFailure(i);
      }
      jobMembers = jobTarget;
      scheduleRun(
          t0, t0 + seconds(c.announceLead()) + uniform(schedule, Duration.ZERO, c.evalEvery()));
      long firstMaintenance = t0 + exponential(maintenance, maintenanceRate * n);
      at(firstMaintenance, this::decideMaintenance);
    }

    /** Schedules the current run's spare windows, first gap, staging and end. */
    private void scheduleRun(long spareFrom, long firstGap) {
      int run = runId;
      at(spareFrom, () -> renewSpares(run));
      long lead = seconds(c.announceLead());
      at(firstGap - lead, () -> announceGap(run, firstGap));
      at(runEnd - lead, () -> announceStaging(run));
      at(runEnd, () -> endRun(run));
    }

    // ---- accounting ----

    void accrue() {
      long dt = now - lastAccrue;
      int training = running ? (paused ? evalCount : jobMembers) : 0;
      trainingSeconds += training * dt;
      downSeconds += (long) (n - healthy) * dt;
      lastAccrue = now;
    }

    // ---- failures and repair ----

    void scheduleFailure(int node) {
      int gen = ++generation[node];
      at(now + exponential(failures, failureRate), () -> fail(node, gen));
    }

    void fail(int node, int gen) {
      if (generation[node] != gen || role[node] == DOWN) {
        return;
      }
      accrue();
      unexpected++;
      takeBack(List.of(node), now, Long.MAX_VALUE, RevocationKind.EMERGENCY, Cause.NODE_FAILURE);
      pendingMaintenance[node] = false;
      int lost = leave(node);
      long repair = c.repairTime().sampleSeconds(failures);
      int back = ++generation[node];
      at(now + repair, () -> comeBack(node, back));
      for (int i = 0; i < lost; i++) {
        callInSpare();
      }
    }

    /** Takes {@code node} out of service; returns 1 if the job lost it and needs a spare. */
    int leave(int node) {
      byte was = role[node];
      role[node] = DOWN;
      healthy--;
      if (eval[node]) {
        eval[node] = false;
        if (paused) {
          evalCount--;
        }
      }
      if (was == JOB) {
        jobMembers--;
        return 1;
      }
      if (was == JOINING) {
        joining--;
        return 1;
      }
      return 0;
    }

    void comeBack(int node, int gen) {
      if (generation[node] != gen || role[node] != DOWN) {
        return;
      }
      accrue();
      healthy++;
      if (running && jobMembers + joining < jobTarget) {
        role[node] = JOB;
        jobMembers++;
      } else {
        role[node] = running ? SPARE : IDLE;
      }
      scheduleFailure(node);
    }

    /** The job replaces a lost node with the lowest-numbered available spare. */
    void callInSpare() {
      if (!running) {
        return;
      }
      long joinAt = now + c.spareNoticeSeconds();
      if (joinAt >= runEnd) {
        return;
      }
      for (int s = 0; s < n; s++) {
        if (role[s] == SPARE && !pendingMaintenance[s]) {
          role[s] = JOINING;
          joining++;
          takeBack(List.of(s), joinAt, runEnd, RevocationKind.PLANNED, Cause.SPARE_CALLED_IN);
          int gen = generation[s];
          int run = runId;
          int spare = s;
          at(joinAt, () -> join(spare, gen, run));
          return;
        }
      }
    }

    void join(int node, int gen, int run) {
      if (generation[node] != gen || role[node] != JOINING || run != runId) {
        return;
      }
      accrue();
      joining--;
      role[node] = JOB;
      jobMembers++;
    }

    // ---- planned maintenance ----

    void decideMaintenance() {
      planned++;
      List<Integer> candidates = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (role[i] != DOWN && !pendingMaintenance[i]) {
          candidates.add(i);
        }
      }
      List<Integer> chosen = new ArrayList<>();
      for (int k = 0; k < c.maintenanceNodes() && !candidates.isEmpty(); k++) {
        chosen.add(candidates.remove(maintenance.nextInt(candidates.size())));
      }
      chosen.sort(null);
      long start = now + seconds(c.maintenanceNotice());
      long length = uniform(maintenance, c.maintenanceMin(), c.maintenanceMax());
      for (int node : chosen) {
        pendingMaintenance[node] = true;
      }
      takeBack(chosen, start, Long.MAX_VALUE, RevocationKind.PLANNED, Cause.MAINTENANCE);
      at(start, () -> startMaintenance(chosen, length));
      at(now + exponential(maintenance, maintenanceRate * n), this::decideMaintenance);
    }

    void startMaintenance(List<Integer> nodes, long length) {
      accrue();
      int lost = 0;
      for (int node : nodes) {
        if (!pendingMaintenance[node] || role[node] == DOWN) {
          continue;
        }
        pendingMaintenance[node] = false;
        lost += leave(node);
        int back = ++generation[node];
        at(now + length, () -> comeBack(node, back));
      }
      for (int i = 0; i < lost; i++) {
        callInSpare();
      }
    }

    // ---- the run's schedule ----

    void renewSpares(int run) {
      if (run != runId || !running || now >= runEnd) {
        return;
      }
      long end = Math.min(now + seconds(c.spareWindow()), runEnd);
      List<Integer> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (role[i] == SPARE && !pendingMaintenance[i] && free(i, now, end)) {
          nodes.add(i);
        }
      }
      open(nodes, now, end, c.spareNoticeSeconds(), Cause.SPARES);
      if (end < runEnd) {
        at(end, () -> renewSpares(run));
      }
    }

    void announceGap(int run, long gapStart) {
      if (run != runId || !running) {
        return;
      }
      long gapEnd = gapStart + uniform(schedule, c.evalGapMin(), c.evalGapMax());
      if (gapEnd > runEnd) {
        return;
      }
      List<Integer> members = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (role[i] == JOB && !pendingMaintenance[i] && free(i, gapStart, gapEnd)) {
          members.add(i);
        }
      }
      int evals = (int) Math.ceil(members.size() * c.evalFraction());
      for (int i = 0; i < evals; i++) {
        eval[members.get(i)] = true;
      }
      open(
          members.subList(evals, members.size()),
          gapStart,
          gapEnd,
          c.gapNoticeSeconds(),
          Cause.CHECKPOINT_EVAL_GAP);
      at(gapStart, () -> pause(run, true));
      at(gapEnd, () -> pause(run, false));
      long next = gapEnd + seconds(c.evalEvery());
      at(next - seconds(c.announceLead()), () -> announceGap(run, next));
    }

    void pause(int run, boolean pause) {
      if (run != runId) {
        return;
      }
      accrue();
      paused = pause;
      evalCount = 0;
      for (int i = 0; i < n; i++) {
        if (pause && eval[i] && role[i] == JOB) {
          evalCount++;
        } else if (!pause) {
          eval[i] = false;
        }
      }
    }

    void announceStaging(int run) {
      if (run != runId) {
        return;
      }
      long start = runEnd;
      long estimate = uniform(schedule, c.stagingMin(), c.stagingMax());
      double factor =
          c.stagingFactorMin()
              + schedule.nextDouble() * (c.stagingFactorMax() - c.stagingFactorMin());
      long actual =
          Math.max(
              Math.round(estimate * factor),
              Math.max(seconds(c.minWindow()), now + c.stagingNoticeSeconds() - start));
      List<Integer> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (role[i] != DOWN && !pendingMaintenance[i] && free(i, start, Long.MAX_VALUE)) {
          nodes.add(i);
        }
      }
      List<Win> staged =
          open(nodes, start, start + estimate, c.stagingNoticeSeconds(), Cause.STAGING);
      long nextRun = start + actual;
      if (actual > estimate) {
        long when = Math.max(now, start + estimate - seconds(c.overrunLead()));
        at(when, () -> moveEnd(staged, nextRun, false));
      } else if (actual < estimate) {
        long when = Math.max(now, nextRun - c.stagingNoticeSeconds());
        at(when, () -> moveEnd(staged, nextRun, true));
      }
      at(nextRun, this::startRun);
    }

    void moveEnd(List<Win> staged, long newEnd, boolean earlier) {
      for (Win w : staged) {
        if (w.kept() == 0) {
          continue;
        }
        w.end = newEnd;
        Instant end = Instant.ofEpochSecond(newEnd);
        if (earlier) {
          emit(
              Cause.STAGING_DONE_EARLY,
              List.of(),
              seq -> WindowRevoked.endingAt(seq, w.id, RevocationKind.PLANNED, end));
        } else {
          emit(Cause.STAGING_OVERRAN, List.of(), seq -> new WindowExtended(seq, w.id, end));
        }
      }
    }

    void endRun(int run) {
      if (run != runId) {
        return;
      }
      accrue();
      running = false;
      paused = false;
      runId++;
      jobMembers = 0;
      joining = 0;
      evalCount = 0;
      for (int i = 0; i < n; i++) {
        eval[i] = false;
        if (role[i] != DOWN) {
          role[i] = IDLE;
        }
      }
    }

    void startRun() {
      accrue();
      running = true;
      runId++;
      runEnd = now + uniform(schedule, c.runMin(), c.runMax());
      for (int i = 0; i < n; i++) {
        if (role[i] == IDLE) {
          role[i] = jobMembers < jobTarget ? JOB : SPARE;
          if (role[i] == JOB) {
            jobMembers++;
          }
        }
      }
      scheduleRun(now, now + seconds(c.evalEvery()));
    }

    // ---- windows and the feed ----

    /** Whether no window holds {@code node} at any time in {@code [start, end)}. */
    boolean free(int node, long start, long end) {
      List<Win> ws = windowsOf.get(node);
      ws.removeIf(w -> w.end <= now);
      for (Win w : ws) {
        if (w.start < end && w.endFor(node) > start) {
          return false;
        }
      }
      return true;
    }

    /**
     * Offers {@code nodes} over {@code [start, end)}, split into windows of at most maxWindowNodes.
     */
    List<Win> open(List<Integer> nodes, long start, long end, int notice, Cause cause) {
      List<Win> opened = new ArrayList<>();
      if (nodes.isEmpty() || end - start < seconds(c.minWindow())) {
        return opened;
      }
      for (int from = 0; from < nodes.size(); from += c.maxWindowNodes()) {
        List<Integer> chunk =
            nodes.subList(from, Math.min(nodes.size(), from + c.maxWindowNodes()));
        int[] ids = chunk.stream().mapToInt(Integer::intValue).toArray();
        Win w = new Win(this, idPrefix + (++windowCounter), cause, start, end, notice, ids);
        windows.add(w);
        opened.add(w);
        for (int node : ids) {
          windowsOf.get(node).add(w);
        }
        int ppm = confidencePpm(cause, ids.length, end - start);
        emit(
            cause,
            chunk,
            seq ->
                new WindowOpened(
                    seq,
                    w.id,
                    spec.gpuModel(),
                    spec.name(),
                    spec.region(),
                    ids.length,
                    GPUS_PER_NODE,
                    Instant.ofEpochSecond(start),
                    Instant.ofEpochSecond(end),
                    spec.reservePrice(),
                    notice,
                    OptionalInt.of(ppm)));
      }
      return opened;
    }

    /**
     * The scheduler's estimate that no node of the window is taken back before its end, from the
     * model's own rates, to two decimals: failures and maintenance of its nodes and, for spares,
     * the job calling them in.
     */
    int confidencePpm(Cause cause, int nodes, long seconds) {
      double hazard = (failureRate + maintenanceRate * c.maintenanceNodes()) * nodes;
      if (cause == Cause.SPARES) {
        int spares = Math.max(1, n - jobTarget);
        hazard += failureRate * jobTarget * Math.min(1.0, nodes / (double) spares);
      }
      double p = Math.exp(-hazard * seconds);
      return (int) Math.round(p * 100) * 10_000;
    }

    /**
     * Takes {@code nodes} out of every window that would still hold them at or after {@code from}
     * and starts before {@code before}: one revocation per window, from {@code max(from, start)}.
     */
    void takeBack(List<Integer> nodes, long from, long before, RevocationKind kind, Cause cause) {
      Map<Win, List<Integer>> byWindow = new LinkedHashMap<>();
      for (int node : nodes) {
        List<Win> ws = windowsOf.get(node);
        ws.removeIf(w -> w.end <= now);
        for (Win w : ws) {
          // A node already announced to leave is not revoked again, even if it fails before it
          // leaves: the feed counts nodes, it cannot say "the same node, sooner".
          if (w.leaveAt[w.indexOf(node)] == Long.MAX_VALUE
              && w.endFor(node) > from
              && w.start < before) {
            byWindow.computeIfAbsent(w, k -> new ArrayList<>()).add(node);
          }
        }
      }
      for (Map.Entry<Win, List<Integer>> e : byWindow.entrySet()) {
        Win w = e.getKey();
        long at = Math.max(from, w.start);
        for (int node : e.getValue()) {
          w.leaveAt[w.indexOf(node)] = at;
        }
        Instant when = Instant.ofEpochSecond(at);
        int count = e.getValue().size();
        emit(cause, e.getValue(), seq -> WindowRevoked.nodes(seq, w.id, kind, when, count));
      }
    }

    void emit(Cause cause, List<Integer> nodes, LongFunction<FeedEvent> event) {
      events.add(
          new SimEvent(Instant.ofEpochSecond(now), spec.name(), event.apply(++seq), cause, nodes));
    }
  }
}

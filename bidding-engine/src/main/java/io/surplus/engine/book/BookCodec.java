package io.surplus.engine.book;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The book's canonical binary image: bids in priority order, windows and requeue specs by id,
 * leases in allocation order. Versioned by a leading magic number.
 */
final class BookCodec {

  private static final int MAGIC = 0x5355_5201; // "SUR" v1

  /** Set in the pricing byte when the book runs the repair pass. */
  private static final int REPAIR_BIT = 0x80;

  /** Set in the pricing byte when the book's repair pass ends with the re-pack phase. */
  private static final int REPACK_BIT = 0x40;

  /**
   * Set in a bid's flags byte when its minimum confidence and avoided pools follow (as an int, a
   * count byte and that many ints); a bid without them keeps the image it had before the fields.
   */
  private static final int STEERED_BIT = 0x10;

  /** In a requeue spec's flags byte (once a boolean, so 0 or 1 in older images). */
  private static final int SPEC_REQUEUE = 1;

  private static final int SPEC_REQUEUE_AVOIDS_POOL = 2;
  private static final int SPEC_STEERED = 4;

  private BookCodec() {}

  static byte[] write(
      OrderBook book,
      BidStore b,
      List<WindowCapacity> windows,
      List<BidSpec> requeue,
      int[] gains,
      long[] gainWindows,
      int gainCount) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + b.live() * 96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(book.clock().slotSeconds());
      out.writeInt(book.clock().horizonSlots());
      // the repair pass rides in the pricing byte's top bit: a book without it keeps its old image
      out.writeByte(
          book.pricing().ordinal()
              | (book.repair() ? REPAIR_BIT : 0)
              | (book.repack() ? REPACK_BIT : 0));
      out.writeLong(book.seq());
      out.writeLong(book.leaseSeq());
      out.writeLong(book.epoch());
      out.writeInt(book.nowSlot());

      int[] order = b.orderedSlots();
      out.writeInt(order.length);
      for (int s : order) {
        out.writeLong(b.id[s]);
        out.writeLong(b.account[s]);
        out.writeInt(b.nodes[s]);
        out.writeInt(b.minNodes[s]);
        out.writeInt(b.duration[s]);
        out.writeInt(b.earliest[s]);
        out.writeInt(b.latest[s]);
        out.writeLong(b.limit[s]);
        out.writeInt(b.minNotice[s]);
        out.writeLong(b.regions[s]);
        boolean steered = b.steered(s);
        out.writeByte(b.flags[s] | (steered ? STEERED_BIT : 0));
        out.writeLong(b.expiresAt[s]);
        out.writeLong(BidStore.seqOf(b.key[s]));
        out.writeByte(b.reason[s]);
        out.writeLong(b.failedEpoch[s]);
        if (steered) {
          writeSteering(out, b.minConf[s], b.avoidList(s));
        }
      }

      out.writeInt(windows.size());
      for (WindowCapacity w : windows) {
        WindowSpec sp = w.spec;
        out.writeLong(sp.id());
        out.writeLong(sp.provider());
        out.writeInt(sp.pool());
        out.writeInt(sp.region());
        out.writeInt(sp.nodes());
        out.writeInt(sp.gpusPerNode());
        out.writeInt(sp.startSlot());
        out.writeInt(sp.endSlot());
        out.writeLong(sp.reservePrice());
        out.writeInt(sp.noticeSeconds());
        out.writeInt(sp.confidencePpm());
        out.writeInt(w.end);
        for (int c : w.cap) {
          out.writeInt(c);
        }
        out.writeInt(w.leases.size());
        for (Lease l : w.leases) {
          out.writeLong(l.id());
          out.writeLong(l.bidId());
          out.writeLong(l.account());
          out.writeInt(l.nodes());
          out.writeInt(l.startSlot());
          out.writeInt(l.endSlot());
          out.writeLong(l.price());
          out.writeLong(l.limitPrice());
          out.writeLong(l.epoch());
        }
      }

      out.writeInt(requeue.size());
      for (BidSpec sp : requeue) {
        writeSpec(out, sp);
      }
      out.writeInt(gainCount);
      for (int i = 0; i < gainCount; i++) {
        out.writeInt(gains[2 * i]);
        out.writeInt(gains[2 * i + 1]);
        out.writeLong(gainWindows[i]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static OrderBook read(byte[] image) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(image))) {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException(
            "not a book snapshot: magic=" + Integer.toHexString(magic));
      }
      SlotClock clock = new SlotClock(in.readInt(), in.readInt());
      int rule = in.readByte() & 0xff;
      PricingRule pricing = PricingRule.values()[rule & ~(REPAIR_BIT | REPACK_BIT)];
      boolean repair = (rule & REPAIR_BIT) != 0;
      boolean repack = (rule & REPACK_BIT) != 0;
      long seq = in.readLong();
      long leaseSeq = in.readLong();
      long epoch = in.readLong();
      int nowSlot = in.readInt();

      int bidCount = in.readInt();
      OrderBook book = new OrderBook(clock, pricing, repair, repack, Math.max(16, bidCount));
      BidStore b = book.store();
      for (int i = 0; i < bidCount; i++) {
        BidHead head = BidHead.read(in);
        byte flags = in.readByte();
        long expiresAt = in.readLong();
        long bidSeq = in.readLong();
        byte reason = in.readByte();
        long failedEpoch = in.readLong();
        int minConf = 0;
        List<Integer> avoid = List.of();
        if ((flags & STEERED_BIT) != 0) {
          minConf = in.readInt();
          avoid = readPools(in);
        }
        BidSpec spec =
            head.spec(
                (flags & BidStore.FLAG_IOC) != 0
                    ? io.surplus.engine.TimeInForce.IOC
                    : io.surplus.engine.TimeInForce.GTC,
                expiresAt,
                (flags & BidStore.FLAG_REQUEUE) != 0,
                minConf,
                avoid,
                (flags & BidStore.FLAG_REQUEUE_AVOIDS_POOL) != 0);
        int s = b.add(spec, bidSeq);
        b.reason[s] = reason;
        b.failedEpoch[s] = failedEpoch;
      }
      b.mergePending();

      int windowCount = in.readInt();
      for (int i = 0; i < windowCount; i++) {
        WindowSpec sp =
            new WindowSpec(
                in.readLong(),
                in.readLong(),
                in.readInt(),
                in.readInt(),
                in.readInt(),
                in.readInt(),
                in.readInt(),
                in.readInt(),
                in.readLong(),
                in.readInt(),
                in.readInt());
        WindowCapacity w = new WindowCapacity(sp);
        int end = in.readInt();
        if (end != w.end) {
          w.extendTo(end);
        }
        for (int t = 0; t < w.cap.length; t++) {
          w.cap[t] = in.readInt();
        }
        int leases = in.readInt();
        for (int j = 0; j < leases; j++) {
          w.leases.add(
              new Lease(
                  in.readLong(),
                  in.readLong(),
                  in.readLong(),
                  sp.id(),
                  in.readInt(),
                  sp.gpusPerNode(),
                  in.readInt(),
                  in.readInt(),
                  in.readLong(),
                  in.readLong(),
                  in.readLong()));
        }
        w.recomputeFree();
        book.restoreWindow(w);
      }

      int requeueCount = in.readInt();
      for (int i = 0; i < requeueCount; i++) {
        book.restoreRequeueSpec(readSpec(in));
      }
      int gainCount = in.readInt();
      for (int i = 0; i < gainCount; i++) {
        book.restoreGain(in.readInt(), in.readInt(), in.readLong());
      }
      book.restoreCounters(seq, leaseSeq, epoch, nowSlot);
      return book;
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated or corrupt book snapshot", e);
    }
  }

  private static void writeSpec(DataOutputStream out, BidSpec sp) throws IOException {
    out.writeLong(sp.id());
    out.writeLong(sp.account());
    out.writeInt(sp.nodes());
    out.writeInt(sp.minNodes());
    out.writeInt(sp.durationSlots());
    out.writeInt(sp.earliestStart());
    out.writeInt(sp.latestEnd());
    out.writeLong(sp.limitPrice());
    out.writeInt(sp.minNoticeSeconds());
    out.writeLong(sp.regionMask());
    out.writeByte(sp.timeInForce().ordinal());
    out.writeLong(sp.expiresAtMillis());
    out.writeByte(
        (sp.requeue() ? SPEC_REQUEUE : 0)
            | (sp.requeueAvoidsPool() ? SPEC_REQUEUE_AVOIDS_POOL : 0)
            | (sp.steered() ? SPEC_STEERED : 0));
    if (sp.steered()) {
      writeSteering(out, sp.minConfidencePpm(), sp.avoidPools());
    }
  }

  private static void writeSteering(DataOutputStream out, int minConf, List<Integer> avoid)
      throws IOException {
    out.writeInt(minConf);
    out.writeByte(avoid.size());
    for (int p : avoid) {
      out.writeInt(p);
    }
  }

  private static List<Integer> readPools(DataInputStream in) throws IOException {
    int n = in.readByte() & 0xff;
    Integer[] pools = new Integer[n];
    for (int i = 0; i < n; i++) {
      pools[i] = in.readInt();
    }
    return List.of(pools);
  }

  private static BidSpec readSpec(DataInputStream in) throws IOException {
    BidHead head = BidHead.read(in);
    io.surplus.engine.TimeInForce tif = io.surplus.engine.TimeInForce.values()[in.readByte()];
    long expiresAt = in.readLong();
    int flags = in.readByte();
    boolean steered = (flags & SPEC_STEERED) != 0;
    int minConf = steered ? in.readInt() : 0;
    List<Integer> avoid = steered ? readPools(in) : List.of();
    return head.spec(
        tif,
        expiresAt,
        (flags & SPEC_REQUEUE) != 0,
        minConf,
        avoid,
        (flags & SPEC_REQUEUE_AVOIDS_POOL) != 0);
  }

  /**
   * The fields a bid's image opens with, the same in the book's bids and in requeue specs (what
   * follows them differs: flags, sequence and reason for a bid in the book; time in force and flags
   * for a spec).
   */
  private record BidHead(
      long id,
      long account,
      int nodes,
      int minNodes,
      int duration,
      int earliest,
      int latest,
      long limit,
      int minNotice,
      long regions) {

    /** Reads the fields in the order {@code write} and {@code writeSpec} write them. */
    static BidHead read(DataInputStream in) throws IOException {
      long id = in.readLong();
      long account = in.readLong();
      int nodes = in.readInt();
      int minNodes = in.readInt();
      int duration = in.readInt();
      int earliest = in.readInt();
      int latest = in.readInt();
      long limit = in.readLong();
      int minNotice = in.readInt();
      long regions = in.readLong();
      return new BidHead(
          id, account, nodes, minNodes, duration, earliest, latest, limit, minNotice, regions);
    }

    /** The bid these fields open, with the ones that follow them. */
    BidSpec spec(
        io.surplus.engine.TimeInForce tif,
        long expiresAt,
        boolean requeue,
        int minConf,
        List<Integer> avoid,
        boolean requeueAvoidsPool) {
      return new BidSpec(
          id,
          account,
          nodes,
          minNodes,
          duration,
          earliest,
          latest,
          limit,
          minNotice,
          regions,
          tif,
          expiresAt,
          requeue,
          minConf,
          avoid,
          requeueAvoidsPool);
    }
  }
}

package io.surplus.engine.book;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class InfeasibleStartsTest {

  @Test
  void shouldCoverWhatWasLearnedAndEveryLargerShape() {
    InfeasibleStarts memo = new InfeasibleStarts();
    memo.reset(1000, 300);
    memo.add(4, 8, 1010, 1100);
    memo.add(4, 8, 1101, 1200);
    assertTrue(memo.covers(4, 8, 1010, 1200)); // two ranges joined across word boundaries
    assertTrue(memo.covers(4, 8, 1063, 1064));
    assertFalse(memo.covers(4, 8, 1009, 1100));
    assertFalse(memo.covers(4, 8, 1010, 1201));
    assertFalse(memo.covers(3, 8, 1010, 1020)); // fewer nodes may still fit
    assertFalse(memo.covers(4, 7, 1010, 1020)); // so may a shorter run
    assertTrue(memo.covers(5, 9, 1010, 1020)); // more nodes for longer cannot
    assertTrue(memo.covers(200, 8, 1010, 1020)); // nor beyond the tracked node counts
    memo.reset(1000, 300);
    assertFalse(memo.covers(4, 8, 1010, 1020));
  }

  @Property(tries = 200)
  void shouldAgreeWithAPlainSetOfStarts(
      @ForAll @IntRange(min = 0, max = 299) int a,
      @ForAll @IntRange(min = 0, max = 299) int b,
      @ForAll @IntRange(min = 0, max = 299) int c,
      @ForAll @IntRange(min = 0, max = 299) int d) {
    InfeasibleStarts memo = new InfeasibleStarts();
    memo.reset(500, 300);
    boolean[] known = new boolean[300];
    memo.add(1, 1, 500 + Math.min(a, b), 500 + Math.max(a, b));
    for (int i = Math.min(a, b); i <= Math.max(a, b); i++) {
      known[i] = true;
    }
    boolean all = true;
    for (int i = Math.min(c, d); i <= Math.max(c, d); i++) {
      all &= known[i];
    }
    assertTrue(all == memo.covers(1, 1, 500 + Math.min(c, d), 500 + Math.max(c, d)));
  }

  @Property(tries = 300)
  void shouldKnowExactlyWhatSomeSmallerOrEqualShapeLearned(@ForAll long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    InfeasibleStarts memo = new InfeasibleStarts();
    int base = 1000;
    int span = 200;
    memo.reset(base, span);
    java.util.List<int[]> learned = new java.util.ArrayList<>();
    for (int step = 0; step < 40; step++) {
      int nodes = 1 + random.nextInt(80);
      int duration = 1 + random.nextInt(12);
      int first = base + random.nextInt(span);
      int last = Math.min(base + span - 1, first + random.nextInt(90));
      if (random.nextInt(3) == 0) {
        memo.add(nodes, duration, first, last);
        if (nodes <= InfeasibleStarts.MAX_TRACKED_NODES) {
          learned.add(new int[] {nodes, duration, first, last});
        }
        continue;
      }
      int expected = last + 1;
      for (int t = first; t <= last && expected > last; t++) {
        boolean known = false;
        for (int[] l : learned) {
          known |=
              l[0] <= Math.min(nodes, InfeasibleStarts.MAX_TRACKED_NODES)
                  && l[1] <= duration
                  && l[2] <= t
                  && t <= l[3];
        }
        if (!known) {
          expected = t;
        }
      }
      org.junit.jupiter.api.Assertions.assertEquals(
          expected, memo.firstUnknown(nodes, duration, first, last));
    }
  }
}

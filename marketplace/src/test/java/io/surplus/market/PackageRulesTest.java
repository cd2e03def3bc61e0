package io.surplus.market;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which way the marketplace's packages may depend on each other (docs/MARKETPLACE.md, "Packages"):
 * the shared leaves ({@code http}, {@code ids}, {@code settings}, and {@link CborSerializable})
 * depend on no feature; no package but {@code app} depends on {@code app}, which wires them all; no
 * feature but {@code app} depends on {@code bids}, the placement saga over accounts and markets;
 * and no feature reaches into another feature's routes (its HTTP layer) for anything.
 */
class PackageRulesTest {

  static final String ROOT = "io.surplus.market";

  static final String[] LEAVES = {ROOT + ".http..", ROOT + ".ids..", ROOT + ".settings.."};

  static final String[] FEATURES = {
    ROOT + ".accounts..",
    ROOT + ".bids..",
    ROOT + ".board..",
    ROOT + ".cassandra..",
    ROOT + ".feed..",
    ROOT + ".markets..",
    ROOT + ".readside..",
    ROOT + ".stream..",
    ROOT + ".webhooks..",
    ROOT + ".app.."
  };

  static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);
  }

  @Test
  void shouldKeepTheLeavesFreeOfFeatures() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAnyPackage(LEAVES)
            .or()
            .haveFullyQualifiedName(CborSerializable.class.getName())
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(FEATURES)
            .because("http, ids and settings are what every feature shares");
    rule.check(classes);
  }

  @Test
  void shouldLeaveTheWiringToApp() {
    noClasses()
        .that()
        .resideOutsideOfPackage(ROOT + ".app..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".app..")
        .because("app wires the features; none of them knows it")
        .check(classes);
  }

  @Test
  void shouldKeepTheBidsSagaOnTopOfTheAccountsAndMarketsItDrives() {
    noClasses()
        .that()
        .resideOutsideOfPackages(ROOT + ".bids..", ROOT + ".app..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".bids..")
        .because(
            "a bid's placement drives accounts and markets (and settles what a crash left"
                + " pending through Account.BookLookup); neither of them knows it")
        .check(classes);
  }

  @Test
  void shouldKeepEachFeaturesRoutesToItself() {
    classes()
        .that()
        .resideOutsideOfPackage(ROOT + ".app..")
        .should(keepOutOfOtherFeaturesRoutes())
        .because("a feature's routes only parse, call and render; what others need lives in a leaf")
        .check(classes);
  }

  /**
   * No dependency on a class named {@code *Routes} (or one nested in it) of another package: each
   * one found is a violation.
   */
  static ArchCondition<JavaClass> keepOutOfOtherFeaturesRoutes() {
    return new ArchCondition<>("not use another feature's routes") {
      @Override
      public void check(JavaClass origin, ConditionEvents events) {
        for (Dependency d : origin.getDirectDependenciesFromSelf()) {
          JavaClass target = d.getTargetClass();
          String topLevel = target.getName().split("\\$", 2)[0];
          if (topLevel.startsWith(ROOT + ".")
              && topLevel.endsWith("Routes")
              && !target.getPackageName().equals(origin.getPackageName())) {
            events.add(SimpleConditionEvent.violated(d, d.getDescription()));
          }
        }
      }
    };
  }
}

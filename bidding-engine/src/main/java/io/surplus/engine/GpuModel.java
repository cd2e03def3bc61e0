package io.surplus.engine;

import java.util.regex.Pattern;

/** A GPU model, such as {@code H100-SXM-80GB}; one market per model. */
public record GpuModel(String name) {

  private static final Pattern NAME = Pattern.compile("[A-Z0-9][A-Za-z0-9-]{1,39}");

  public GpuModel {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "gpuModel must be 2-40 letters, digits or '-', starting with a capital or digit: gpuModel="
              + name);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}

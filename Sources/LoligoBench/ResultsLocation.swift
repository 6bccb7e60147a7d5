/// Where a run writes its `result.json` and `per-second.csv`.
public enum ResultsLocation: Sendable, Equatable {
  /// A new `<UTC timestamp>-<name>` directory under this one (`--results DIR`): a run of its
  /// own.
  case newRunDirectory(under: String)
  /// This directory itself, created if need be (`--result-dir DIR`): a step of a profile run,
  /// whose directory the profile run chose.
  case directory(String)
}

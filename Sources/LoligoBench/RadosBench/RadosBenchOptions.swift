/// Validated settings of one `bench` run, defaults as in rados.
public struct RadosBenchOptions: Sendable {
  public static let defaultConcurrentIOs = 16
  public static let defaultOpSize: UInt64 = 1 << 22
  /// Beyond this an op buffer per slot is more memory than a benchmark should take by accident.
  public static let maxOpSize: UInt64 = 1 << 30

  public var seconds: Int
  public var mode: RadosBenchMode
  public var concurrentIOs = defaultConcurrentIOs
  /// Bytes per operation (`-b`).
  public var opSize = defaultOpSize
  /// Bytes per object (`-O`); at least `opSize`.
  public var objectSize = defaultOpSize
  /// 0: no cap. Otherwise `write` issues at most `maxObjects * writesPerObject` ops.
  public var maxObjects: UInt64 = 0
  public var cleanup = true
  /// The metadata object's name; `benchmark_last_metadata` when not given.
  public var runName: String?
  public var reuseBench = false
  public var hints = true
  public var verify = true
  public var showTime = false
  public var format = RadosBenchOutputFormat.plain
  /// Where formatted (JSON) output goes instead of stdout (`-o`).
  public var outputPath: String?
  /// `--results DIR` or `--result-dir DIR`: where Loligo's versioned result and per-second
  /// CSV go; nil: nowhere.
  public var results: ResultsLocation?
  /// For results only; the I/O object already addresses the pool.
  public var pool: String?
  /// Checked once the op size is known (reads and `--reuse-bench` take it from the metadata);
  /// nil: no check (tests).
  public var limits: RadosBenchLimits?

  public init(seconds: Int, mode: RadosBenchMode) {
    self.seconds = seconds
    self.mode = mode
  }

  /// `object_size / op_size`, as rados computes it (integer division).
  public var writesPerObject: UInt64 { max(objectSize / max(opSize, 1), 1) }

  /// Validates `arguments` in the order and with the messages of rados where rados has them.
  public init(parsing arguments: RadosBenchArguments) throws(RadosBenchUsageError) {
    // rados keeps seconds in an int.
    guard let seconds = Int(arguments.seconds), seconds >= 0, seconds <= Int32.max else {
      throw RadosBenchUsageError("Invalid value for seconds: '\(arguments.seconds)'")
    }
    guard let mode = RadosBenchMode(rawValue: arguments.mode) else {
      throw RadosBenchUsageError(
        "Invalid bench mode: '\(arguments.mode)' (expected write, seq or rand)")
    }
    self.init(seconds: seconds, mode: mode)
    if mode.isRead {
      // rados: -b and -O describe what write creates; reads take both from the metadata.
      if arguments.blockSize != nil {
        throw RadosBenchUsageError(
          "-b|--block_size option can be used only with 'write' bench test")
      }
      if arguments.objectSize != nil {
        throw RadosBenchUsageError(
          "-O|--object_size option can be used only with 'write' bench test")
      }
    }
    if let text = arguments.concurrentIOs {
      guard let value = Int(text), value >= 1, value <= 65536 else {
        throw RadosBenchUsageError(
          "Invalid value for concurrent-ios: '\(text)' (must be 1...65536)")
      }
      concurrentIOs = value
    }
    var objectSize: UInt64 = 0
    if let text = arguments.blockSize {
      opSize = try Self.size(text, name: "block-size")
    }
    if let text = arguments.objectSize {
      objectSize = try Self.size(text, name: "object-size")
    }
    // rados: no object size means one op per object; a smaller object shrinks the op.
    if objectSize == 0 {
      objectSize = opSize
    } else if objectSize < opSize {
      opSize = objectSize
    }
    self.objectSize = objectSize
    if let text = arguments.maxObjects {
      guard let value = UInt64(text) else {
        throw RadosBenchUsageError("Invalid value for max-objects: '\(text)'")
      }
      maxObjects = value
    }
    if let format = arguments.format {
      guard let value = RadosBenchOutputFormat(rawValue: format) else {
        throw RadosBenchUsageError(
          "Invalid value for format: '\(format)' (expected plain, json or json-pretty)")
      }
      self.format = value
    }
    if arguments.output != nil && arguments.format == nil {
      throw RadosBenchUsageError("-o|--output option can only be used with '--format' option")
    }
    if let name = arguments.runName, name.isEmpty {
      throw RadosBenchUsageError("Invalid value for run-name: ''")
    }
    cleanup = !arguments.noCleanup
    runName = arguments.runName
    reuseBench = arguments.reuseBench
    hints = !arguments.noHints
    verify = !arguments.noVerify
    showTime = arguments.showTime
    outputPath = arguments.output
    switch (arguments.resultsDirectory, arguments.resultDirectory) {
    case (let parent?, nil): results = .newRunDirectory(under: parent)
    case (nil, let directory?): results = .directory(directory)
    case (nil, nil): results = nil
    case (_?, _?): throw RadosBenchUsageError("give --results or --result-dir, not both")
    }
    pool = arguments.pool
  }

  private static func size(_ text: String, name: String) throws(RadosBenchUsageError) -> UInt64 {
    guard let value = RadosBenchSize.parse(text), value >= 1, value <= maxOpSize else {
      throw RadosBenchUsageError(
        "Invalid value for \(name): '\(text)' (a byte count from 1 to 1G, e.g. 4096, 4K, 4M)")
    }
    return value
  }
}

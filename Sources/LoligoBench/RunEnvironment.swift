import Foundation
import LoligoCore

/// What a result must say about where and how it was measured: the machine, the build, the
/// clock, and the exact command line.
public struct RunEnvironment: Codable, Sendable {
  public struct Machine: Codable, Sendable {
    public var hostname: String
    public var kernel: String
    public var cpuModel: String
    public var cpus: Int
    public var memoryBytes: UInt64

    enum CodingKeys: String, CodingKey {
      case hostname, kernel, cpus
      case cpuModel = "cpu_model"
      case memoryBytes = "memory_bytes"
    }
  }

  public struct Build: Codable, Sendable {
    public var loligoVersion: String
    public var configuration: String
    public var gitCommit: String

    enum CodingKeys: String, CodingKey {
      case configuration
      case loligoVersion = "loligo_version"
      case gitCommit = "git_commit"
    }
  }

  public struct Clock: Codable, Sendable {
    public var source: String
    public var cyclesPerSecond: Double
    public var calibrationWindows: Int
    public var fallbackReason: String?

    enum CodingKeys: String, CodingKey {
      case source
      case cyclesPerSecond = "cycles_per_second"
      case calibrationWindows = "calibration_windows"
      case fallbackReason = "fallback_reason"
    }
  }

  public var machine: Machine
  public var build: Build
  public var clock: Clock
  public var command: [String]
  public var startedUTC: String

  enum CodingKeys: String, CodingKey {
    case machine, build, clock, command
    case startedUTC = "started_utc"
  }

  public static let loligoVersion = "0.1.0"

  /// Describes this process now.
  public static func current(command: [String] = CommandLine.arguments) -> RunEnvironment {
    let calibration = Cycles.calibration
    return RunEnvironment(
      machine: currentMachine(),
      build: Build(
        loligoVersion: loligoVersion, configuration: buildConfiguration, gitCommit: gitCommit()),
      clock: Clock(
        source: calibration.source.rawValue, cyclesPerSecond: calibration.cyclesPerSecond,
        calibrationWindows: calibration.windows, fallbackReason: calibration.fallbackReason),
      command: command, startedUTC: utcTimestamp())
  }

  #if DEBUG
    public static let buildConfiguration = "debug"
  #else
    public static let buildConfiguration = "release"
  #endif

  static func currentMachine() -> Machine {
    var name = utsname()
    uname(&name)
    func field<T>(_ value: T) -> String {
      withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model =
      cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .flatMap { $0.split(separator: ":", maxSplits: 1).last }
      .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    return Machine(
      hostname: field(name.nodename), kernel: "\(field(name.sysname)) \(field(name.release))",
      cpuModel: model, cpus: ProcessInfo.processInfo.activeProcessorCount,
      memoryBytes: ProcessInfo.processInfo.physicalMemory)
  }

  /// The commit of the checkout the tool runs from (`LOLIGO_GIT_COMMIT` wins), or "unknown".
  static func gitCommit() -> String {
    if let fromEnv = ProcessInfo.processInfo.environment["LOLIGO_GIT_COMMIT"], !fromEnv.isEmpty {
      return fromEnv
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "--short=12", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
      process.waitUntilExit()
    } catch {
      return "unknown"
    }
    guard process.terminationStatus == 0 else { return "unknown" }
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// `2026-11-22T02:09:47Z`.
public func utcTimestamp(_ date: Date = Date()) -> String {
  let formatter = ISO8601DateFormatter()
  formatter.formatOptions = [.withInternetDateTime]
  return formatter.string(from: date)
}

import Foundation
import LoligoBench

/// One profile run's directory, `<results>/<UTC timestamp>-<profile>/`:
///
///     profile.toml        the profile as run, every default filled in
///     summary.json        `ProfileRunSummary`
///     steps/NN-<step>/    result.json, per-second.csv (as a standalone run writes them) and
///                         output.txt (what the step printed)
///     trace/              with `trace = true`: ctf/, summary.txt, trace.json, operations.csv
///
/// The summary is written before the first step and again as each step starts and ends, so a
/// run that fails or is interrupted still leaves one that says how far it got.
final class ProfileRun {
  static let profileFile = "profile.toml"
  static let summaryFile = "summary.json"
  static let traceDirectory = "trace"

  let directory: URL
  private(set) var summary: ProfileRunSummary

  /// Creates the run directory with the profile's copy and a summary listing `steps`, none
  /// run yet.
  init(profile: Profile, resultsDirectory: String, steps: [(name: String, kind: ProfileStepKind)])
    throws
  {
    directory = try ResultsWriter.newRunDirectory(under: resultsDirectory, name: profile.name)
    try ResultsWriter.atomicWrite(
      Data(profile.asRunTOML().utf8), to: directory.appendingPathComponent(Self.profileFile))
    summary = ProfileRunSummary(
      profile: profile.name, description: profile.description, kind: profile.kind,
      source: profile.path, environment: RunEnvironment.current(), startedUTC: utcTimestamp(),
      status: .running,
      steps: steps.enumerated().map { offset, step in
        ProfileRunSummary.Step(
          index: offset + 1, name: step.name, kind: step.kind, status: .notRun,
          directory: String(format: "steps/%02d-%@", offset + 1, step.name))
      })
    try save()
  }

  /// Runs step `index` (from 1): `executable` with the arguments `arguments` makes for the
  /// step's directory, its output shown and kept in `output.txt`. Records the step's status,
  /// times, files and figures; returns whether it succeeded.
  func runStep(_ index: Int, executable: String, arguments: (String) -> [String]) throws -> Bool {
    var step = summary.steps[index - 1]
    let stepDirectory = directory.appendingPathComponent(step.directory)
    try FileManager.default.createDirectory(at: stepDirectory, withIntermediateDirectories: true)
    let stepArguments = arguments(stepDirectory.path)
    step.command = [URL(fileURLWithPath: executable).lastPathComponent] + stepArguments
    step.status = .running
    step.startedUTC = utcTimestamp()
    try update(step)
    let started = Date()
    let output = "\(step.directory)/output.txt"
    let (status, lastLine) = try ProfileStepProcess.run(
      executable, stepArguments, output: directory.appendingPathComponent(output))
    try end(
      &step, started: started, output: output,
      error: status == 0 ? nil : lastLine ?? "exit status \(status)")
    return status == 0
  }

  /// Runs step `index` in this process: `body` works in the step's directory and prints
  /// through the function it is given (shown, and kept in `output.txt`); a throw fails the
  /// step with its message. `command` is what the summary says the step ran.
  func runInProcessStep(
    _ index: Int, command: [String], body: (URL, @escaping (String) -> Void) throws -> Void
  ) throws -> Bool {
    var step = summary.steps[index - 1]
    let stepDirectory = directory.appendingPathComponent(step.directory)
    try FileManager.default.createDirectory(at: stepDirectory, withIntermediateDirectories: true)
    step.command = command
    step.status = .running
    step.startedUTC = utcTimestamp()
    try update(step)
    let started = Date()
    let output = "\(step.directory)/output.txt"
    let outputURL = directory.appendingPathComponent(output)
    guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
      let file = FileHandle(forWritingAtPath: outputURL.path)
    else { throw ProfileError("cannot write \(outputURL.path)") }
    defer { try? file.close() }
    var failure: String?
    do {
      try body(stepDirectory) { line in
        say(line)
        file.write(Data((line + "\n").utf8))
      }
    } catch {
      failure = "\(error)"
      file.write(Data(("error: \(error)\n").utf8))
      say("error: \(error)")
    }
    try end(&step, started: started, output: output, error: failure)
    return failure == nil
  }

  /// Records a step's end: its times, files, figures and status.
  private func end(
    _ step: inout ProfileRunSummary.Step, started: Date, output: String, error: String?
  ) throws {
    step.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
    step.endedUTC = utcTimestamp()
    step.output = output
    let result = "\(step.directory)/result.json"
    if FileManager.default.fileExists(atPath: directory.appendingPathComponent(result).path) {
      step.result = result
      step.figures = step.kind.figures(result: directory.appendingPathComponent(result))
    }
    let csv = "\(step.directory)/per-second.csv"
    if FileManager.default.fileExists(atPath: directory.appendingPathComponent(csv).path) {
      step.perSecondCSV = csv
    }
    step.status = error == nil ? .ok : .failed
    step.error = error
    try update(step)
  }

  /// Sets the summary's recovery figures (a recovery profile's, as its steps end).
  func record(recovery: RecoverySummary) throws {
    summary.recovery = recovery
    try save()
  }

  /// Where a recorded trace goes; `traceRecorded()` once it is there.
  var traceURL: URL { directory.appendingPathComponent(Self.traceDirectory) }

  func traceRecorded() throws {
    summary.trace = Self.traceDirectory
    try save()
  }

  /// Ends the run: failed with `error` (what stopped it), or ok when every step was.
  func finish(error: String?) throws {
    summary.endedUTC = utcTimestamp()
    summary.error = error
    summary.status =
      error == nil && summary.steps.allSatisfy { $0.status == .ok } ? .ok : .failed
    try save()
  }

  private func update(_ step: ProfileRunSummary.Step) throws {
    summary.steps[step.index - 1] = step
    try save()
  }

  private func save() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(summary)
    data.append(0x0A)
    try ResultsWriter.atomicWrite(data, to: directory.appendingPathComponent(Self.summaryFile))
  }
}

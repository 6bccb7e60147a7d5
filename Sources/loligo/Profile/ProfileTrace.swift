import Foundation
import LoligoTraceExport

/// A profile run with `trace = true`: recorded with LTTng (every Loligo process the run starts
/// registers at start-up), then exported into the run directory's `trace/`: `ctf/` (the
/// trace), `summary.txt`, `trace.json` (Chrome/Perfetto) and `operations.csv`.
struct ProfileTrace {
  /// The run directory's `trace/`.
  let directory: String

  func record(_ run: () throws -> Void) throws {
    let ctf = directory + "/ctf"
    let recorder = TraceRecorder(output: ctf)
    do {
      _ = try recorder.record(run)
    } catch let error as TraceError {
      throw ProfileError("trace: \(error)")
    }
    let data: TraceData
    do {
      data = try TraceReader.read(trace: ctf)
    } catch let error as TraceReadError {
      throw ProfileError("trace export: \(error)")
    }
    let analysis = TraceAnalysis(data)
    let summary = StageReport.summary(data, analysis, path: ctf)
    try summary.write(toFile: directory + "/summary.txt", atomically: true, encoding: .utf8)
    try StageReport.csv(analysis).write(
      toFile: directory + "/operations.csv", atomically: true, encoding: .utf8)
    guard FileManager.default.createFile(atPath: directory + "/trace.json", contents: nil),
      let handle = FileHandle(forWritingAtPath: directory + "/trace.json")
    else { throw ProfileError("cannot write \(directory)/trace.json") }
    ChromeTrace.write(data, analysis) { handle.write(Data($0.utf8)) }
    try? handle.close()
    FileHandle.standardOutput.write(Data(summary.utf8))
    say("trace: \(directory) (ctf/, summary.txt, trace.json, operations.csv)")
  }
}

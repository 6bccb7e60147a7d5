import Foundation
import LoligoWire

/// libFuzzer entry point: every input is a byte stream from a hostile peer.
///
///     swift build -c release --product fuzz-frame-decoder --scratch-path .build-fuzz \
///       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
///     .build-fuzz/release/fuzz-frame-decoder Fuzz/corpus/frame-decoder -max_total_time=600
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  exerciseReceivePath(bytes)
  exerciseReceivePath(bytes, chunk: 7)
  return 0
}

#if FUZZING
  /// SwiftPM names the entry point itself, so hand control to libFuzzer's driver from it.
  @_silgen_name("LLVMFuzzerRunDriver")
  func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
  ) -> CInt

  @main
  struct FuzzMain {
    static func main() {
      var argc = CommandLine.argc
      var argv = CommandLine.unsafeArgv
      exit(llvmFuzzerRunDriver(&argc, &argv) { fuzzFrameDecoder($0, $1) })
    }
  }
#else
  /// Without libFuzzer: replays corpus files or directories given as arguments.
  @main
  struct ReplayCorpus {
    static func main() {
      var count = 0
      for argument in CommandLine.arguments.dropFirst() {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
          FileHandle.standardError.write(
            Data("fuzz-frame-decoder: no such file \(argument)\n".utf8))
          exit(2)
        }
        let files =
          isDirectory.boolValue
          ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).map {
            "\(argument)/\($0)"
          } : [argument]
        for file in files {
          guard let data = FileManager.default.contents(atPath: file) else { continue }
          let bytes = [UInt8](data) + [0]  // never empty, so there is always a base address
          bytes.withUnsafeBufferPointer { _ = fuzzFrameDecoder($0.baseAddress!, data.count) }
          count += 1
        }
      }
      print("replayed \(count) inputs")
    }
  }
#endif

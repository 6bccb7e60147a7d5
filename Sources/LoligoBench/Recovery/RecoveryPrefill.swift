import Foundation
import NIOCore

/// Writes every object of a recovery profile's dataset whole, every block at version 0,
/// `concurrency` objects in flight.
public enum RecoveryPrefill {
  /// The first write that failed.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Returns the seconds it took; throws the first failed write.
  public static func run(io: any ObjectIO, dataset: RecoveryDataset, concurrency: Int) throws
    -> Double
  {
    let started = Date()
    let slots = DispatchSemaphore(value: concurrency)
    let group = DispatchGroup()
    let failure = FirstFailure()
    for object in 0..<dataset.objects where failure.message == nil {
      var data = ByteBuffer()
      for block in 0..<dataset.blocksPerObject {
        dataset.fill(&data, object: object, block: block, version: 0)
      }
      slots.wait()
      group.enter()
      io.writeFull(RecoveryDataset.name(object), data: data) { result in
        if case .failure(let error) = result {
          failure.set("prefill of \(RecoveryDataset.name(object)): \(error)")
        }
        slots.signal()
        group.leave()
      }
    }
    group.wait()
    if let message = failure.message { throw Failure(description: message) }
    return Date().timeIntervalSince(started)
  }
}

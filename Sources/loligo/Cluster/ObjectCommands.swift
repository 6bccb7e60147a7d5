import ArgumentParser
import Foundation
import LoligoClient
import LoligoCore
import NIOCore

/// Options of the object commands: the pool (`-p`, also accepted before the command:
/// `loligo -p POOL put ...`) and the cluster file.
struct PoolOptions: ParsableArguments {
  @Option(name: [.short, .customLong("pool")], help: "Pool name.") var pool: String
  @Option(help: "Cluster file; else $LOLIGO_CONF, else ./loligo.toml.") var conf: String?

  func ioctx() throws -> (IoCtx, Objecter) {
    let config = try ClusterClient.config(path: conf)
    let objecter = try Objecter(config: config)
    do {
      return (try IoCtx(objecter: objecter, pool: pool), objecter)
    } catch {
      objecter.shutdown()
      throw ClusterError("\(error)")
    }
  }

  /// Runs `body` with a pool context, closing the client afterwards.
  func with<T>(_ body: (IoCtx) throws -> T) throws -> T {
    let (ioctx, objecter) = try ioctx()
    defer { objecter.shutdown() }
    do {
      return try body(ioctx)
    } catch let error as IoCtxError {
      throw ClusterError("\(error)")
    }
  }
}

struct PutCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "put", abstract: "Write FILE (or standard input with '-') as OBJECT.",
    discussion: "Example: loligo put -p rbd greeting ./hello.txt")
  @OptionGroup var options: PoolOptions
  @Argument(help: "Object name.") var object: String
  @Argument(help: "File to store, '-' for standard input.") var file: String

  func run() throws {
    // One write carries the whole object: what the cluster cannot take in one is refused
    // before it is read, or (standard input) as soon as more than that has arrived.
    let limit = WriteSizeLimit(config: try ClusterClient.config(path: options.conf))
    let data = try contents(limit: limit)
    try options.with { io in
      try io.sync { io.writeFull(object, data: ByteBuffer(bytes: data), completion: $0) }
    }
  }

  private func contents(limit: WriteSizeLimit) throws -> Data {
    let input: FileHandle
    if file == "-" {
      input = .standardInput
    } else {
      let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? UInt64
      if let size, let refusal = limit.refusal(of: size, what: file) {
        throw ClusterError(refusal)
      }
      guard let handle = FileHandle(forReadingAtPath: file) else {
        throw ClusterError("cannot read \(file)")
      }
      input = handle
    }
    var data = Data()
    while true {
      let chunk: Data?
      do {
        chunk = try input.read(upToCount: 1 << 20)
      } catch {
        throw ClusterError("cannot read \(file): \(error.localizedDescription)")
      }
      guard let chunk, !chunk.isEmpty else { return data }
      data.append(chunk)
      if let refusal = limit.refusal(
        of: UInt64(data.count), what: file == "-" ? "standard input" : file,
        sizeIsLowerBound: true)
      {
        throw ClusterError(refusal)
      }
    }
  }
}

struct GetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "get", abstract: "Read OBJECT into FILE (or standard output with '-').")
  @OptionGroup var options: PoolOptions
  @Argument(help: "Object name.") var object: String
  @Argument(help: "Output file, '-' for standard output.") var file: String = "-"

  func run() throws {
    let data = try options.with { io in try io.sync { io.read(object, completion: $0) } }
    let bytes = Data(data.readableBytesView)
    if file == "-" {
      FileHandle.standardOutput.write(bytes)
    } else {
      guard FileManager.default.createFile(atPath: file, contents: bytes) else {
        throw ClusterError("cannot write \(file)")
      }
    }
  }
}

struct StatCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stat", abstract: "Size and modification time of OBJECT.")
  @OptionGroup var options: PoolOptions
  @Argument(help: "Object name.") var object: String

  func run() throws {
    let stat = try options.with { io in try io.sync { io.stat(object, completion: $0) } }
    print("\(options.pool)/\(object) mtime \(utcStamp(stat.mtime)), size \(stat.size)")
  }

  func utcStamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
  }
}

struct RemoveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove OBJECT.")
  @OptionGroup var options: PoolOptions
  @Argument(help: "Object names.") var objects: [String]

  func run() throws {
    try options.with { io in
      for object in objects { try io.sync { io.remove(object, completion: $0) } }
    }
  }
}

struct ListObjectsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls", abstract: "List the objects of a pool.")
  @OptionGroup var options: PoolOptions

  func run() throws {
    let names = try options.with { io in try io.sync { io.list(completion: $0) } }
    for name in names { print(name) }
  }
}

/// Reading and writing the metadata object through an `ObjectIO`.
public enum RadosBenchMetadataStore {
  public enum FetchFailure: Error, Equatable {
    /// No metadata object, or an empty one: nothing was written (or it was cleaned up).
    case missing
    case unreadable(ObjectIOError)
    case corrupt(String)

    func description(_ name: String) -> String {
      switch self {
      case .missing: return "no bench metadata object \(name)"
      case .unreadable(let error): return "cannot read bench metadata object \(name): \(error)"
      case .corrupt(let reason): return "bench metadata object \(name) is corrupt: \(reason)"
      }
    }
  }

  public static func fetch(io: any ObjectIO, name: String) -> Result<
    RadosBenchMetadata, FetchFailure
  > {
    switch io.readSync(name, offset: 0, length: RadosBenchMetadata.encodedLength) {
    case .failure(let error) where error.isNotFound: return .failure(.missing)
    case .failure(let error): return .failure(.unreadable(error))
    case .success(let bytes):
      do throws(RadosBenchMetadata.DecodeFailure) {
        return .success(try RadosBenchMetadata(decoding: bytes))
      } catch {
        switch error {
        case .empty: return .failure(.missing)
        case .corrupt(let reason): return .failure(.corrupt(reason))
        }
      }
    }
  }

  public static func store(_ metadata: RadosBenchMetadata, io: any ObjectIO, name: String)
    -> Result<Void, ObjectIOError>
  {
    io.writeFullSync(name, data: metadata.encoded())
  }
}

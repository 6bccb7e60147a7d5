/// What the op path's tracepoints record as a store result: 0 or the client-facing errno.
extension Result where Success == Void, Failure == StoreError {
  var traceCode: Int32 {
    switch self {
    case .success: return 0
    case .failure(let error): return error.code
    }
  }
}

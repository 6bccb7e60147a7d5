// RocksDB's C API (librocksdb-dev), imported as a system library.
#include <rocksdb/c.h>

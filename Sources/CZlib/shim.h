// zlib (zlib1g-dev), imported as a system library: HdrHistogram's compressed encoding is a
// zlib stream.
#include <zlib.h>

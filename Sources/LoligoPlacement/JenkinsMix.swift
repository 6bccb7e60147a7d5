/// Bob Jenkins' 96-bit mix (lookup2), the step under both CRUSH's hashes (`CrushHash`) and the
/// rjenkins object-name hash (`CephStringHash`); mutates all three words, the result is read
/// from `c`. Wraps modulo 2^32 like the C unsigned arithmetic it mirrors.
@inline(__always)
func jenkinsMix(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
  a = a &- b &- c
  a ^= c >> 13
  b = b &- c &- a
  b ^= a << 8
  c = c &- a &- b
  c ^= b >> 13
  a = a &- b &- c
  a ^= c >> 12
  b = b &- c &- a
  b ^= a << 16
  c = c &- a &- b
  c ^= b >> 5
  a = a &- b &- c
  a ^= c >> 3
  b = b &- c &- a
  b ^= a << 10
  c = c &- a &- b
  c ^= b >> 15
}

import CLoligoTrace

/// Paxos's tracepoints (provider `loligo_mon`), fired by the consensus core as it decides; the
/// daemon applies the resulting store writes and messages right after.
public enum MonTrace {
  @inlinable
  public static func paxosBegin(rank: Int, version: UInt64, pn: UInt64, bytes: Int) {
    guard loligo_tp_on(loligo_tp_mon_paxos_begin_state) != 0 else { return }
    loligo_tp_mon_paxos_begin(
      Int32(truncatingIfNeeded: rank), version, pn, UInt32(truncatingIfNeeded: bytes))
  }

  @inlinable
  public static func paxosAccept(rank: Int, from: Int, version: UInt64) {
    guard loligo_tp_on(loligo_tp_mon_paxos_accept_state) != 0 else { return }
    loligo_tp_mon_paxos_accept(
      Int32(truncatingIfNeeded: rank), Int32(truncatingIfNeeded: from), version)
  }

  @inlinable
  public static func paxosCommit(rank: Int, version: UInt64, leader: Bool) {
    guard loligo_tp_on(loligo_tp_mon_paxos_commit_state) != 0 else { return }
    loligo_tp_mon_paxos_commit(Int32(truncatingIfNeeded: rank), version, leader ? 1 : 0)
  }
}

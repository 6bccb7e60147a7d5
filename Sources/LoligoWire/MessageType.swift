/// Message type numbers (`ceph_msg_header2.type`), the one list every module uses. Ceph's
/// messages keep Ceph's numbers, named here by their Ceph constants (`CEPH_MSG_*` from
/// include/ceph_fs.h, `MSG_*` from src/msg/Message.h), so a Ceph peer or trace reads them
/// alike. Loligo's own messages take numbers from 0x4D00 on, far above Ceph's.
public enum MessageType {
  // Ceph's.

  /// `CEPH_MSG_MON_MAP`
  public static let monMap: UInt16 = 4
  /// `CEPH_MSG_MON_SUBSCRIBE`
  public static let monSubscribe: UInt16 = 15
  /// `CEPH_MSG_OSD_MAP`
  public static let osdMap: UInt16 = 41
  /// `CEPH_MSG_OSD_OP`
  public static let osdOp: UInt16 = 42
  /// `CEPH_MSG_OSD_OPREPLY`
  public static let osdOpReply: UInt16 = 43
  /// `MSG_MON_COMMAND`
  public static let monCommand: UInt16 = 50
  /// `MSG_MON_COMMAND_ACK`
  public static let monCommandReply: UInt16 = 51
  /// `MSG_OSD_PING`
  public static let osdPing: UInt16 = 70
  /// `MSG_OSD_REPOP`
  public static let osdRepOp: UInt16 = 112
  /// `MSG_OSD_REPOPREPLY`
  public static let osdRepOpReply: UInt16 = 113

  // Loligo's own range, from 0x4D00.

  /// Monitor-to-monitor protocol messages (election, Paxos, probe, sync, forwards); Ceph has
  /// one type for each, Loligo one for all, its front tagged by `MonMessage`.
  public static let monPeer: UInt16 = 0x4D00
  /// OSD-to-OSD messages about a PG (peering, replicated writes, recovery, backfill): Ceph
  /// has MOSDPGQuery, MOSDPGNotify, MOSDPGLog, MOSDRepOp, MOSDPGPush and more; Loligo one
  /// type, its front tagged by `PGMessage`.
  public static let osdPG: UInt16 = 0x4D01
  /// Deep scrub between OSDs: a primary's request for a member's scrub map, and the map.
  public static let osdScrub: UInt16 = 0x4D02
}
